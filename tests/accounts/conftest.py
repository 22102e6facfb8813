"""Fixtures for the accounts tests: form data, clean throttle counters."""

import pytest

from tests.support.accounts import STRONG_PASSWORD


@pytest.fixture(autouse=True)
def _without_login_failures(clean_login_throttle):
    """Every accounts test starts and ends without failure counters (tests/conftest.py)."""


@pytest.fixture
def register_data():
    """Valid registration form data; pass overrides to break one rule at a time."""

    def build(**overrides):
        data = {
            "username": "alice",
            "email": "alice@example.com",
            "password": STRONG_PASSWORD,
            "repassword": STRONG_PASSWORD,
            "gender": "1",
            "hobby": ["1", "3"],
        }
        data.update(overrides)
        return data

    return build
