"""Fixtures for the accounts tests: registered users, form data, clean throttle counters."""

import contextlib

import pytest
from django.contrib.sessions.backends.file import SessionStore as FileSessionStore
from django.core.cache import cache

from accounts import services
from accounts.models import Hobby
from accounts.selectors import THROTTLE_KEY_PREFIX
from tests.accounts.helpers import STRONG_PASSWORD


@pytest.fixture(autouse=True)
def clean_login_throttle():
    """Every test starts and ends without failure counters (they live in the shared Redis)."""
    cache.delete_pattern(f"{THROTTLE_KEY_PREFIX}:*")
    yield
    cache.delete_pattern(f"{THROTTLE_KEY_PREFIX}:*")


@pytest.fixture
def register_data():
    """Valid registration form data; pass overrides to break one rule at a time."""

    def build(**overrides):
        data = {
            "username": "alice",
            "password": STRONG_PASSWORD,
            "repassword": STRONG_PASSWORD,
            "gender": "1",
            "hobby": ["1", "3"],
        }
        data.update(overrides)
        return data

    return build


@pytest.fixture
def make_user(db):
    """Create a registered user (with profile) through the registration service."""

    def make(username="alice", password=STRONG_PASSWORD, gender="2", hobby_ids=(2, 4)):
        return services.register_user(
            username=username,
            password=password,
            gender=gender,
            hobbies=Hobby.objects.filter(id__in=hobby_ids),
        )

    return make


@pytest.fixture
def alice(make_user):
    return make_user()


@pytest.fixture
def file_session_settings(settings, tmp_path):
    """The file session engine writing into a fresh directory."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.file"
    settings.SESSION_FILE_PATH = str(tmp_path)
    # The file engine caches its directory on the class; forget it on both sides of the test.
    _forget_file_storage_path()
    yield tmp_path
    _forget_file_storage_path()


def _forget_file_storage_path():
    with contextlib.suppress(AttributeError):
        del FileSessionStore._storage_path
