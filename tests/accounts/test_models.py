"""The hobby table that the data migration fills, and hobby names in both languages."""

import pytest
from django.utils import translation

from accounts.models import Hobby, Profile

pytestmark = pytest.mark.django_db


def test_data_migration_creates_five_hobbies_with_ids_1_to_5():
    assert list(Hobby.objects.values_list("id", "name")) == [
        (1, "Reading"),
        (2, "Music"),
        (3, "Hiking"),
        (4, "Cooking"),
        (5, "Chess"),
    ]


def test_hobby_names_are_translated_when_shown():
    hobby = Hobby.objects.get(id=1)

    with translation.override("zh-hans"):
        chinese = str(hobby)
    with translation.override("en"):
        english = str(hobby)

    assert english == "Reading"
    assert chinese == "阅读"


def test_hobby_added_later_without_translation_shows_its_own_name():
    hobby = Hobby.objects.create(name="Kite flying")

    with translation.override("zh-hans"):
        assert str(hobby) == "Kite flying"


def test_gender_values_are_the_seeds_1_and_2():
    assert [value for value, _label in Profile.Gender.choices] == ["1", "2"]
    with translation.override("zh-hans"):
        assert [str(label) for _value, label in Profile.Gender.choices] == ["女", "男"]


def test_the_database_refuses_an_email_address_another_account_has_in_any_case(
    django_user_model,
):
    from django.db import IntegrityError, transaction

    django_user_model.objects.create_user("ann", "Ann@Example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        django_user_model.objects.create_user("ann2", "ann@example.com")
    # The empty address (createsuperuser's default) is nobody's.
    django_user_model.objects.create_user("root1", "")
    django_user_model.objects.create_user("root2", "")
