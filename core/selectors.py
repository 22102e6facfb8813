"""Project-wide reads."""

from datetime import datetime, timedelta

from django.utils import timezone

from core import sql


def site_statistics(now: datetime | None = None) -> dict[str, int]:
    """Counts for the statistics page, in one aggregate query through the SQL helper."""
    now = now or timezone.now()
    row = sql.fetch_one(
        "SELECT COUNT(*) AS users, "
        "COALESCE(SUM(date_joined >= %s), 0) AS joined_this_week "
        "FROM auth_user WHERE is_active = %s",
        (now - timedelta(days=7), True),
    )
    # An aggregate without GROUP BY always returns its one row.
    assert row is not None
    return {
        "users": int(row["users"]),
        "joined_this_week": int(row["joined_this_week"]),
    }
