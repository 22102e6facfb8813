"""The limits that the conformance run lifts (conformance.launchers.server_env), on live servers.

As configured for production, uvicorn refuses a message of more than 4,096 fragments with 1009
(websockets' guard against floods of tiny frames; group 9 of the suite sends up to 65,536);
daphne has no such limit, only the size limit. The conformance run's environment lifts both, so
that group 9 measures the echo rather than the limits.
"""

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from conformance.launchers import ServerProcess, server_env
from conformance.runner import ARTIFACTS_DIR

pytestmark = [pytest.mark.conformance, pytest.mark.live_server_process]

WEBSOCKETS_MAX_FRAGMENTS = 4096


def production_limits_env():
    """The conformance servers' environment without its lifted limits: the project's own."""
    env = server_env()
    del env["WEBSOCKET_MAX_MESSAGE_BYTES"], env["WEBSOCKETS_MAX_FRAGMENTS"]
    return env


def started(name, env, label):
    return ServerProcess(name, log_path=ARTIFACTS_DIR / "limits" / f"{name}-{label}.log", env=env)


def fragments(count):
    return [f"{index:09d}," for index in range(count)]


def frames(count):
    """Chunks that the websockets client sends as a message of ``count`` frames: one frame per
    chunk, then an empty final frame."""
    return fragments(count - 1)


def echo_of(server, message_fragments):
    """Send one message of ``message_fragments``; the echo, or the close frame received."""
    with connect(server.ws_url("/ws/echo/"), origin=server.origin, max_size=None) as echo:
        echo.send(message_fragments)
        try:
            return echo.recv(timeout=30)
        except ConnectionClosed as closed:
            return closed.rcvd


def test_uvicorn_takes_4096_fragments_and_closes_more_with_1009():
    most = frames(WEBSOCKETS_MAX_FRAGMENTS)

    with started("uvicorn", production_limits_env(), "production") as server:
        assert echo_of(server, most) == "".join(most)
        close = echo_of(server, frames(WEBSOCKETS_MAX_FRAGMENTS + 1))

    assert close is not None, "the server dropped TCP without a close frame"
    assert (close.code, close.reason) == (1009, "too many fragments")


@pytest.mark.parametrize("name", ["daphne", "uvicorn"])
def test_the_conformance_environment_lets_group_9s_fragments_and_sizes_through(name):
    many = fragments(10_000)
    large = "x" * 2_000_000

    with started(name, server_env(), "conformance") as server:
        assert echo_of(server, many) == "".join(many)
        assert echo_of(server, [large]) == large


def test_daphne_has_no_fragment_limit_only_the_size_limit():
    many = fragments(10_000)

    with started("daphne", production_limits_env(), "production") as server:
        assert echo_of(server, many) == "".join(many)
        close = echo_of(server, ["x" * 500_000, "x" * 500_001])

    assert close is not None and close.code == 1009
