"""Redis's primary killed under two daphne processes that find it through Sentinel.

A primary, a replica and three Sentinels of the test's own (tests/support/services.py) run on
loopback; two production-mode daphne processes are configured with ``REDIS_SENTINELS`` only.
While two logged-in users load pages and chat in one room, one on each process, the primary is
killed by pid. The Sentinels promote the replica, and with no server restarted: the users are
still logged in (their sessions were replicated before the kill), every page they loaded was
their own or a 503, never a login page or a 500, ``/healthz`` reported the outage and came back
to 200 by itself, and chat messages flow between the two processes again.
"""

import contextlib
import json
import threading
import time

import httpx
import pytest
import redis
from django.conf import settings
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from tests.support.accounts import STRONG_PASSWORD
from tests.support.chatting import create_user
from tests.support.servers import DaphneServer, production_env
from tests.support.services import RedisInstance, SentinelInstance
from tests.support.visitor import Visitor
from tests.support.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

MASTER = "chatmaster"
ROOM_PATH = "/ws/chat/failover/"
# How long a Sentinel waits for a silent master before it deems it down: small, so that the
# failover takes a few seconds.
DOWN_AFTER_MS = 1000


class SentinelCluster:
    """A primary, its replica and three Sentinels watching them, all of the test's own."""

    def __init__(self, workdir):
        self.primary = RedisInstance(workdir / "primary")
        self.replica = RedisInstance(workdir / "replica", replica_of=self.primary)
        self.sentinels = []
        self.workdir = workdir

    def start(self):
        self.primary.start()
        self.replica.start()
        self.sentinels = [
            SentinelInstance(
                self.workdir / f"sentinel-{number}",
                self.primary,
                MASTER,
                quorum=2,
                down_after_ms=DOWN_AFTER_MS,
            ).start()
            for number in range(3)
        ]
        wait_until(self.ready, timeout=30, message="Sentinels watching the primary and replica")
        return self

    def stop(self):
        for instance in [*self.sentinels, self.replica, self.primary]:
            instance.stop()

    @property
    def addresses(self):
        return ",".join(f"127.0.0.1:{sentinel.port}" for sentinel in self.sentinels)

    def master_port(self):
        """The master's port as the first Sentinel that answers has it."""
        for sentinel in self.sentinels:
            try:
                with redis.Redis(port=sentinel.port, socket_timeout=1) as client:
                    return int(client.sentinel_get_master_addr_by_name(MASTER)[1])
            except redis.RedisError:
                continue
        return None

    def ready(self):
        """Every Sentinel knows the replica and the two other Sentinels; the replica is in sync."""
        try:
            for sentinel in self.sentinels:
                with redis.Redis(port=sentinel.port, socket_timeout=1) as client:
                    state = client.sentinel_master(MASTER)
                if state["num-slaves"] < 1 or state["num-other-sentinels"] < 2:
                    return False
            with redis.Redis(port=self.replica.port, socket_timeout=1) as client:
                return client.info("replication")["master_link_status"] == "up"
        except redis.RedisError:
            return False

    def replicate_everything_written(self):
        """Block until the replica has acknowledged every write the primary took so far.

        WAIT counts the replicas that acknowledged this connection's own writes; the replication
        stream is one sequence, so a write of our own made now comes after every session the
        servers wrote, and its acknowledgement covers them.
        """
        with redis.Redis(port=self.primary.port, socket_timeout=5) as client:
            client.set("failover-test:marker", "1")
            return client.wait(1, 5000)


class PageLoop(threading.Thread):
    """One logged-in visitor loading a page over and over, recording every answer's status."""

    def __init__(self, server, cookie, path):
        super().__init__(daemon=True)
        self.http = httpx.Client(
            base_url=server.url,
            cookies={settings.SESSION_COOKIE_NAME: cookie},
            timeout=10,
            follow_redirects=False,
        )
        self.path = path
        self.statuses = []
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            try:
                self.statuses.append(self.http.get(self.path).status_code)
            except httpx.HTTPError as exc:
                self.statuses.append(type(exc).__name__)
            # A visitor's pace, not a benchmark: the machine has two cores for everything here.
            self.stopping.wait(0.05)

    def stop(self):
        self.stopping.set()
        self.join(timeout=30)
        self.http.close()


class ChatUser:
    """A user's chat socket on one server; reconnects, as the chat page does, when closed."""

    def __init__(self, visitor):
        self.visitor = visitor
        self.socket = None
        self.sockets = contextlib.ExitStack()  # closes every socket opened
        self.close_codes = []  # close codes of the sockets the server closed
        self.connections = 0

    def connect(self):
        if self.socket is not None:
            return True
        try:
            socket = self.sockets.enter_context(self.visitor.websocket(ROOM_PATH))
            self.expect(lambda event: event["type"] == "history", socket=socket)
        except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError):
            return False
        self.socket = socket
        self.connections += 1
        return True

    def expect(self, predicate, socket=None, timeout=5):
        """Read events until one satisfies ``predicate``; the event, or None on timeout."""
        socket = socket or self.socket
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                event = json.loads(socket.recv(timeout=remaining))
            except TimeoutError:
                return None
            if predicate(event):
                return event
        return None

    def post(self, text):
        self.socket.send(json.dumps({"type": "message", "text": text}))

    def drop_closed_socket(self, error):
        if isinstance(error, ConnectionClosed) and error.rcvd is not None:
            self.close_codes.append(error.rcvd.code)
        if self.socket is not None:
            self.socket.close()
        self.socket = None

    def close(self):
        self.sockets.close()


