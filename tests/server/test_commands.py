"""``python -m server`` (``make run``) starts each supported server by server/commands.py's
command line, and refuses a server it does not know."""

import subprocess
import sys

import httpx
import pytest

from server.commands import SERVERS, command, free_port, port_accepts, stop_process
from tests.support.servers import PROJECT_DIR
from tests.support.waiting import wait_until


def test_an_unknown_server_is_refused_with_the_choices():
    result = subprocess.run(
        [sys.executable, "-m", "server", "bogus"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2
    assert all(name in result.stderr for name in SERVERS)
    with pytest.raises(ValueError):
        command("bogus")


@pytest.mark.parametrize("server", SERVERS)
def test_make_runs_launcher_serves_pages_on_the_embedded_defaults(server, tmp_path):
    port = free_port()
    env = {"PATH": "/usr/bin:/bin", "DEBUG": "1", "SQLITE_PATH": str(tmp_path / "db.sqlite3")}
    process = subprocess.Popen(
        [sys.executable, "-m", "server", server, "--port", str(port)],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: port_accepts(port), timeout=60, message=f"{server} listening")
        response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
    finally:
        # granian's worker is a child of its supervisor: SIGTERM to the supervisor stops both.
        stop_process(process)

    assert response.status_code == 200
    assert response.json()["cache"] == "ok"
