"""/healthz reports the database, cache and channel layer, and answers fast when one is down."""

import time

import httpx
import pytest
from websockets.sync.client import connect

from server.commands import free_port
from tests.support.servers import DaphneServer

pytestmark = pytest.mark.django_db


def test_healthz_is_ok_when_every_service_answers(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "ok", "channel_layer": "ok"}
    assert response["Cache-Control"] == "no-store"


def test_healthz_rejects_writes(client):
    response = client.post("/healthz")

    assert response.status_code == 405


def test_healthz_names_the_cache_quickly_when_redis_is_unreachable(live_server_env):
    closed_port = free_port()
    env = {**live_server_env, "REDIS_URL": f"redis://127.0.0.1:{closed_port}/0"}

    with DaphneServer(env=env, name="daphne-no-redis") as server:
        started = time.monotonic()
        response = httpx.get(f"{server.url}/healthz", timeout=10)
        elapsed = time.monotonic() - started

    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok"
    assert body["cache"].startswith("error: ")
    assert "ConnectionError" in body["cache"]
    assert body["channel_layer"].startswith("error: ")
    assert str(closed_port) not in response.text
    assert elapsed < 3


@pytest.mark.live_server_process
def test_healthz_stays_ok_while_websockets_are_connected(daphne_server):
    # A connected consumer holds the channel layer's receive loop of its process; the check's
    # own message must still reach it (it once timed out: 503 on every busy process).
    with connect(f"{daphne_server.ws_url}/ws/echo/", origin=daphne_server.url) as ws:
        ws.send("hello")
        assert ws.recv(timeout=5) == "hello"
        responses = [httpx.get(f"{daphne_server.url}/healthz", timeout=10) for _ in range(3)]

    assert [response.status_code for response in responses] == [200, 200, 200]
    assert all(response.json()["channel_layer"] == "ok" for response in responses)


@pytest.mark.live_server_process
def test_healthz_on_the_event_loop_checks_method_and_host_like_any_page(daphne_server):
    # Under daphne /healthz is answered before the request threads and the middleware
    # (server/handlers.py): it still refuses writes and hosts outside ALLOWED_HOSTS.
    ok = httpx.get(f"{daphne_server.url}/healthz/", timeout=10)
    write = httpx.post(f"{daphne_server.url}/healthz", timeout=10)
    foreign = httpx.get(
        f"{daphne_server.url}/healthz", headers={"Host": "evil.example"}, timeout=10
    )

    assert (ok.status_code, ok.headers["Content-Type"]) == (200, "application/json")
    assert ok.headers["Cache-Control"] == "no-store"
    assert (write.status_code, write.headers["Allow"]) == (405, "GET, HEAD")
    assert foreign.status_code == 400
