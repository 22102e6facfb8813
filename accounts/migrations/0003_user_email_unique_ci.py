"""E-mail addresses unique ignoring case, guaranteed by the database: the forms check first
(clear errors), this index settles two registrations racing for one address.

The user table is Django's own (``auth_user``), so the index is raw SQL, outside Django's model
state: on MariaDB/MySQL a virtual column ``LOWER(email)`` (NULL for the empty address, which
accounts made by ``createsuperuser`` may share) with a unique index; on SQLite a unique partial
index on ``lower(email)``. Both compare like the forms' ``email__iexact`` on that database.
"""

from django.db import migrations
from django.db.models import Count
from django.db.models.functions import Lower

INDEX = "accounts_user_email_ci_uniq"
COLUMN = "accounts_email_ci"


def _table(apps):
    return apps.get_model("auth", "User")._meta.db_table


def refuse_duplicates(apps, schema_editor):
    users = apps.get_model("auth", "User").objects.using(schema_editor.connection.alias)
    duplicates = (
        users.exclude(email="")
        .values(address=Lower("email"))
        .annotate(accounts=Count("id"))
        .filter(accounts__gt=1)
    )
    if duplicates.exists():
        raise RuntimeError(
            f"{duplicates.count()} e-mail addresses are used by several accounts (ignoring "
            "case); give each account its own address (in the admin), then migrate again."
        )


def create_index(apps, schema_editor):
    refuse_duplicates(apps, schema_editor)
    table = schema_editor.quote_name(_table(apps))
    vendor = schema_editor.connection.vendor
    if vendor == "mysql":
        schema_editor.execute(
            f"ALTER TABLE {table} ADD COLUMN {COLUMN} varchar(254) "
            f"AS (NULLIF(LOWER(email), '')) VIRTUAL, ADD UNIQUE INDEX {INDEX} ({COLUMN})"
        )
    elif vendor == "sqlite":
        schema_editor.execute(
            f"CREATE UNIQUE INDEX {INDEX} ON {table} (lower(email)) WHERE email <> ''"
        )
    else:
        raise RuntimeError(f"no case-insensitive e-mail index for the {vendor} database")


def drop_index(apps, schema_editor):
    table = schema_editor.quote_name(_table(apps))
    if schema_editor.connection.vendor == "mysql":
        schema_editor.execute(f"ALTER TABLE {table} DROP INDEX {INDEX}, DROP COLUMN {COLUMN}")
    else:
        schema_editor.execute(f"DROP INDEX {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_default_hobbies"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    # Not atomic: MariaDB cannot run DDL inside a transaction.
    operations = [migrations.RunPython(create_index, drop_index, atomic=False)]
