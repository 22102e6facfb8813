"""register_user writes the user and its profile in one transaction."""

import pytest
from django.contrib.auth import get_user_model
from django.db import DatabaseError

from accounts import services
from accounts.models import Hobby, Profile
from tests.support.accounts import STRONG_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_register_user_creates_user_profile_and_hobbies(default_hobbies):
    user = services.register_user(
        username="erin",
        password=STRONG_PASSWORD,
        gender="2",
        hobbies=Hobby.objects.filter(id__in=[1, 2]),
    )

    assert user.check_password(STRONG_PASSWORD)
    assert user.profile.gender == "2"
    assert sorted(user.profile.hobbies.values_list("id", flat=True)) == [1, 2]


def test_register_user_leaves_no_user_behind_when_the_profile_fails():
    # The user row is written first; a gender too long for its column (strict mode) then fails
    # the profile insert, and the transaction must take the user with it.
    with pytest.raises(DatabaseError):
        services.register_user(
            username="erin", password=STRONG_PASSWORD, gender="too long", hobbies=[]
        )

    assert not get_user_model().objects.filter(username="erin").exists()
    assert not Profile.objects.exists()
