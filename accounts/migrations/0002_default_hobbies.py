"""Fill the hobby table with the five hobbies the registration form offers, ids 1 to 5.

The seed's form has five hard-coded choices with ids 1 to 5 and the default selection 1, 3, 5;
these ids keep that contract. The names are copied here, not imported from the models, so that
this migration keeps meaning the same thing when the models module changes.
"""

from django.db import migrations

DEFAULT_HOBBIES = [
    (1, "Reading"),
    (2, "Music"),
    (3, "Hiking"),
    (4, "Cooking"),
    (5, "Chess"),
]


def create_default_hobbies(apps, schema_editor):
    Hobby = apps.get_model("accounts", "Hobby")
    for hobby_id, name in DEFAULT_HOBBIES:
        Hobby.objects.update_or_create(id=hobby_id, defaults={"name": name})


def delete_default_hobbies(apps, schema_editor):
    Hobby = apps.get_model("accounts", "Hobby")
    Hobby.objects.filter(id__in=[hobby_id for hobby_id, _ in DEFAULT_HOBBIES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_default_hobbies, delete_default_hobbies),
    ]