def message_reaches(sender, receiver, text):
    """``sender`` posts ``text`` and ``receiver`` gets it; False (to be retried) otherwise."""
    if not (sender.connect() and receiver.connect()):
        return False
    user = sender
    try:
        sender.post(text)
        user = receiver
        event = receiver.expect(lambda event: event.get("text") == text)
    except ConnectionClosed as closed:
        user.drop_closed_socket(closed)
        return False
    return event is not None


def healthz(server):
    try:
        response = httpx.get(f"{server.url}/healthz", timeout=10)
    except httpx.HTTPError:
        return None
    return response


@pytest.fixture
def cluster(tmp_path):
    cluster = SentinelCluster(tmp_path)
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture
def servers(live_server_env, cluster):
    """Two daphne processes that know Redis only through the Sentinels."""
    env = production_env(
        **{
            **live_server_env,
            "REDIS_URL": "",
            "REDIS_SENTINELS": cluster.addresses,
            "REDIS_SENTINEL_MASTER": MASTER,
        }
    )
    started = []
    try:
        for name in ("daphne-ha-a", "daphne-ha-b"):
            started.append(DaphneServer(env=env, name=name).start())
        yield started
    finally:
        for server in started:
            server.stop()


def test_primary_killed_fails_over_with_users_logged_in_and_chat_flowing(cluster, servers):
    server_a, server_b = servers
    create_user("alice")
    create_user("bob")
    with Visitor(server_a) as alice_visitor, Visitor(server_b) as bob_visitor:
        alice_visitor.login("alice", STRONG_PASSWORD)
        bob_visitor.login("bob", STRONG_PASSWORD)
        alice, bob = ChatUser(alice_visitor), ChatUser(bob_visitor)
        pages = [
            PageLoop(server_a, alice_visitor.session_cookie, "/accounts/profile/"),
            PageLoop(server_b, bob_visitor.session_cookie, "/accounts/profile/"),
        ]
        try:
            assert message_reaches(alice, bob, "before the failover, from alice")
            assert message_reaches(bob, alice, "before the failover, from bob")
            for loop in pages:
                loop.start()
            wait_until(lambda: all(200 in loop.statuses for loop in pages), timeout=10)
            assert cluster.replicate_everything_written() == 1

            cluster.primary.kill()
            outage = {}
            for server in servers:
                outage[server.name] = wait_until(
                    lambda server=server: (
                        (h := healthz(server)) is not None and h.status_code == 503 and h
                    ),
                    timeout=10,
                    message=f"{server.name}'s /healthz reporting the outage",
                )
            for server in servers:
                wait_until(
                    lambda server=server: (
                        (h := healthz(server)) is not None and h.status_code == 200
                    ),
                    timeout=30,
                    message=f"{server.name}'s /healthz back to 200",
                )
            new_master = cluster.master_port()

            wait_until(
                lambda: message_reaches(alice, bob, "after the failover, from alice"),
                timeout=20,
                message="alice's message reaching bob on the other process",
            )
            wait_until(
                lambda: message_reaches(bob, alice, "after the failover, from bob"),
                timeout=20,
                message="bob's message reaching alice on the other process",
            )
            # A page load that began during the outage shows in these only once it is answered.
            wait_until(lambda: all(loop.statuses[-1] == 200 for loop in pages), timeout=10)
        finally:
            for loop in pages:
                loop.stop()
            alice.close()
            bob.close()

        # Both users still logged in, on either process: their sessions survived the failover.
        for visitor, username in ((alice_visitor, "alice"), (bob_visitor, "bob")):
            for server in servers:
                page = httpx.get(
                    f"{server.url}/accounts/profile/",
                    cookies={settings.SESSION_COOKIE_NAME: visitor.session_cookie},
                    timeout=10,
                )
                assert page.status_code == 200, (server.name, username, page.status_code)
                assert username in page.text

    assert new_master == cluster.replica.port
    for body in (response.json() for response in outage.values()):
        assert body["database"] == "ok"
        assert body["cache"].startswith("error: ") or body["channel_layer"].startswith("error: ")
    # Never a login page (a lost session) nor a 500: the outage answered 503, the rest 200.
    for loop in pages:
        assert set(loop.statuses) == {200, 503}, loop.statuses
    # A socket closed by the outage is closed as "service unavailable", never as a crash.
    assert set(alice.close_codes + bob.close_codes) <= {4503}
    for server in servers:
        assert server.process.poll() is None, f"{server.name} exited"
        assert "Traceback" not in server.log(), server.log()
