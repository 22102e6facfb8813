"""The SQL helper: dict rows, parameters kept apart from the SQL, Django's transactions."""

import pytest
from django.contrib.auth.models import Group
from django.db import transaction

from core import sql

pytestmark = pytest.mark.django_db


def test_fetch_all_returns_dicts_keyed_by_column():
    Group.objects.create(name="alpha")
    Group.objects.create(name="beta")

    rows = sql.fetch_all("SELECT id, name FROM auth_group ORDER BY name", ())

    assert [row["name"] for row in rows] == ["alpha", "beta"]
    assert set(rows[0]) == {"id", "name"}


def test_fetch_one_returns_a_dict_or_none():
    group = Group.objects.create(name="gamma")

    row = sql.fetch_one("SELECT id, name FROM auth_group WHERE name = %s", ("gamma",))
    missing = sql.fetch_one("SELECT id FROM auth_group WHERE name = %s", ("nobody",))

    assert row == {"id": group.id, "name": "gamma"}
    assert missing is None


@pytest.mark.parametrize(
    "hostile",
    ["it's", 'say "hi"', "100%", "%s", "%(name)s", "'; DROP TABLE auth_group; --", "\\'"],
)
def test_parameters_with_quotes_and_percent_signs_stay_data(hostile):
    result = sql.execute("INSERT INTO auth_group (name) VALUES (%s)", (hostile,))

    row = sql.fetch_one("SELECT name FROM auth_group WHERE id = %s", (result.lastrowid,))
    assert row["name"] == hostile
    assert Group.objects.filter(name=hostile).count() == 1


def test_execute_returns_rowcount_and_last_insert_id():
    inserted = sql.execute("INSERT INTO auth_group (name) VALUES (%s), (%s)", ("x1", "x2"))
    updated = sql.execute("UPDATE auth_group SET name = CONCAT(name, %s)", ("!",))

    assert inserted.rowcount == 2
    assert Group.objects.get(name="x1!").id == inserted.lastrowid
    assert updated.rowcount == 2


def test_execute_inside_a_rolled_back_transaction_leaves_nothing():
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        sql.execute("INSERT INTO auth_group (name) VALUES (%s)", ("rolled-back",))
        assert sql.fetch_one("SELECT name FROM auth_group WHERE name = %s", ("rolled-back",))
        raise Abort

    assert sql.fetch_one("SELECT name FROM auth_group WHERE name = %s", ("rolled-back",)) is None


@pytest.mark.parametrize("params", ["alice", b"alice", 42])
def test_values_must_be_passed_as_a_sequence_or_mapping(params):
    with pytest.raises(TypeError):
        sql.fetch_one("SELECT id FROM auth_group WHERE name = %s", params)


def test_named_placeholders_take_a_mapping():
    Group.objects.create(name="named")

    row = sql.fetch_one("SELECT name FROM auth_group WHERE name = %(name)s", {"name": "named"})

    assert row == {"name": "named"}
