"""The start-up check on mail: in production it names what password-reset mail lacks."""

from core.checks import EMAIL_NOT_CONFIGURED, check_email_configured


def test_production_without_email_url_gets_a_warning_naming_what_is_missing(settings):
    settings.DEBUG = False
    settings.EMAIL_URL = ""
    settings.DEFAULT_FROM_EMAIL = "webmaster@localhost"

    [warning] = check_email_configured()

    assert warning.id == EMAIL_NOT_CONFIGURED
    assert "EMAIL_URL" in warning.msg
    assert "DEFAULT_FROM_EMAIL" in warning.msg


def test_production_with_email_url_and_sender_passes(settings):
    settings.DEBUG = False
    settings.EMAIL_URL = "smtp://127.0.0.1:25"
    settings.DEFAULT_FROM_EMAIL = "chat@example.com"

    assert check_email_configured() == []


def test_development_needs_no_mail_settings(settings):
    settings.DEBUG = True
    settings.EMAIL_URL = ""

    assert check_email_configured() == []
