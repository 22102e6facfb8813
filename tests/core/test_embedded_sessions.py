"""On the embedded defaults (no DATABASE_URL, no Redis) sessions are rows of the SQLite database,
so a restart of the server (``make run`` again) keeps everyone logged in, and the start-up line
says where sessions are. Needs neither MariaDB nor Redis."""

import subprocess
import sys

from tests.support.accounts import STRONG_PASSWORD
from tests.support.servers import PROJECT_DIR, DaphneServer
from tests.support.visitor import Visitor

CREATE_ALICE = (
    "from django.contrib.auth import get_user_model; "
    f"get_user_model().objects.create_user('alice', password='{STRONG_PASSWORD}')"
)


def embedded_server(sqlite_path, port=None, name="daphne-embedded-sessions"):
    # Nothing of the suite's services: DATABASE_URL and REDIS_URL empty, as on a fresh clone.
    return DaphneServer(
        env={"DATABASE_URL": "", "REDIS_URL": "", "SQLITE_PATH": str(sqlite_path)},
        port=port,
        name=name,
    )


def test_a_logged_in_user_stays_logged_in_across_a_restart_on_the_embedded_defaults(tmp_path):
    first = embedded_server(tmp_path / "db.sqlite3")
    first.migrate()
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", CREATE_ALICE],
        cwd=PROJECT_DIR,
        env=first.env,
        check=True,
        timeout=120,
    )
    with first, Visitor(first) as visitor:
        visitor.login("alice", STRONG_PASSWORD)
        before = visitor.get("/accounts/profile/")
        first.stop()  # by pid, as Ctrl+C on `make run` does

        with embedded_server(tmp_path / "db.sqlite3", port=first.port, name="daphne-restarted"):
            after = visitor.get("/accounts/profile/")

    assert before.status_code == 200
    # Still logged in: no redirect to the login page.
    assert after.status_code == 200
    assert "sessions: db in the database (embedded default" in first.log()
