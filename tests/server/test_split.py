"""``python -m server split`` (``SERVER=split make run``): nginx in front of granian's WSGI
interface for the pages and daphne for ``/ws``, started, stopped and reaped together; and the
"Serving on" line every ``make run`` prints last (server/supervise.py)."""

import os
import signal
import subprocess
import sys

import httpx
import pytest

from server.commands import SERVERS, free_port, port_accepts, stop_process
from tests.chat.conftest import ws_connect
from tests.support.servers import PROJECT_DIR, SplitServer
from tests.support.waiting import wait_until


def embedded_env(tmp_path):
    return {"PATH": "/usr/bin:/bin:/usr/sbin", "DEBUG": "1", "SQLITE_PATH": str(tmp_path / "db")}


def serving_line(port):
    return f"Serving on http://127.0.0.1:{port}/ (Ctrl+C to stop)"


def process_name(pid):
    with open(f"/proc/{pid}/comm") as comm:
        return comm.read().strip()


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for every purpose but its parent's wait().
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.parametrize("server", [*SERVERS, "split"])
def test_make_run_prints_the_address_and_how_to_stop_as_its_last_start_up_line(server, tmp_path):
    port = free_port()
    log = tmp_path / "out.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "server", server, "--port", str(port)],
            cwd=PROJECT_DIR,
            env=embedded_env(tmp_path),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(
            lambda: serving_line(port) in log.read_text() or process.poll() is not None,
            timeout=60,
            message=f"{server}'s serving line",
        )
        assert port_accepts(port)
    finally:
        # SIGINT, as Ctrl+C in a terminal: the supervisor forwards it and exits 0.
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        code = process.wait(timeout=30)

    start_up = log.read_text().split(serving_line(port))[0]
    assert serving_line(port) in log.read_text(), start_up
    # No server logged after the line while starting up (nothing was requested).
    after = log.read_text().split(serving_line(port))[1]
    assert "Listening" not in after and "Started worker" not in after and "HTTP/2" not in after
    assert code == 0


@pytest.fixture
def split(live_server_env):
    server = SplitServer(env=live_server_env, name="split-launcher")
    server.start()
    yield server
    server.stop()


def test_split_serves_pages_from_granian_and_websockets_from_daphne(split):
    page = httpx.get(f"{split.url}/accounts/login/", timeout=10)
    with ws_connect(split, "/ws/echo/") as connection:
        connection.send("through nginx")
        echoed = connection.recv(timeout=5)

    assert page.status_code == 200
    assert echoed == "through nginx"
    names = {process_name(pid) for pid in split.process_pids()}
    assert "nginx" in names
    assert any(name.startswith("granian") or name.startswith("python") for name in names)


def test_one_process_of_the_split_exiting_stops_the_others(split):
    pids = split.process_pids()
    nginx = next(pid for pid in pids if process_name(pid) == "nginx")

    os.kill(nginx, signal.SIGKILL)

    assert split.process.wait(timeout=30) != 0
    wait_until(lambda: not any(pid_alive(pid) for pid in pids), timeout=30, message="all gone")


def test_sigterm_stops_and_reaps_every_process_of_the_split(split):
    pids = split.process_pids()
    assert len(pids) >= 4  # granian's supervisor and worker, daphne, nginx's master and worker

    stop_process(split.process)

    assert split.process.returncode == 0
    wait_until(lambda: not any(pid_alive(pid) for pid in pids), timeout=30, message="all gone")
    assert not port_accepts(split.port)
