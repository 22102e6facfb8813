"""Raw SQL where the ORM is not the right tool: the seed's ``sqlhelper.py``, done safely.

The seed opens a DBUtils pool connection per call and commits inside ``insert``. Here every call
uses Django's connection for the current thread, so it shares the project's connection handling
(the request thread's persistent, health-checked connection; see server/handlers.py) and its
transaction: inside ``transaction.atomic()`` a rollback undoes ``execute`` too.

Parameters are always passed to the driver separately, never formatted into the SQL: use ``%s``
placeholders (or ``%(name)s`` with a mapping), and write a literal ``%`` in the SQL as ``%%``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from django.db import DEFAULT_DB_ALIAS, connections

if TYPE_CHECKING:
    from django.db.backends.utils import CursorWrapper

# The values of the placeholders: a sequence for %s, a mapping for %(name)s.
Params = Sequence[Any] | Mapping[str, Any]
Row = dict[str, Any]


class ExecuteResult(NamedTuple):
    """What a write statement did: rows affected and the AUTO_INCREMENT id it generated."""

    rowcount: int
    lastrowid: int | None


def _checked(params: object) -> Params:
    # A bare string is a sequence of characters: the driver would spread it over the
    # placeholders, which is never what the caller meant.
    if isinstance(params, str | bytes) or not isinstance(params, Sequence | Mapping):
        raise TypeError(
            "params must be a tuple, list or dict of values; got "
            f"{type(params).__name__}. Never format values into the SQL."
        )
    return params


def _rows_as_dicts(cursor: CursorWrapper) -> list[Row]:
    columns = [column[0] for column in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def fetch_all(sql: str, params: Params = (), *, using: str = DEFAULT_DB_ALIAS) -> list[Row]:
    """Every row of a query, as dicts keyed by column name."""
    with connections[using].cursor() as cursor:
        cursor.execute(sql, _checked(params))
        return _rows_as_dicts(cursor)


def fetch_one(sql: str, params: Params = (), *, using: str = DEFAULT_DB_ALIAS) -> Row | None:
    """The first row of a query as a dict keyed by column name, or None when there is none."""
    with connections[using].cursor() as cursor:
        cursor.execute(sql, _checked(params))
        row = cursor.fetchone()
        if row is None:
            return None
        columns = [column[0] for column in cursor.description]
        return dict(zip(columns, row, strict=True))


def execute(sql: str, params: Params = (), *, using: str = DEFAULT_DB_ALIAS) -> ExecuteResult:
    """Run a write statement; return its row count and last insert id.

    It commits with the surrounding transaction (autocommit outside ``transaction.atomic``).
    """
    with connections[using].cursor() as cursor:
        cursor.execute(sql, _checked(params))
        return ExecuteResult(rowcount=cursor.rowcount, lastrowid=cursor.lastrowid)
