"""English and Simplified Chinese: Accept-Language, the switcher, and the shipped catalogue."""

import ast
import gettext

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from accounts.forms import LoginForm, RegisterForm
from tests.support.accounts import login
from tests.support.servers import PROJECT_DIR

pytestmark = pytest.mark.django_db

CATALOGUE = PROJECT_DIR / "locale" / "zh_Hans" / "LC_MESSAGES"
CHINESE = {"Accept-Language": "zh-hans"}


def test_register_errors_are_in_chinese_with_accept_language_zh_hans(client, register_data):
    response = client.post(
        "/accounts/register/",
        register_data(username="", password="ab", repassword="ab", hobby=["1"]),
        headers=CHINESE,
    )

    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    # The seed's own wording (with its typo 不再 corrected to 不在).
    assert "用户名不能为空" in html
    assert "密码长度不在范围之内" in html
    assert "爱好数量不在范围之内" in html


def test_register_labels_and_choices_are_in_chinese(client):
    html = client.get("/accounts/register/", headers=CHINESE).content.decode()

    for label in ["用户名", "密码", "确认密码", "性别", "爱好", "女", "男", "阅读", "国际象棋"]:
        assert label in html, label


def test_chinese_accept_language_variants_fall_back_to_simplified_chinese(client):
    html = client.get("/accounts/login/", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).content

    assert '<html lang="zh-hans">' in html.decode()


def test_wrong_credentials_message_is_translated(client, alice):
    english = login(client, password="not-it-123").content.decode()
    chinese = login(client, password="not-it-123", headers=CHINESE).content.decode()

    with translation.override("en"):
        english_message = str(LoginForm.error_messages["invalid_login"])
    assert english_message in english
    assert english_message not in chinese
    assert "用户名或密码错误" in chinese


def test_every_register_message_has_a_chinese_translation():
    messages = list(RegisterForm.error_messages.values())
    for field in RegisterForm.base_fields.values():
        messages += [
            message
            for code, message in field.error_messages.items()
            if code in {"required", "min_length", "max_length", "invalid", "invalid_choice"}
        ]

    with translation.override("zh-hans"):
        untranslated = [str(message) for message in messages if str(message).isascii()]

    assert untranslated == []


def test_language_switcher_switches_to_chinese_and_back(client):
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert '<html lang="zh-hans">' in client.get("/accounts/login/").content.decode()

    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert '<html lang="en">' in client.get("/accounts/login/").content.decode()


def test_language_switch_needs_no_csrf_token_and_pages_without_forms_carry_none():
    # set_language is exempt on purpose (docs/accounts.md): the switcher on every page carries
    # no token, so a page without a form neither renders one nor sets the CSRF cookie. (The
    # home page asks for the cookie on purpose: core/views.py HomeView.)
    browser = Client(enforce_csrf_checks=True)
    home = browser.get("/echo/")
    switched = browser.post("/i18n/setlang/", {"language": "zh-hans", "next": "/echo/"})

    assert "csrfmiddlewaretoken" not in home.content.decode()
    assert settings.CSRF_COOKIE_NAME not in home.cookies
    assert switched.status_code == 302
    assert switched["Location"] == "/echo/"
    assert '<html lang="zh-hans">' in browser.get("/echo/").content.decode()


def test_language_switch_redirects_only_within_this_site():
    browser = Client(enforce_csrf_checks=True)
    switched = browser.post(
        "/i18n/setlang/", {"language": "zh-hans", "next": "https://evil.example/"}
    )

    assert switched.status_code == 302
    assert switched["Location"] == "/"


def test_forms_that_change_something_still_need_the_csrf_token(make_user):
    browser = Client(enforce_csrf_checks=True)
    user = make_user("alice")
    browser.force_login(user)

    refused = browser.post("/accounts/logout/")

    assert refused.status_code == 403


# ------------------------------------------------------------------------------------------------
# The committed catalogue: complete, and its compiled .mo in step with the .po
# ------------------------------------------------------------------------------------------------


def read_po(path):
    """{msgid: [msgstr, ...]} of a .po file, with the flags of each entry (small reader)."""
    entries, flags = {}, {}
    current, field, entry_flags = {}, None, set()

    def finish():
        if current.get("msgid"):
            key = current["msgid"]
            if "msgid_plural" in current:
                key = (current["msgid"], current["msgid_plural"])
            strings = [current[name] for name in sorted(current) if name.startswith("msgstr")]
            entries[key] = strings
            flags[key] = set(entry_flags)

    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            finish()
            current, field, entry_flags = {}, None, set()
        elif line.startswith("#,"):
            entry_flags |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            current[field] += ast.literal_eval(line)
        else:
            field, _, value = line.partition(" ")
            current[field] = ast.literal_eval(value)
    return entries, flags


def test_catalogue_has_no_untranslated_or_fuzzy_entries():
    entries, flags = read_po(CATALOGUE / "django.po")

    assert entries
    assert [key for key, strings in entries.items() if not all(strings)] == []
    assert [key for key, entry_flags in flags.items() if "fuzzy" in entry_flags] == []


def test_compiled_catalogue_matches_the_po_file():
    entries, _flags = read_po(CATALOGUE / "django.po")
    with (CATALOGUE / "django.mo").open("rb") as mo_file:
        compiled = gettext.GNUTranslations(mo_file)

    stale = []
    for key, strings in entries.items():
        if isinstance(key, tuple):
            actual = compiled.ngettext(key[0], key[1], 1)
        else:
            actual = compiled.gettext(key)
        if actual != strings[0]:
            stale.append(key)

    assert stale == [], "run msgfmt -o locale/zh_Hans/LC_MESSAGES/django.mo on the .po"


def test_makemessages_reads_the_messages_of_the_jinja2_pages():
    from django.template import engines

    from core.management.commands.makemessages import jinja2_engine_for, jinja2_to_python

    path = PROJECT_DIR / "templates" / "jinja2" / "accounts" / "login_throttled.html"
    engine = jinja2_engine_for(path)
    assert engine is engines["jinja2"]
    python = jinja2_to_python(engine, path.read_text(encoding="utf-8")).splitlines()

    assert python[1] == "gettext('Too many attempts')"
    assert python[6].startswith(
        "ngettext('There have been too many failed logins for this account from your network "
        "address. Try again in %(minutes)s minute.', "
    )
    assert jinja2_engine_for(PROJECT_DIR / "accounts" / "forms.py") is None


@pytest.mark.parametrize(
    ("url", "chinese"),
    [
        ("/accounts/password_reset/", "忘记密码"),
        ("/accounts/logout/", "要退出登录吗"),
        ("/accounts/register/", "仅用于重置密码"),
    ],
)
def test_account_pages_are_in_chinese_with_accept_language_zh_hans(client, url, chinese):
    assert chinese in client.get(url, headers=CHINESE).content.decode()


def test_password_help_texts_are_the_validators_own_in_chinese(client):
    html = client.get("/accounts/register/", headers=CHINESE).content.decode()

    assert "您的密码最多可以包含 128 个字符" in html
    assert "您的密码不能只包含空格" in html
