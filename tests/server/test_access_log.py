"""daphne's access log: on in development, off in production (nginx keeps one), by ACCESS_LOG."""

import httpx
import pytest

from tests.support.servers import DaphneServer, production_env
from tests.support.waiting import wait_until


@pytest.mark.parametrize(
    ("env", "logged"),
    [
        ({"DEBUG": "1"}, True),
        (production_env(), False),
        (production_env(ACCESS_LOG="1"), True),
    ],
    ids=["development", "production", "production-with-ACCESS_LOG"],
)
def test_access_log_follows_the_setting(live_server_env, env, logged):
    with DaphneServer(env={**live_server_env, **env}, name="daphne-access-log") as server:
        assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
        # A second request's answer arrives after the first one's log line was written.
        assert httpx.get(f"{server.url}/healthz/", timeout=10).status_code == 200
        if logged:
            wait_until(lambda: '"GET /healthz/"' in server.log(), timeout=10, message="logged")
        log = server.log()

    assert ('"GET /healthz"' in log) is logged
