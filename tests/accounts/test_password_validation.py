"""The project's password validators (NIST SP 800-63B) and the hashers: Argon2 first, older
PBKDF2 hashes upgraded at the next login."""

import pytest
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError

from accounts.password_validation import password_length_limits
from tests.support.accounts import STRONG_PASSWORD, login


def codes_of(password):
    try:
        password_validation.validate_password(password)
    except ValidationError as error:
        return [item.code for item in error.error_list]
    return []


@pytest.mark.parametrize(
    ("password", "codes"),
    [
        ("Kite-Or", ["password_too_short"]),
        ("Kite-Orb", []),
        ("Kite-Orbit " * 11 + "x" * 7, []),
        ("Kite-Orbit " * 11 + "x" * 8, ["password_too_long"]),
        (" " * 8, ["password_entirely_whitespace"]),
        ("\t \n \u3000   ", ["password_entirely_whitespace"]),
        ("  kite orbit  ", []),
    ],
)
def test_validators_allow_8_to_128_characters_and_refuse_whitespace_only(password, codes):
    assert codes_of(password) == codes


def test_length_limits_and_help_texts_come_from_the_configured_validators():
    texts = [str(text) for text in password_validation.password_validators_help_texts()]

    assert password_length_limits() == (8, 128)
    assert any("128" in text for text in texts)
    assert len(texts) == len(password_validation.get_default_password_validators())


def test_new_passwords_are_hashed_with_argon2(make_user):
    user = make_user()

    assert user.password.startswith("argon2$argon2id$")


@pytest.mark.django_db
def test_a_pbkdf2_hash_is_upgraded_to_argon2_at_the_next_login(client, make_user):
    user = make_user()
    user.password = make_password(STRONG_PASSWORD, hasher="pbkdf2_sha256")
    user.save(update_fields=["password"])

    assert login(client).status_code == 302

    user.refresh_from_db()
    assert user.password.startswith("argon2$")
    assert user.check_password(STRONG_PASSWORD)
