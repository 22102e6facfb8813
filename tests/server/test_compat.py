"""server/COMPAT.md still describes the installed libraries.

* Versions: server/COMPAT.md's version table, constraints.txt and the installed distributions
  agree, and constraints.txt satisfies the ranges of requirements*.txt.
* Behaviour: one case per row of server/COMPAT.md whose "Guarded by" says `compat`, named as the
  row. Each calls the library's real objects the way our code does and fails when what the row
  says our code assumes stops being true: a name gone, a hook no longer reached, a copied method
  no longer called, a result that changed. Nothing here reads a library's source text, except
  the fingerprints: methods our code copies or replaces are digested (their source tokens), so
  any change to them fails until our copy has been compared with it.

Needs no services: the memcached checks start a memcached of their own, the Redis ones talk to
nothing or to a closed port. daphne's server, command line and runserver install a Twisted
reactor when imported: their checks (``in_daphne``) run in one child process that imports
``server.daphne`` first, as the project does, and serves a probe application with the project's
daphne ``Server`` on a loopback port; ``python -m tests.server.test_compat`` runs them and prints
their outcome as JSON.
"""

import asyncio
import concurrent.futures
import contextlib
import functools
import hashlib
import importlib
import importlib.metadata
import importlib.util
import inspect
import io
import json
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import textwrap
import threading
import tokenize
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.support import compat_doc
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
COMPAT = ROOT / "server" / "COMPAT.md"
CONSTRAINTS = ROOT / "constraints.txt"
REQUIREMENTS = [
    ROOT / "requirements.txt",
    ROOT / "requirements-dev.txt",
    ROOT / "bench" / "requirements.txt",
]


def canonical(name):
    """A distribution name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_pins(text, origin):
    """``{name: version}`` from ``name==version`` lines; comments and blank lines ignored."""
    pins = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep and version, f"{origin}: not a name==version line: {line!r}"
        pins[canonical(name)] = version.strip()
    return pins


def compat_versions():
    """The fenced block under "## Versions checked" in server/COMPAT.md."""
    match = re.search(
        r"^## Versions checked\n.*?^```\w*\n(.*?)^```", COMPAT.read_text(), re.M | re.S
    )
    assert match, "server/COMPAT.md has no fenced block under '## Versions checked'"
    return parse_pins(match.group(1), "server/COMPAT.md")


def installed_version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


CHECKED = compat_versions()
PINNED = parse_pins(CONSTRAINTS.read_text(), "constraints.txt")


@pytest.mark.parametrize("package", sorted(CHECKED))
def test_compat_versions_are_pinned_and_installed(package):
    checked = CHECKED[package]
    pinned = PINNED.get(package)
    assert pinned == checked, (
        f"server/COMPAT.md was checked with {package}=={checked}; constraints.txt pins "
        f"{package}=={pinned}: re-check the names listed there, then update both"
    )
    installed = installed_version(package)
    assert installed == checked, (
        f"server/COMPAT.md was checked with {package}=={checked}; installed is {installed}: "
        "re-check the names listed there, then update both (and constraints.txt)"
    )


def test_installed_versions_are_the_pinned_ones():
    """The rest of constraints.txt: what is installed is what is pinned (packages of the dev
    requirements may be absent from a runtime-only install)."""
    differing = [
        f"{name}=={pin} pinned, {installed} installed"
        for name, pin in sorted(PINNED.items())
        if name not in CHECKED and (installed := installed_version(name)) not in (None, pin)
    ]
    assert not differing, (
        "the venv was not installed from constraints.txt (scripts/install.sh), or a pin is stale: "
        + "; ".join(differing)
    )


def test_constraints_satisfy_requirements():
    """Every requirement is pinned, within its range: a fresh install resolves to the pins."""
    problems = []
    for path in REQUIREMENTS:
        for line in path.read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if not line or line.startswith("-"):
                continue
            requirement = Requirement(line)
            pin = PINNED.get(canonical(requirement.name))
            where = f"{path.relative_to(ROOT)}: {line}"
            if pin is None:
                problems.append(f"{where} has no pin in constraints.txt")
            elif not requirement.specifier.contains(pin, prereleases=True):
                problems.append(f"{where} excludes the pinned {pin}")
    assert not problems, "; ".join(problems)


# ------------------------------------------------------------------------------------------------
# The rows of server/COMPAT.md. Each check raises (AssertionError, AttributeError…) when the
# assumption written in COMPAT.md's row of the same name no longer holds.
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Name:
    library: str  # a distribution of the version table, or "python" for the standard library
    name: str  # as in server/COMPAT.md's first column
    check: Callable
    # Run in the daphne child process (see the module's docstring), given the DaphneProbe.
    in_daphne: bool = False
    # The check closes old database connections (Channels' dispatch, Django's request_finished),
    # which pytest-django refuses outside a test that may use the database.
    uses_db: bool = False

    def __str__(self):
        return self.name


NAMES = []


def relies_on(library, name, *, in_daphne=False, uses_db=False):
    def register(check):
        NAMES.append(Name(library, name, check, in_daphne, uses_db))
        return check

    return register


def lookup(path):
    """The object at ``"package.module:Class.attribute"``, imported."""
    module, _, qualname = path.partition(":")
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def fingerprint(*objs):
    """A digest of the objects' source tokens: comments and layout do not count, code does. The
    one reading of a library's source here."""
    layout = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}
    tokens = []
    for obj in objs:
        source = textwrap.dedent(inspect.getsource(obj))
        tokens += [
            token.string
            for token in tokenize.generate_tokens(io.StringIO(source).readline)
            if token.type not in layout
        ]
    return hashlib.sha256("\x00".join(tokens).encode()).hexdigest()[:16]


def copied(library, name, paths, digest, ours, *, in_daphne=False):
    """Library methods (``paths``, see :func:`lookup`) that ``ours`` copies or replaces: unchanged
    since they were compared with it."""

    def check(*_probe):
        now = fingerprint(*(lookup(path) for path in paths))
        assert now == digest, (
            f"changed since {ours} was compared with it (fingerprint {now}, was {digest}): "
            f"compare it with {ours}, port what changed, then update the fingerprint here"
        )

    NAMES.append(Name(library, name, check, in_daphne))


def params(func):
    """Parameter names of ``func``, without ``self``/``cls``."""
    names = list(inspect.signature(func).parameters)
    return names[1:] if names[:1] in (["self"], ["cls"]) else names


def run(coroutine):
    """Run a check's coroutine on a loop of its own."""
    return asyncio.run(asyncio.wait_for(coroutine, 30))


# server/reactor.py: twisted. Each check builds Twisted's stock AsyncioSelectorReactor on an
# asyncio loop of its own, not installed as the process's reactor.


@contextlib.contextmanager
def _stock_reactor():
    from twisted.internet.asyncioreactor import AsyncioSelectorReactor

    loop = asyncio.new_event_loop()
    try:
        yield AsyncioSelectorReactor(loop), loop
    finally:
        loop.close()


def _selectable(fd):
    """A Twisted file descriptor on ``fd`` that counts its reads and keeps why it was lost."""
    from twisted.internet.abstract import FileDescriptor

    class Selectable(FileDescriptor):
        reads = 0
        lost = None
        result = None  # what doRead returns (why the connection ended)
        error = None  # what doRead raises

        def fileno(self):
            return fd

        def doRead(self):
            self.reads += 1
            if self.error is not None:
                raise self.error
            return self.result

        def doWrite(self):
            return None

        def connectionLost(self, reason):
            self.lost = reason

    return Selectable()


@contextlib.contextmanager
def _socket_fd():
    left, right = socket.socketpair()
    try:
        yield left.fileno()
    finally:
        left.close()
        right.close()


@contextlib.contextmanager
def _regular_file_fd():
    """A regular file's descriptor: epoll refuses it (EPERM)."""
    with tempfile.TemporaryFile() as file:
        yield file.fileno()


@relies_on("twisted", "AsyncioSelectorReactor.__init__(eventloop)")
def _():
    with _stock_reactor() as (reactor, loop):
        called = []
        reactor.callLater(0, called.append, "run by the loop given")
        loop.run_until_complete(asyncio.sleep(0.01))
        assert called == ["run by the loop given"]


@relies_on("twisted", "AsyncioSelectorReactor._asyncioEventloop")
def _():
    with _stock_reactor() as (reactor, loop), _socket_fd() as fd:
        assert reactor._asyncioEventloop is loop
        reader = _selectable(fd)
        reactor.addReader(reader)
        # Registered with the loop itself: removing it there finds it.
        assert loop.remove_reader(fd) is True


@relies_on("twisted", "AsyncioSelectorReactor._readers")
def _():
    with _stock_reactor() as (reactor, _loop), _socket_fd() as fd:
        reader = _selectable(fd)
        reactor.addReader(reader)
        assert reactor._readers[reader] == fd  # beside the reactor's own waker
        reactor.removeReader(reader)
        assert reader not in reactor._readers


@relies_on("twisted", "AsyncioSelectorReactor._writers")
def _():
    with _stock_reactor() as (reactor, _loop), _socket_fd() as fd:
        writer = _selectable(fd)
        reactor.addWriter(writer)
        assert reactor._writers == {writer: fd}
        reactor.removeWriter(writer)
        assert reactor._writers == {}


@relies_on("twisted", "AsyncioSelectorReactor._continuousPolling")
def _():
    from twisted.internet.posixbase import _ContinuousPolling

    with _stock_reactor() as (reactor, _loop), _regular_file_fd() as fd:
        assert isinstance(reactor._continuousPolling, _ContinuousPolling)
        reader = _selectable(fd)
        reactor.addReader(reader)  # epoll refuses a regular file: polled instead
        assert reader not in reactor._readers
        assert reader in reactor._continuousPolling._readers


@relies_on("twisted", "_ContinuousPolling._readers")
def _():
    with _stock_reactor() as (reactor, _loop), _regular_file_fd() as fd:
        polling = reactor._continuousPolling
        reader = _selectable(fd)
        polling.addReader(reader)
        assert reader in polling._readers
        polling.removeReader(reader)
        assert reader not in polling._readers


@relies_on("twisted", "_ContinuousPolling.addReader/addWriter/isWriting")
def _():
    with _stock_reactor() as (reactor, loop), _regular_file_fd() as fd:
        polling = reactor._continuousPolling
        writer = _selectable(fd)
        assert not polling.isWriting(writer)
        polling.addWriter(writer)
        assert polling.isWriting(writer)
        reader = _selectable(fd)
        polling.addReader(reader)
        # Polled: doRead runs without the descriptor ever becoming ready in epoll.
        loop.run_until_complete(asyncio.sleep(0.05))
        assert reader.reads > 0
        polling.removeAll()


@relies_on("twisted", "AsyncioSelectorReactor._unregisterFDInAsyncio(fd)")
def _():
    with _stock_reactor() as (reactor, loop), _socket_fd() as fd:
        loop.add_reader(fd, lambda: None)
        loop.add_writer(fd, lambda: None)
        reactor._unregisterFDInAsyncio(fd)
        assert loop.remove_reader(fd) is False
        assert loop.remove_writer(fd) is False


@relies_on("twisted", "AsyncioSelectorReactor._readOrWrite(selectable, read)")
def _():
    from twisted.internet.error import ConnectionDone

    with _stock_reactor() as (reactor, _loop), _socket_fd() as fd:
        reader = _selectable(fd)
        reactor._readOrWrite(reader, True)
        assert (reader.reads, reader.lost) == (1, None)
        # A doRead that returns why the connection ended disconnects it.
        reader.result = ConnectionDone()
        reactor._readOrWrite(reader, True)
        assert reader.lost is not None and reader.lost.check(ConnectionDone)
        # One that raises: logged (not raised from here), and disconnected too.
        failing = _selectable(fd)
        failing.error = ValueError("doRead failed")
        reactor._readOrWrite(failing, True)
        assert failing.reads == 1 and failing.lost is not None
        assert failing.lost.check(ValueError)


@relies_on("twisted", "AsyncioSelectorReactor._log")
def _():
    from twisted.logger import Logger, globalLogPublisher

    with _stock_reactor() as (reactor, _loop):
        assert isinstance(reactor._log, Logger)
        seen = []
        globalLogPublisher.addObserver(seen.append)
        try:
            try:
                raise ValueError("logged")
            except ValueError:
                reactor._log.failure("while handling {thing}", thing="a probe")
        finally:
            globalLogPublisher.removeObserver(seen.append)
        assert any(event.get("log_failure") is not None for event in seen)


copied(
    "twisted",
    "AsyncioSelectorReactor.addReader",
    ["twisted.internet.asyncioreactor:AsyncioSelectorReactor.addReader"],
    "630fbc6879735018",
    "EagerWriteReactor.addReader (server/reactor.py)",
)
copied(
    "twisted",
    "AsyncioSelectorReactor.addWriter",
    ["twisted.internet.asyncioreactor:AsyncioSelectorReactor.addWriter"],
    "9f6077267e43d2e9",
    "EagerWriteReactor._watch_writer (server/reactor.py)",
)


@relies_on("twisted", "AsyncioSelectorReactor.removeWriter/getWriters/removeAll")
def _():
    with _stock_reactor() as (reactor, _loop), _socket_fd() as fd, _socket_fd() as other:
        writer, reader = _selectable(fd), _selectable(other)
        reactor.addWriter(writer)
        reactor.addReader(reader)
        assert reactor.getWriters() == [writer]
        removed = reactor.removeAll()
        assert set(removed) == {writer, reader}
        assert reactor.getWriters() == [] and reactor._writers == {}
        reactor.addWriter(writer)
        reactor.removeWriter(writer)
        assert reactor.getWriters() == []


def _recording_reactor():
    calls = []

    class Recording:
        def __getattr__(self, name):
            if name.startswith(("add", "remove")):
                return lambda selectable: calls.append((name, selectable))
            raise AttributeError(name)

    return Recording(), calls


def _descriptor(reactor, sent=None, buffer_size=None):
    """A connected Twisted FileDescriptor on ``reactor`` whose socket takes ``sent(data)``
    bytes of each write (all by default)."""
    from twisted.internet.abstract import FileDescriptor

    class Descriptor(FileDescriptor):
        connected = True

        def writeSomeData(self, data):
            return len(data) if sent is None else sent(data)

    descriptor = Descriptor(reactor)
    if buffer_size is not None:
        descriptor.bufferSize = buffer_size
    return descriptor


@relies_on("twisted", "FileDescriptor.startWriting/stopWriting")
def _():
    reactor, calls = _recording_reactor()
    descriptor = _descriptor(reactor)
    descriptor.write(b"data")  # write() -> startWriting() -> reactor.addWriter
    assert calls == [("addWriter", descriptor)]
    descriptor.doWrite()  # everything sent -> stopWriting() -> reactor.removeWriter
    assert calls[1:] == [("removeWriter", descriptor)]


@relies_on("twisted", "FileDescriptor.dataBuffer/offset/_tempDataLen")
def _():
    reactor, _calls = _recording_reactor()
    descriptor = _descriptor(reactor, sent=lambda data: 2)  # the socket takes 2 bytes a time

    def unsent():
        return len(descriptor.dataBuffer) - descriptor.offset + descriptor._tempDataLen

    descriptor.write(b"abc")
    descriptor.write(b"de")
    assert (descriptor.dataBuffer, descriptor.offset, descriptor._tempDataLen) == (b"", 0, 5)
    descriptor.doWrite()  # joined into dataBuffer, 2 bytes sent from it
    assert (descriptor.offset, unsent()) == (2, 3)
    descriptor.write(b"f")
    assert unsent() == 4


@relies_on("twisted", "FileDescriptor producer calls")
def _():
    from twisted.internet.abstract import FileDescriptor

    calls = []

    class Producer:
        def pauseProducing(self):
            calls.append("pause")

        def resumeProducing(self):
            calls.append("resume")

    reactor, reactor_calls = _recording_reactor()
    descriptor = _descriptor(reactor, buffer_size=4)
    descriptor.registerProducer(Producer(), True)
    descriptor.unregisterProducer()
    descriptor.registerProducer(Producer(), True)
    descriptor.write(b"abc")
    descriptor.write(b"de")  # over bufferSize: pause, on every write while over it
    descriptor.write(b"f")
    descriptor.doWrite()  # all sent: resume
    assert calls == ["pause", "pause", "resume"]
    assert FileDescriptor.bufferSize == 2**16
    # The transport's own pauseProducing/resumeProducing stop and start reading.
    reactor_calls.clear()
    descriptor.pauseProducing()
    descriptor.resumeProducing()
    assert reactor_calls == [("removeReader", descriptor), ("addReader", descriptor)]


@relies_on("twisted", "installReactor")
def _():
    code = textwrap.dedent(
        """
        import asyncio, sys
        from twisted.internet.asyncioreactor import AsyncioSelectorReactor
        from twisted.internet.main import installReactor
        reactor = AsyncioSelectorReactor(asyncio.new_event_loop())
        assert "twisted.internet.reactor" not in sys.modules
        installReactor(reactor)
        assert sys.modules["twisted.internet.reactor"] is reactor
        from twisted.internet import reactor as installed
        assert installed is reactor
        print("installed")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.stdout.strip() == "installed", result.stderr


@relies_on("daphne", "daphne.server import", in_daphne=True)
def _(probe):
    import daphne.server
    from twisted.internet import reactor

    from server.reactor import EagerWriteReactor

    # server.daphne installed ours before importing daphne.server, which kept it.
    assert type(reactor) is EagerWriteReactor
    # daphne sizes its own loop's default executor from ASGI_THREADS (the child runs with 2),
    # which server/reactor.py's install() repeats for ours.
    assert os.environ["ASGI_THREADS"] == "2"
    running, most = [0], [0]
    lock = threading.Lock()
    # Two jobs must be in the pool at once to pass (a pool of one breaks it on the timeout);
    # a third thread would be counted while it waits.
    together = threading.Barrier(2)

    def blocking():
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        together.wait(timeout=10)
        with lock:
            running[0] -= 1

    async def four_at_once():
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(None, blocking) for _ in range(4)))

    daphne.server.twisted_loop.run_until_complete(four_at_once())
    assert most[0] == 2, most[0]


# server/daphne.py: daphne, autobahn, txaio. The checks run in the daphne child process against
# DaphneProbe: the project's daphne Server (server.daphne.Server), running for real on a loopback
# port with the options of `--proxy-headers` and a message size limit of PROBE_MAX_BYTES, serving
# an echo. Each check runs in a thread of its own with blocking clients, and looks at the server's
# objects through DaphneProbe.server_side (on the reactor's thread).

PROBE_MAX_BYTES = 1000


class DaphneProbe:
    """server.daphne.Server serving :meth:`application` on a free loopback port, in this process.

    ``scopes_given`` are the scopes as daphne built them (before our ``create_application``),
    ``app_scopes`` as the application got them; ``replies`` counts ``Server.handle_reply`` calls;
    ``protocols`` are the WebSocket protocols built, instances of a subclass of ours that records
    ``_dataReceived`` calls and ``dropConnection``'s ``abort``.
    """

    def __init__(self):
        from server import daphne as ours

        self.scopes_given, self.app_scopes, self.protocols = [], [], []
        self.replies = 0
        self.factory_protocol_at_start = None
        probe = self

        class ProbeServer(ours.Server):
            def create_application(self, protocol, scope):
                probe.scopes_given.append(dict(scope))
                return super().create_application(protocol, scope)

            async def handle_reply(self, protocol, message):
                probe.replies += 1
                await super().handle_reply(protocol, message)

        class Recorded(ours.WebSocketProtocol):
            data_received_calls = 0

            def connectionMade(self):
                probe.protocols.append(self)
                self.drops = []
                super().connectionMade()

            def _dataReceived(self, data):
                self.data_received_calls += 1
                return super()._dataReceived(data)

            def dropConnection(self, abort=False):
                self.drops.append(abort)
                super().dropConnection(abort=abort)

        self.recorded_class = Recorded
        self.server = ProbeServer(
            application=self.application,
            endpoints=["tcp:port=0:interface=127.0.0.1"],
            signal_handlers=False,
            proxy_forwarded_address_header="X-Forwarded-For",
            proxy_forwarded_port_header="X-Forwarded-Port",
            proxy_forwarded_proto_header="X-Forwarded-Proto",
            websocket_max_message_size=PROBE_MAX_BYTES,
            websocket_max_frame_size=PROBE_MAX_BYTES,
            verbosity=0,
        )
        self.loop = None

    async def application(self, scope, receive, send):
        if scope["type"] != "websocket":
            message = await receive()
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        self.app_scopes.append(scope)
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            reply = {k: message[k] for k in ("text", "bytes") if message.get(k) is not None}
            await send({"type": "websocket.send", **reply})

    @property
    def port(self):
        return self.server.listening_addresses[0][1]

    @property
    def url(self):
        return f"ws://127.0.0.1:{self.port}/probe/"

    def server_side(self, function):
        """``function()``'s result, run on the reactor's thread."""
        done = concurrent.futures.Future()

        def call():
            try:
                done.set_result(function())
            except BaseException as exc:
                done.set_exception(exc)

        self.loop.call_soon_threadsafe(call)
        return done.result(timeout=10)

    def connect(self, **kwargs):
        from websockets.sync.client import connect

        return connect(self.url, open_timeout=10, max_size=None, **kwargs)

    def raw(self):
        from rfc6455.client import RawWebSocket

        client = RawWebSocket(self.url, timeout=10)
        client.connect()
        return client

    def latest_protocol(self):
        return self.server_side(lambda: self.protocols[-1])

    @contextlib.contextmanager
    def echoed(self, message="x", **kwargs):
        """Open a connection that has had ``message`` echoed: its protocol here."""
        with self.connect(**kwargs) as client:
            client.send(message)
            assert client.recv(timeout=10) == message
            yield self.latest_protocol()

    def run(self, checks):
        """Run ``checks`` (``{key: Name}``) against the server; ``{key: None or the failure}``."""
        from twisted.internet import reactor

        outcomes = {}

        async def run_checks():
            try:
                for key, relied_on in checks.items():
                    try:
                        await asyncio.wait_for(asyncio.to_thread(relied_on.check, self), 60)
                    except Exception as exc:
                        outcomes[key] = _failure(exc)
                    else:
                        outcomes[key] = None
            finally:
                reactor.callLater(0, reactor.stop)

        def started():
            self.loop = asyncio.get_event_loop()
            factory = self.server.ws_factory
            self.factory_protocol_at_start = factory.protocol
            factory.protocol = self.recorded_class
            self.running_checks = asyncio.ensure_future(run_checks())

        reactor.callWhenRunning(started)
        self.server.run()
        return outcomes


def _failure(exc):
    """A check's failure as one line: its message, or pytest's rendering of a bare assert."""
    message = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {message}"


def run_daphne_checks():
    """What ``python -m tests.server.test_compat`` prints: the outcome of every ``in_daphne``
    check, run here after importing server.daphne as the project does."""
    import django

    import server.daphne  # noqa: F401  (our reactor first)

    django.setup()
    checks = {str(index): n for index, n in enumerate(NAMES) if n.in_daphne}
    return DaphneProbe().run(checks)


@functools.cache
def daphne_outcomes():
    """The daphne child's outcomes (embedded defaults: no database or Redis URL)."""
    from conformance.launchers import server_env

    with tempfile.TemporaryDirectory() as workdir:
        # A server under test's environment (as the conformance run's), with a thread count.
        env = server_env(
            DJANGO_SETTINGS_MODULE="project.settings",
            ASGI_THREADS="2",
            SQLITE_PATH=str(Path(workdir) / "db.sqlite3"),
        )
        result = subprocess.run(
            [sys.executable, "-m", "tests.server.test_compat"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        raise RuntimeError(f"the daphne child failed ({result.returncode}):\n{result.stderr}")
    return json.loads(lines[-1])


def _capturing_server_class():
    """A subclass of our Server that keeps its keyword arguments and does not run:
    ``(the class, the dict it fills)``."""
    from server import daphne as ours

    captured = {}

    class Captured(ours.Server):
        def __init__(self, **kwargs):
            captured.update(kwargs)
            super().__init__(**kwargs)

        def run(self):
            captured["ran"] = True

    return Captured, captured


def _cli_capture(argv):
    """What daphne's command line (ours, server.daphne.CommandLineInterface) passes to its
    server class for ``argv``: the server's keyword arguments, without running it."""
    from server import daphne as ours

    cli = ours.CommandLineInterface()
    cli.server_class, captured = _capturing_server_class()
    cli.run([*argv, "tests.server.test_compat:probe_application"])
    return captured


async def probe_application(scope, receive, send):
    """An ASGI application for the command line to import (never called)."""
    raise AssertionError("not served")


@relies_on("daphne", "WebSocketProtocol.handle_reply(message)", in_daphne=True)
def _(probe):
    with probe.connect() as client:
        # Ours sends the empty message daphne drops, then hands the rest to daphne's.
        client.send("")
        assert client.recv(timeout=10) == ""
        client.send(b"")
        assert client.recv(timeout=10) == b""
        client.send("through daphne's")
        assert client.recv(timeout=10) == "through daphne's"


@relies_on("daphne", "Server.run → self.ws_factory", in_daphne=True)
def _(probe):
    from server import daphne as ours

    factory = probe.server.ws_factory
    # Our setter ran when run() assigned the factory, and daphne's options after it kept ours.
    assert probe.factory_protocol_at_start is ours.WebSocketProtocol
    assert probe.server_side(lambda: (factory.failByDrop, factory.utf8validateIncoming)) == (
        False,
        False,
    )
    assert factory.maxMessagePayloadSize == PROBE_MAX_BYTES
    with probe.echoed("x") as protocol:
        # The HTTP protocol reads server.ws_factory back at the upgrade (replaced once running).
        assert isinstance(protocol, probe.recorded_class)


@relies_on("daphne", "Server.__init__(action_logger)", in_daphne=True)
def _(probe):
    from daphne.access import AccessLogGenerator

    captured = _cli_capture([])
    assert isinstance(captured["action_logger"], AccessLogGenerator)
    assert _cli_capture(["--verbosity", "0"])["action_logger"] is None


@relies_on("daphne", "AccessLogGenerator.stream", in_daphne=True)
def _(probe):
    assert _cli_capture([])["action_logger"].stream is sys.stdout
    with tempfile.TemporaryDirectory() as workdir:
        path = Path(workdir) / "access.log"
        stream = _cli_capture(["--access-log", str(path)])["action_logger"].stream
        assert stream is not sys.stdout and stream.name == str(path)
        stream.close()


@relies_on("daphne", "CommandLineInterface.server_class/parser", in_daphne=True)
def _(probe):
    from django.conf import settings

    from server import daphne as ours

    captured = _cli_capture(["--proxy-headers"])
    assert captured["ran"]
    limit = settings.WEBSOCKET_MAX_MESSAGE_BYTES
    assert (captured["websocket_max_message_size"], captured["websocket_max_frame_size"]) == (
        limit,
        limit,
    )
    assert captured["proxy_forwarded_proto_header"] == "X-Forwarded-Proto"
    assert _cli_capture(["--websocket-max-message-size", "7"])["websocket_max_message_size"] == 7
    assert ours.CommandLineInterface.entrypoint.__self__ is ours.CommandLineInterface


@relies_on("daphne", "WebSocketFactory.protocol", in_daphne=True)
def _(probe):
    from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol
    from twisted.internet.address import IPv4Address

    assert WebSocketFactory.protocol is WebSocketProtocol
    factory = WebSocketFactory(probe.server, server="probe")

    class Marker(WebSocketProtocol):
        pass

    factory.protocol = Marker
    assert isinstance(factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 1)), Marker)
    assert WebSocketFactory.protocol is WebSocketProtocol  # set on that factory only


copied(
    "daphne",
    "daphne WebSocketProtocol.onMessage",
    ["daphne.ws_protocol:WebSocketProtocol.onMessage"],
    "4274c37698b28490",
    "WebSocketProtocol.onMessage (server/daphne.py)",
)


def _send_frames(client, *frames):
    from rfc6455.frames import encode_frame

    for payload, opcode, fin in frames:
        client._send_all(encode_frame(payload, opcode, mask=True, fin=fin))


def _frames_until_close(client):
    from rfc6455.frames import Opcode

    frames = [client.receive(timeout=10)[0]]
    while frames[-1].opcode != Opcode.CLOSE:
        frames.append(client.receive(timeout=10)[0])
    return frames


@relies_on(
    "autobahn", "WebSocketServerFactory.setProtocolOptions(utf8validateIncoming)", in_daphne=True
)
def _(probe):
    from rfc6455.frames import CloseCode, Opcode, parse_close_payload

    with contextlib.closing(probe.raw()) as client:
        assert probe.server_side(lambda: probe.protocols[-1].utf8validateIncoming) is False
        _send_frames(client, (b"\xff", Opcode.TEXT, True))
        (close,) = _frames_until_close(client)
    code, reason = parse_close_payload(close.payload)
    # Refused by our decoder (its reason), not by autobahn's validator.
    assert code == CloseCode.INVALID_PAYLOAD
    assert reason.startswith("invalid UTF-8 in a text message"), reason


@relies_on("autobahn", "WebSocketProtocol.onMessageBegin/onMessageFrameData", in_daphne=True)
def _(probe):
    from rfc6455.frames import Opcode

    text = "é€😀".encode()
    with contextlib.closing(probe.raw()) as client:
        # A character cut across frames: whole only if every frame reached our decoder.
        _send_frames(
            client,
            (text[:1], Opcode.TEXT, False),
            (text[1:4], Opcode.CONTINUATION, False),
            (text[4:], Opcode.CONTINUATION, True),
        )
        frame, _ = client.receive(timeout=10)
        assert (frame.opcode, frame.payload) == (Opcode.TEXT, text)
        # Binary: autobahn's defaults collect the payload (ours call them).
        _send_frames(
            client, (b"\x00\xff", Opcode.BINARY, False), (b"\xfe", Opcode.CONTINUATION, True)
        )
        frame, _ = client.receive(timeout=10)
        assert (frame.opcode, frame.payload) == (Opcode.BINARY, b"\x00\xff\xfe")


@relies_on("autobahn", "WebSocketProtocol._fail_connection(code, reason)", in_daphne=True)
def _(probe):
    from rfc6455.frames import CloseCode, Opcode, parse_close_payload

    with contextlib.closing(probe.raw()) as client:
        _send_frames(
            client,
            (b"\xff", Opcode.TEXT, False),
            (b" ignored", Opcode.CONTINUATION, True),
            (b"never echoed", Opcode.TEXT, True),
        )
        frames = _frames_until_close(client)
        protocol = probe.latest_protocol()
        assert probe.server_side(lambda: protocol.failedByMe) is True
    # The close frame was sent (failByDrop off), and the rest of the input ignored.
    assert [frame.opcode for frame in frames] == [Opcode.CLOSE]
    assert parse_close_payload(frames[0].payload)[0] == CloseCode.INVALID_PAYLOAD


@relies_on("autobahn", "WebSocketProtocol._dataReceived(data)", in_daphne=True)
def _(probe):
    import txaio

    assert txaio.get_global_log_level() not in ("debug", "trace")
    with probe.echoed("read") as protocol:
        # Debug logging off: our dataReceived went straight to autobahn's _dataReceived.
        assert probe.server_side(lambda: protocol.data_received_calls) > 0


copied(
    "autobahn",
    "WebSocketAdapterProtocol.dataReceived",
    ["autobahn.twisted.websocket:WebSocketAdapterProtocol.dataReceived"],
    "49d308b69241206f",
    "WebSocketProtocol.dataReceived (server/daphne.py)",
)
copied(
    "autobahn",
    "WebSocketProtocol.sendData",
    ["autobahn.websocket.protocol:WebSocketProtocol.sendData"],
    "179d83fdd8ed4188",
    "WebSocketProtocol.sendData (server/daphne.py)",
)


@relies_on("autobahn", "WebSocketProtocol.send_queue", in_daphne=True)
def _(probe):
    from collections import deque

    from rfc6455.frames import Opcode, encode_frame

    with probe.connect() as client:
        client.send("warm up")
        client.recv(timeout=10)
        protocol = probe.latest_protocol()

        def chopped_then_plain():
            assert isinstance(protocol.send_queue, deque) and not protocol.send_queue
            # A chopped send is queued: what follows must queue behind it (our fast path
            # stands aside while the queue holds anything).
            protocol.sendData(encode_frame(b"chopped", Opcode.TEXT), chopsize=2)
            queued = len(protocol.send_queue)
            protocol.sendMessage(b"plain", isBinary=False)
            return queued

        assert probe.server_side(chopped_then_plain) > 0
        assert [client.recv(timeout=10), client.recv(timeout=10)] == ["chopped", "plain"]
        assert probe.server_side(lambda: len(protocol.send_queue)) == 0


@relies_on("autobahn", "WebSocketProtocol.trafficStats", in_daphne=True)
def _(probe):
    from autobahn.websocket.protocol import TrafficStats

    with probe.echoed("counted") as protocol:
        stats = probe.server_side(lambda: protocol.trafficStats)
        assert isinstance(stats, TrafficStats)
        assert probe.server_side(lambda: stats.outgoingOctetsWireLevel) > 0


@relies_on("autobahn", "TrafficStats.outgoingOctetsWireLevel/preopenOutgoingOctetsWireLevel")
def _():
    from autobahn.websocket.protocol import TrafficStats

    stats = TrafficStats()
    assert stats.outgoingOctetsWireLevel == 0
    assert stats.preopenOutgoingOctetsWireLevel == 0
    stats.outgoingOctetsWireLevel += 5
    stats.reset()
    assert stats.outgoingOctetsWireLevel == 0


@relies_on("autobahn", "WebSocketProtocol.logOctets", in_daphne=True)
def _(probe):
    with probe.echoed("x") as protocol:
        # An option copied from the factory to each protocol, off unless set there.
        assert probe.server_side(lambda: protocol.logOctets) is False
        assert probe.server_side(lambda: protocol.factory.logOctets) is False


@relies_on("autobahn", "WebSocketProtocol.STATE_*", in_daphne=True)
def _(probe):
    from autobahn.websocket.protocol import WebSocketProtocol

    names = ["CLOSED", "CONNECTING", "CLOSING", "OPEN", "PROXY_CONNECTING"]
    states = [getattr(WebSocketProtocol, f"STATE_{name}") for name in names]
    assert len(set(states)) == len(names)
    with probe.echoed("x") as protocol:
        assert probe.server_side(lambda: protocol.state) == WebSocketProtocol.STATE_OPEN
    wait_until(
        lambda: probe.server_side(lambda: protocol.state) == WebSocketProtocol.STATE_CLOSED,
        message="STATE_CLOSED",
    )


@relies_on("autobahn", "WebSocketServerFactory.setProtocolOptions(failByDrop)", in_daphne=True)
def _(probe):
    from websockets.exceptions import ConnectionClosedError

    with probe.connect() as client:
        client.send("x" * (PROBE_MAX_BYTES + 1))
        with pytest.raises(ConnectionClosedError) as closed:
            client.recv(timeout=10)
    # A close frame with 1009, not a dropped TCP connection.
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


@relies_on("autobahn", "WebSocketServerFactory.headers", in_daphne=True)
def _(probe):
    factory = probe.server.ws_factory
    before = probe.server_side(lambda: dict(factory.headers))

    def add():
        factory.headers = {**before, "X-Probe": "in the 101"}

    probe.server_side(add)
    try:
        with probe.connect() as client:
            assert client.response.headers["X-Probe"] == "in the 101"
    finally:
        probe.server_side(lambda: setattr(factory, "headers", before))


@relies_on("txaio", "txaio.get_global_log_level()")
def _():
    # What server/daphne.py gets: autobahn's Twisted modules select txaio's Twisted flavour.
    import autobahn.twisted.websocket  # noqa: F401
    import txaio
    from txaio.interfaces import log_levels

    assert txaio.using_twisted
    before = txaio.get_global_log_level()
    try:
        txaio.set_global_log_level("debug")
        assert txaio.get_global_log_level() == "debug"
    finally:
        txaio.set_global_log_level(before)
    assert before in log_levels and {"debug", "trace"} <= set(log_levels)


@relies_on("daphne", "Server.create_application(protocol, scope)", in_daphne=True)
def _(probe):
    with probe.echoed("x"):
        pass
    given, seen = probe.scopes_given[-1], probe.app_scopes[-1]
    # daphne still leaves the optional "scheme" out of a WebSocket scope: ours adds it.
    assert given["type"] == "websocket" and "scheme" not in given
    assert seen["scheme"] == "ws"


copied(
    "daphne",
    "Server.create_application(protocol, scope)",
    ["daphne.server:Server.create_application"],
    "d0118f2ae44e042e",
    "Server.create_application (server/daphne.py)",
    in_daphne=True,
)


@relies_on("autobahn", "WebSocketProtocol.onCloseFrame/dropConnection", in_daphne=True)
def _(probe):
    from rfc6455.frames import CloseCode, Opcode, parse_close_payload

    with contextlib.closing(probe.raw()) as client:
        client.send(struct.pack("!H", 999), opcode=Opcode.CLOSE)  # a code no frame may carry
        frame, _ = client.receive(timeout=10)
        protocol = probe.latest_protocol()
        assert frame.opcode == Opcode.CLOSE
        assert parse_close_payload(frame.payload)[0] == CloseCode.PROTOCOL_ERROR
        client.sock.settimeout(10)
        assert client.sock.recv(1) == b""  # then the end of the stream (ours), not a reset
    # autobahn still asks for an abort in that call: what ours turns into a normal close.
    assert probe.server_side(lambda: protocol.drops[0]) is True


@relies_on("daphne", "WebSocketProtocol.client_scheme", in_daphne=True)
def _(probe):
    behind_tls = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    with probe.echoed("x", additional_headers=behind_tls) as protocol:
        assert probe.server_side(lambda: protocol.client_scheme) == "https"
    assert probe.app_scopes[-1]["scheme"] == "wss"
    assert probe.app_scopes[-1]["client"][0] == "203.0.113.9"
    with probe.echoed("x") as protocol:
        assert probe.server_side(lambda: getattr(protocol, "client_scheme", None)) is None
    assert probe.app_scopes[-1]["scheme"] == "ws"


@relies_on("daphne", "Server.handle_reply(protocol, message)", in_daphne=True)
def _(probe):
    from daphne.server import Server

    assert inspect.iscoroutinefunction(Server.handle_reply)
    before = probe.replies
    with probe.echoed("x"):
        pass
    # The application's accept and send went through Server.handle_reply (ours awaits it).
    assert probe.replies - before >= 2


@relies_on("daphne", "HTTPChannel, the upgraded transport's producer", in_daphne=True)
def _(probe):
    with probe.echoed("x") as protocol:

        def producer():
            transport = protocol.transport
            return transport.producer is protocol.backpressure, transport.streamingProducer

        # Ours replaced daphne's HTTP channel (registered at connectionMade) as the producer.
        assert probe.server_side(producer) == (True, True)


@relies_on("autobahn", "WebSocketProtocol.onCloseHandshakeTimeout", in_daphne=True)
def _(probe):
    from autobahn.websocket.protocol import WebSocketServerFactory

    from rfc6455.frames import Opcode

    assert WebSocketServerFactory().closeHandshakeTimeout == 1
    assert probe.server.ws_factory.closeHandshakeTimeout == 1
    with contextlib.closing(probe.raw()) as client:
        _send_frames(client, (b"\xff", Opcode.TEXT, True))  # failed by the server: a close
        _frames_until_close(client)
        protocol = probe.latest_protocol()
        # We never answer the close: autobahn drops the connection, aborting it.
        wait_until(lambda: probe.server_side(lambda: list(protocol.drops)), message="a drop")
        assert probe.server_side(lambda: protocol.drops[0]) is True


@relies_on("daphne", "runserver.Command.server_cls", in_daphne=True)
def _(probe):
    from django.conf import settings
    from django.core.management import call_command

    from core.management.commands.runserver import Command

    command = Command()
    command.server_cls, captured = _capturing_server_class()
    command.check = lambda **kwargs: None
    command.check_migrations = lambda: None
    command.get_application = lambda options: probe.application
    call_command(
        command, "127.0.0.1:8123", use_reloader=False, skip_checks=True, stdout=io.StringIO()
    )
    assert captured["ran"]
    assert captured["action_logger"] == command.log_action
    assert captured["websocket_max_message_size"] == settings.DAPHNE_WEBSOCKET_MAX_MESSAGE_SIZE


# server/handlers.py: django, asgiref


def _asgi_handler():
    from django.core.handlers.asgi import ASGIHandler

    return ASGIHandler()


def _http_scope(path="/", **extra):
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
        **extra,
    }


def _receiving(*messages):
    queue = list(messages)

    async def receive():
        return queue.pop(0)

    return receive


copied(
    "django",
    "ASGIHandler.__call__",
    ["django.core.handlers.asgi:ASGIHandler.__call__"],
    "df30c7181f6530cd",
    "PooledASGIHandler.__call__ (server/handlers.py)",
)
copied(
    "django",
    "ASGIHandler.handle",
    ["django.core.handlers.asgi:ASGIHandler.handle"],
    "4d266fa6cd64a6aa",
    "PooledASGIHandler.handle (server/handlers.py)",
)


@relies_on("django", "ASGIHandler.read_body(receive)")
def _():
    from django.core.exceptions import RequestAborted

    handler = _asgi_handler()
    body = run(
        handler.read_body(
            _receiving(
                {"type": "http.request", "body": b"ab", "more_body": True},
                {"type": "http.request", "body": b"c"},
            )
        )
    )
    assert body.read() == b"abc" and body.seekable()
    body.seek(0)
    assert body.read() == b"abc"
    with pytest.raises(RequestAborted):
        run(handler.read_body(_receiving({"type": "http.disconnect"})))


@relies_on("django", "ASGIHandler.create_request(scope, body_file)")
def _():
    from django.core.handlers.asgi import ASGIRequest
    from django.http import HttpResponseBadRequest

    handler = _asgi_handler()
    request, error = handler.create_request(_http_scope("/page/"), io.BytesIO(b""))
    assert error is None and isinstance(request, ASGIRequest) and request.path == "/page/"

    class Undecodable(ASGIRequest):
        def __init__(self, scope, body_file):
            raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")

    handler.request_class = Undecodable
    request, error = handler.create_request(_http_scope(), io.BytesIO(b""))
    assert request is None and isinstance(error, HttpResponseBadRequest)


@relies_on("django", "ASGIHandler.send_response(response, send)")
def _():
    from django.http import HttpResponse, StreamingHttpResponse

    def sent(response):
        messages = []

        async def send(message):
            messages.append(message)

        run(_asgi_handler().send_response(response, send))
        return messages

    start, body = sent(HttpResponse(b"hello", headers={"X-Probe": "1"}))
    assert (start["type"], start["status"]) == ("http.response.start", 200)
    assert (b"X-Probe", b"1") in start["headers"]
    assert (body["type"], body["body"], body.get("more_body", False)) == (
        "http.response.body",
        b"hello",
        False,
    )

    async def chunks():
        yield b"a"
        yield b"b"

    messages = sent(StreamingHttpResponse(chunks()))
    assert [m.get("body", b"") for m in messages[1:]] == [b"a", b"b", b""]
    assert messages[-1].get("more_body", False) is False


@relies_on("django", "django.core.handlers.asgi.get_script_prefix(scope)")
def _():
    from django.core.handlers.asgi import get_script_prefix
    from django.test import override_settings

    with override_settings(FORCE_SCRIPT_NAME=None):
        assert get_script_prefix({"root_path": "/mounted"}) == "/mounted"
    with override_settings(FORCE_SCRIPT_NAME="/forced"):
        assert get_script_prefix({"root_path": "/mounted"}) == "/forced"


@relies_on("django", "HttpResponseBase._handler_class", uses_db=True)
def _():
    from django.core.signals import request_finished
    from django.http import HttpResponse

    class Marker:
        pass

    senders = []

    def receiver(sender, **kwargs):
        senders.append(sender)

    request_finished.connect(receiver)
    try:
        response = HttpResponse(b"x")
        response._handler_class = Marker
        response.close()
    finally:
        request_finished.disconnect(receiver)
    assert senders == [Marker]


@relies_on("django", "BaseHandler.load_middleware(is_async)")
def _():
    from django.core.handlers.base import BaseHandler
    from django.test import RequestFactory

    handler = BaseHandler()
    handler.load_middleware(is_async=True)
    request = RequestFactory().get("/compat-check-no-such-page/")
    response = run(handler.get_response_async(request))
    assert response.status_code == 404


@relies_on("asgiref", "SyncToAsync.threadlocal")
def _():
    from asgiref.sync import SyncToAsync, async_to_sync

    async def where():
        return asyncio.get_running_loop()

    async def check():
        main = asyncio.get_running_loop()

        def in_pool_thread():
            # What server/handlers.py does in each of its pool's threads.
            SyncToAsync.threadlocal.main_event_loop = main
            SyncToAsync.threadlocal.main_event_loop_pid = os.getpid()
            try:
                return async_to_sync(where)()
            finally:
                del SyncToAsync.threadlocal.main_event_loop
                del SyncToAsync.threadlocal.main_event_loop_pid

        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            ran_on = await main.run_in_executor(pool, in_pool_thread)
            # Without them, a loop of its own.
            elsewhere = await main.run_in_executor(pool, async_to_sync(where))
        assert ran_on is main
        assert elsewhere is not main

    run(check())


# core/session_backends/cache.py: django, django-redis, pymemcache


def _cache_store_class():
    from django.contrib.sessions.backends.cache import SessionStore

    return SessionStore


class _FailingCache:
    """A cache whose every call raises, as a cache server that went away does."""

    def __contains__(self, key):
        raise ConnectionError("cache.__contains__")

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ConnectionError(f"cache.{name}")

        async def afail(*args, **kwargs):
            raise ConnectionError(f"cache.{name}")

        return afail if name.startswith("a") and name not in ("add",) else fail


copied(
    "django",
    "cache.SessionStore.load/aload",
    [
        "django.contrib.sessions.backends.cache:SessionStore.load",
        "django.contrib.sessions.backends.cache:SessionStore.aload",
    ],
    "bc54933658ad4a75",
    "SessionStore.load and aload (core/session_backends/cache.py)",
)
copied(
    "django",
    "cache.SessionStore.save",
    ["django.contrib.sessions.backends.cache:SessionStore.save"],
    "f408ac4223c652f8",
    "SessionStore.save (core/session_backends/cache.py)",
)


@relies_on("django-redis", "RedisCache.set(..., xx=)")
def _():
    from django_redis.cache import RedisCache

    calls = []

    class Client:
        def set(self, name, value, **kwargs):
            calls.append(kwargs)
            return kwargs.get("xx") is not True or name.endswith("present")

    cache = RedisCache("redis://127.0.0.1:1/0", {})
    assert cache.set("present", "v", 60, xx=True, client=Client()) is True
    assert cache.set("absent", "v", 60, xx=True, client=Client()) is False
    assert [call["xx"] for call in calls] == [True, True]


@relies_on("django", "cache.SessionStore.save/asave/exists/aexists/delete/adelete")
def _():
    store = _cache_store_class()(session_key="k" * 32)
    store._cache = _FailingCache()
    for call in (
        lambda: store.save(),
        lambda: store.exists("k" * 32),
        lambda: store.delete(),
        lambda: run(store.asave()),
        lambda: run(store.aexists("k" * 32)),
        lambda: run(store.adelete()),
    ):
        # The cache's error is not caught on the way.
        with pytest.raises(ConnectionError):
            call()
    signature = {name: p.default for name, p in inspect.signature(store.save).parameters.items()}
    assert signature == {"must_create": False}
    assert inspect.signature(store.delete).parameters["session_key"].default is None


@relies_on("django", "cache.SessionStore.create/acreate")
def _():
    store_class = _cache_store_class()
    saves = []

    class Recording(store_class):
        def save(self, must_create=False):
            saves.append(("save", must_create))

        async def asave(self, must_create=False):
            saves.append(("asave", must_create))

    Recording().create()
    run(Recording().acreate())
    assert saves == [("save", True), ("asave", True)]
    # Only CreateError is caught: a cache error from the save goes through.
    failing = store_class()
    failing._cache = _FailingCache()
    with pytest.raises(ConnectionError):
        failing.create()
    with pytest.raises(ConnectionError):
        run(failing.acreate())


@relies_on("django", "cache.SessionStore._cache")
def _():
    from django.conf import settings
    from django.core.cache import caches

    assert _cache_store_class()()._cache is caches[settings.SESSION_CACHE_ALIAS]


@relies_on("django", "cache.SessionStore.cache_key/acache_key")
def _():
    store = _cache_store_class()(session_key="k" * 32)
    assert store.cache_key == store.cache_key_prefix + "k" * 32
    assert run(store.acache_key()) == store.cache_key
    fresh = _cache_store_class()()
    fresh._cache = _MemoryCache()
    assert fresh.cache_key.endswith(fresh.session_key)  # a key made on the way


class _MemoryCache(dict):
    def add(self, key, value, timeout=None):
        return self.setdefault(key, value) is value

    def get(self, key, default=None):
        return super().get(key, default)

    def set(self, key, value, timeout=None):
        self[key] = value

    def delete(self, key):
        self.pop(key, None)

    def __contains__(self, key):
        return dict.__contains__(self, key)


@relies_on("django", "SessionBase._session_key")
def _():
    from django.contrib.sessions.backends.signed_cookies import SessionStore

    assert SessionStore()._session_key is None
    store = SessionStore(session_key="k" * 32)
    assert store._session_key == "k" * 32 == store.session_key
    store._session_key = None
    assert store.session_key is None


@relies_on("django", "SessionBase._get_session/_aget_session")
def _():
    from django.contrib.sessions.backends.base import SessionBase

    loads = []

    class Store(SessionBase):
        def load(self):
            loads.append("load")
            return {"a": 1}

        async def aload(self):
            loads.append("aload")
            return {"a": 2}

    store = Store(session_key="k" * 32)
    assert store._get_session() == {"a": 1} and store._get_session() == {"a": 1}
    assert loads == ["load"]  # loaded once, then cached
    assert Store()._get_session() == {}  # no key: nothing to load
    assert run(Store(session_key="k" * 32)._aget_session()) == {"a": 2}
    assert store._get_session(no_load=True) == {"a": 1}


@relies_on("django-redis", "django_redis.cache.omit_exception")
def _():
    import redis
    from django_redis.cache import RedisCache

    # Nothing listens on port 1: redis-py's own error reaches the caller.
    cache = RedisCache("redis://127.0.0.1:1/0", {"OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1}})
    with pytest.raises(redis.exceptions.ConnectionError):
        cache.get("key")


@relies_on("pymemcache", "pymemcache.exceptions.MemcacheError")
def _():
    from pymemcache import exceptions
    from pymemcache.client.base import Client

    raised = [
        obj
        for obj in vars(exceptions).values()
        if isinstance(obj, type) and issubclass(obj, Exception)
    ]
    assert raised and all(issubclass(obj, exceptions.MemcacheError) for obj in raised)
    # Nothing listens on port 1: the read raises, it does not answer "not found".
    client = Client(("127.0.0.1", 1), connect_timeout=1, timeout=1)
    with pytest.raises(OSError):
        client.get("key")
    assert "ignore_exc" not in _memcached_cache("127.0.0.1:11211")._options


# core/session_backends/anonymous.py, core/session_backends/file.py: django


@relies_on("django", "SessionBase._session_cache")
def _():
    from django.contrib.sessions.backends.signed_cookies import SessionStore

    store = SessionStore()
    assert not hasattr(store, "_session_cache")
    store._get_session()
    assert store._session_cache == {}  # no key: {} without loading
    store["a"] = 1
    store.cycle_key()
    assert store._session_cache == {"a": 1}
    store.clear()
    assert store._session_cache == {}


copied(
    "django",
    "file.SessionStore._expiry_date(session_data)",
    ["django.contrib.sessions.backends.file:SessionStore._expiry_date"],
    "98403b4f7e782886",
    "SessionStore._expiry_date (core/session_backends/file.py)",
)


@contextlib.contextmanager
def _file_sessions():
    from django.contrib.sessions.backends.file import SessionStore
    from django.test import override_settings

    with tempfile.TemporaryDirectory() as directory, override_settings(SESSION_FILE_PATH=directory):

        class Store(SessionStore):
            # Django keeps the directory on the class once it has read the setting.
            _storage_path = directory

        yield Store, Path(directory)


@relies_on("django", "file.SessionStore._expiry_date(session_data)")
def _():
    from django.utils import timezone

    with _file_sessions() as (store_class, _directory):

        class Expired(store_class):
            def _expiry_date(self, session_data):
                return timezone.now() - timezone.timedelta(seconds=1)

        store = store_class()
        store["a"] = 1
        store.save()
        path = Path(store._key_to_file(store.session_key))
        assert path.exists()
        # load() asks _expiry_date, and deletes a session past it.
        assert Expired(session_key=store.session_key).load() == {}
        assert not path.exists()


@relies_on("django", "file.SessionStore._last_modification()")
def _():
    from django.utils import timezone

    with _file_sessions() as (store_class, _directory):
        store = store_class()
        store.save()
        modified = store._last_modification()
        mtime = Path(store._key_to_file(store.session_key)).stat().st_mtime
        assert abs(modified.timestamp() - mtime) < 1e-3
        assert timezone.is_aware(modified)


@relies_on("django", "file.SessionStore._key_to_file(session_key)")
def _():
    from django.contrib.sessions.exceptions import InvalidSessionKey

    with _file_sessions() as (store_class, directory):
        store = store_class()
        store["a"] = 1
        store.save()
        path = Path(store._key_to_file(store.session_key))
        assert path.parent == directory and path.is_file()
        assert store.decode(path.read_text(encoding="ascii")) == {"a": 1}
        with pytest.raises(InvalidSessionKey):
            store._key_to_file("../escape")


@relies_on("django", "SessionBase '_session_expiry' key")
def _():
    from django.contrib.sessions.backends.signed_cookies import SessionStore

    store = SessionStore()
    store.set_expiry(60)
    assert store["_session_expiry"] == 60
    assert store.get_expiry_age(expiry=store["_session_expiry"]) == 60
    store.set_expiry(None)
    assert "_session_expiry" not in store


# core/security_headers.py: django-csp


@relies_on("django-csp", "csp.utils.build_policy()")
def _():
    from csp.middleware import CSPMiddleware
    from csp.utils import build_policy
    from django.http import HttpResponse
    from django.test import RequestFactory, override_settings

    policy = {"DIRECTIVES": {"default-src": ["'self'"], "script-src": ["'self'"]}}
    with override_settings(CONTENT_SECURITY_POLICY=policy):
        built = build_policy()
        assert "script-src 'self'" in built.split("; ")
        middleware = CSPMiddleware(lambda request: HttpResponse(b"page"))
        response = middleware(RequestFactory().get("/"))
        # What the middleware sends for a response without per-view changes.
        assert response.headers["Content-Security-Policy"] == built
    with override_settings(CONTENT_SECURITY_POLICY={}):
        assert build_policy() == ""


# core/memcached.py: django, pymemcache. The Client checks talk to a memcached of their own.


def _memcached_cache(location, options=None):
    """Django's PyMemcacheCache, built (it connects on first use only)."""
    from django.core.cache.backends.memcached import PyMemcacheCache

    return PyMemcacheCache(location, {"OPTIONS": options or {}})


def _memcached_options():
    return {"connect_timeout": 1.0, "timeout": 2.0, "no_delay": True}


@contextlib.contextmanager
def _memcached():
    from tests.support.services import MemcachedInstance

    with tempfile.TemporaryDirectory() as workdir:
        instance = MemcachedInstance(workdir).start()
        try:
            yield instance
        finally:
            instance.stop()


@relies_on("django", "BaseMemcachedCache._servers")
def _():
    assert _memcached_cache("a:1,b:2;c:3")._servers == ["a:1", "b:2", "c:3"]
    assert _memcached_cache("[::1]:11211")._servers == ["[::1]:11211"]
    assert _memcached_cache(["a:1"])._servers == ["a:1"]


@relies_on("django", "BaseMemcachedCache._lib/_class")
def _():
    import pymemcache

    cache = _memcached_cache("127.0.0.1:11211", _memcached_options())
    assert cache._lib is pymemcache
    assert cache._class is pymemcache.HashClient
    assert pymemcache.Client.__module__ == "pymemcache.client.base"
    built = []

    class Recorder:
        def __init__(self, servers, **options):
            built.append((servers, options))

    cache._class = Recorder
    assert isinstance(cache._cache, Recorder)  # _cache instantiates _class
    assert built == [(cache.client_servers, cache._options)]


@relies_on("django", "BaseMemcachedCache._options")
def _():
    import pymemcache.serde

    options = _memcached_cache("127.0.0.1:11211", _memcached_options())._options
    assert options == {
        "allow_unicode_keys": True,
        "default_noreply": False,
        "serde": pymemcache.serde.pickle_serde,
        **_memcached_options(),
    }


copied(
    "django",
    "BaseMemcachedCache._cache",
    ["django.core.cache.backends.memcached:BaseMemcachedCache._cache.real_func"],
    "8e07a21a665259ca",
    "SingleServerPyMemcacheCache._cache (core/memcached.py)",
)


@relies_on("django", "BaseMemcachedCache.close", uses_db=True)
def _():
    from django.core import signals
    from django.core.cache import caches
    from django.test import override_settings

    closed = []

    class Client:
        def disconnect_all(self):
            closed.append("disconnect_all")

    cache = _memcached_cache("127.0.0.1:11211")
    cache.__dict__["_cache"] = Client()  # the cached_property's value
    cache.close()
    assert closed == ["disconnect_all"]
    # Every request's end closes the caches in use (close_caches on request_finished).
    location = {"BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache"}
    with override_settings(CACHES={"default": {**location, "LOCATION": "127.0.0.1:11211"}}):
        caches["default"].__dict__["_cache"] = Client()
        signals.request_finished.send(sender=None)
        assert closed == ["disconnect_all", "disconnect_all"]


@relies_on("pymemcache", "Client(server, **options)")
def _():
    from unittest import mock

    from pymemcache.client.base import Client

    assert Client("127.0.0.1:11211").server == ("127.0.0.1", 11211)
    assert Client("[::1]:11211").server == ("::1", 11211)
    options = _memcached_options()
    Client("127.0.0.1:11211", **_memcached_cache("127.0.0.1:1", options)._options)
    # Every method of Django's cache reaches the client through calls a Client takes.
    cache = _memcached_cache("127.0.0.1:11211")
    client = mock.create_autospec(Client, instance=True)
    client.get_multi.return_value = {}
    client.set_multi.return_value = []
    client.incr.return_value = 2
    client.decr.return_value = 0
    cache.__dict__["_cache"] = client
    cache.add("k", 1)
    cache.get("k")
    cache.set("k", 1)
    cache.touch("k")
    cache.delete("k")
    cache.get_many(["k"])
    cache.set_many({"k": 1})
    cache.delete_many(["k"])
    cache.incr("k")
    cache.decr("k")
    cache.clear()
    with _memcached() as memcached:
        server = memcached.url.removeprefix("memcached://")
        client = Client(server, **_memcached_cache(server, options)._options)
        assert client.get("absent", "default") == "default"
        assert client.set_many({"a": 1, "b": 2}) == []  # the keys not stored
        assert client.get_many(["a", "b"]) == {"a": 1, "b": 2}
        client.close()


@relies_on("pymemcache", "Client.close()")
def _():
    from pymemcache.client.base import Client
    from pymemcache.exceptions import MemcacheError

    with _memcached() as memcached:
        client = Client(memcached.url.removeprefix("memcached://"), connect_timeout=1, timeout=1)
        assert client.set("k", "v", noreply=False) is True
        assert client.sock is not None
        client.close()
        assert client.sock is None
        assert client.get("k") == b"v"  # connects again
        memcached.stop()
        with pytest.raises((OSError, MemcacheError)):
            client.get("k")
        assert client.sock is None  # a failed operation closed it too


# server/daphne.py (origin check), core/websocket_origin.py: django


@relies_on("django", "HttpRequest._get_scheme()")
def _():
    from django.http import HttpRequest
    from django.test import override_settings

    class Request(HttpRequest):
        def _get_scheme(self):
            return "https"

    request = Request()
    request.META = {"HTTP_HOST": "example.com", "HTTP_X_FORWARDED_HOST": "proxy.example"}
    with override_settings(SECURE_PROXY_SSL_HEADER=None, ALLOWED_HOSTS=["*"]):
        assert request.scheme == "https"
        assert request.get_host() == "example.com"
    with override_settings(
        SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"), ALLOWED_HOSTS=["*"]
    ):
        request.META["HTTP_X_FORWARDED_PROTO"] = "http"
        assert request.scheme == "http"  # the proxy header decides
    with override_settings(USE_X_FORWARDED_HOST=True, ALLOWED_HOSTS=["proxy.example"]):
        assert request.get_host() == "proxy.example"


@relies_on("django", "SessionBase.cycle_key/flush")
def _():
    from django.contrib.sessions.backends.base import SessionBase

    calls = []

    class Store(SessionBase):
        def create(self):
            calls.append("create")
            self._session_key = "n" * 32

        def delete(self, session_key=None):
            calls.append(("delete", session_key))

        def load(self):
            return {}

        def clear(self):
            calls.append("clear")
            super().clear()

    store = Store(session_key="o" * 32)
    store.cycle_key()
    assert calls == ["create", ("delete", "o" * 32)]
    calls.clear()
    store.flush()
    assert calls == ["clear", ("delete", None)]


@relies_on("redis", "ConnectionPool(retry=)")
def _():
    import redis
    import redis.asyncio

    from core.redis_connections import retry_policy

    for module, is_async in ((redis, False), (redis.asyncio, True)):
        policy = retry_policy(asyncio=is_async)
        pool = module.ConnectionPool.from_url("redis://127.0.0.1:1/0", retry=policy)
        connection = pool.make_connection()
        assert connection.retry.get_retries() == 1
        assert connection.retry._supported_errors == (redis.exceptions.ConnectionError,)


# core/redis_connections.py (and chat/live.py): django-redis, channels-redis, redis


def _sentinel_factory():
    from django_redis.pool import SentinelConnectionFactory

    return SentinelConnectionFactory(
        {
            "SENTINELS": [["sentinel-1", 26379]],
            "SENTINEL_KWARGS": {"socket_timeout": 2.0, "password": "sentinel-pass"},
            "PASSWORD": "master-pass",
            "SOCKET_TIMEOUT": 2.0,
            "SOCKET_CONNECT_TIMEOUT": 1.0,
        }
    )


@relies_on("django-redis", "OPTIONS CONNECTION_FACTORY/SENTINELS/SENTINEL_KWARGS")
def _():
    from django.test import override_settings
    from django_redis import pool

    options = {
        "CONNECTION_FACTORY": "django_redis.pool.SentinelConnectionFactory",
        "SENTINELS": [["sentinel-1", 26379]],
        "SENTINEL_KWARGS": {"socket_timeout": 2.0},
    }
    # A cache's own CONNECTION_FACTORY wins over the project-wide setting.
    with override_settings(DJANGO_REDIS_CONNECTION_FACTORY="django_redis.pool.ConnectionFactory"):
        factory = pool.get_connection_factory(options=options)
        assert type(pool.get_connection_factory(options={})) is pool.ConnectionFactory
    assert isinstance(factory, pool.SentinelConnectionFactory)
    assert factory._sentinel.sentinel_kwargs == {"socket_timeout": 2.0}
    kwargs = factory._sentinel.sentinels[0].connection_pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"]) == ("sentinel-1", 26379)


@relies_on("django-redis", "SentinelConnectionFactory.__init__(options)")
def _():
    from redis.sentinel import Sentinel, SentinelConnectionPool

    factory = _sentinel_factory()
    assert factory.pool_cls is SentinelConnectionPool
    sentinel = factory._sentinel
    assert isinstance(sentinel, Sentinel)
    assert sentinel.sentinel_kwargs == {"socket_timeout": 2.0, "password": "sentinel-pass"}
    master = {"password": "master-pass", "socket_timeout": 2.0, "socket_connect_timeout": 1.0}
    assert master.items() <= sentinel.connection_kwargs.items()
    kwargs = sentinel.sentinels[0].connection_pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"]) == ("sentinel-1", 26379)


@relies_on("django-redis", "SentinelConnectionFactory.get_connection_pool(params)")
def _():
    factory = _sentinel_factory()
    pool = factory.get_connection_pool(factory.make_connection_params("redis://My-Master/3"))
    assert pool.service_name == "my-master"
    assert pool.is_master is True
    assert pool.sentinel_manager is factory._sentinel
    kwargs = pool.connection_kwargs
    assert (kwargs["db"], kwargs["password"], kwargs["socket_timeout"]) == (3, "master-pass", 2.0)


@relies_on("channels-redis", "channels_redis.utils.create_pool(host)")
def _():
    from channels_redis.utils import create_pool, decode_hosts
    from redis.asyncio import ConnectionPool
    from redis.asyncio.sentinel import SentinelConnectionPool

    host = {
        "master_name": "mymaster",
        "sentinels": [["sentinel-1", 26379]],
        "sentinel_kwargs": {"socket_timeout": 2.0},
        "db": 2,
        "password": "master-pass",
        "socket_connect_timeout": 1.0,
        "socket_timeout": 15.0,
    }
    assert decode_hosts([host]) == [host]
    pool = create_pool(host)
    assert isinstance(pool, SentinelConnectionPool)
    assert pool.service_name == "mymaster"
    assert pool.sentinel_manager.sentinel_kwargs == {"socket_timeout": 2.0}
    assert pool.sentinel_manager.connection_kwargs == {}
    kwargs = pool.connection_kwargs
    assert {
        k: kwargs[k] for k in ("db", "password", "socket_connect_timeout", "socket_timeout")
    } == {
        "db": 2,
        "password": "master-pass",
        "socket_connect_timeout": 1.0,
        "socket_timeout": 15.0,
    }
    del host["sentinel_kwargs"]
    assert create_pool(host).sentinel_manager.sentinel_kwargs == {}
    plain = create_pool({"address": "redis://127.0.0.1:6379/1", "socket_timeout": 15.0})
    assert type(plain) is ConnectionPool
    assert (plain.connection_kwargs["db"], plain.connection_kwargs["socket_timeout"]) == (1, 15.0)


@relies_on("redis", "Sentinel(sentinels, sentinel_kwargs)")
def _():
    import redis.asyncio
    import redis.sentinel

    for sentinel_class in (redis.sentinel.Sentinel, redis.asyncio.Sentinel):
        sentinel = sentinel_class(
            [["sentinel-1", 26379]],
            sentinel_kwargs={"socket_timeout": 2.0, "password": "sentinel-pass"},
            socket_connect_timeout=1.0,
        )
        kwargs = sentinel.sentinels[0].connection_pool.connection_kwargs
        assert (kwargs["host"], kwargs["port"]) == ("sentinel-1", 26379)
        assert (kwargs["socket_timeout"], kwargs["password"]) == (2.0, "sentinel-pass")
        client = sentinel.master_for("mymaster", db=3, password=None, socket_timeout=2.0)
        kwargs = client.connection_pool.connection_kwargs
        assert (kwargs["db"], kwargs["password"]) == (3, None)
        assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == (2.0, 1.0)


@relies_on("redis", "SentinelConnectionPool.sentinel_manager")
def _():
    import redis.asyncio

    sentinel = redis.asyncio.Sentinel([["sentinel-1", 26379]])
    client = sentinel.master_for("mymaster")
    assert client.connection_pool.sentinel_manager is sentinel
    assert client.auto_close_connection_pool, "the client's aclose() no longer closes its pool"
    assert inspect.iscoroutinefunction(redis.asyncio.Sentinel.aclose)
    plain = redis.asyncio.Redis.from_url("redis://127.0.0.1:6379")
    assert not hasattr(plain.connection_pool, "sentinel_manager")


@relies_on("granian", "granian.server.Server keywords")
def _():
    from granian.server import Server

    keywords = {"address", "port", "interface", "workers", "loop", "http", "websockets"}
    keywords |= {"log_level", "log_access"}
    assert keywords <= set(params(Server))
    assert "target_loader" in params(Server.serve)


@relies_on("granian", "granian.constants and granian.log enums")
def _():
    from granian.constants import HTTPModes, Interfaces, Loops
    from granian.log import LogLevels

    assert (Interfaces.ASGINL.value, Loops.uvloop.value, HTTPModes.http1.value) == (
        "asginl",
        "uvloop",
        "1",
    )
    for name in ("debug", "info", "warning", "error", "critical"):
        assert LogLevels(name).value == name


@relies_on("granian", "granian.utils.proxies.wrap_asgi_with_proxy_headers(app, trusted_hosts)")
def _():
    from granian.utils.proxies import wrap_asgi_with_proxy_headers

    assert params(wrap_asgi_with_proxy_headers) == ["app", "trusted_hosts"]


@relies_on("granian", "granian.utils.proxies.wrap_wsgi_with_proxy_headers(app, trusted_hosts)")
def _():
    from granian.utils.proxies import wrap_wsgi_with_proxy_headers

    assert params(wrap_wsgi_with_proxy_headers) == ["app", "trusted_hosts"]


@relies_on("granian", "granian.server.Server WSGI keywords")
def _():
    from granian.constants import Interfaces
    from granian.server import Server

    assert Interfaces.WSGI.value == "wsgi"
    assert "blocking_threads" in inspect.signature(Server).parameters


# server/uvicorn.py: uvicorn, websockets. Each check serves a small ASGI application with uvicorn
# in this process, on uvloop and server/uvicorn.py's options, and talks to it with websockets'
# client.


def _uvicorn_options(**overrides):
    from server import uvicorn as ours
    from server.commands import free_port, launcher_arguments

    args = launcher_arguments("").parse_args(["--port", str(free_port()), "--no-access-log"])
    return {**ours.run_options(args), "log_level": "warning", **overrides}


def _on_uvloop(check):
    """Run the coroutine function ``check`` on uvloop, as ``uvicorn.run(loop="uvloop")`` does."""
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(asyncio.wait_for(check(), 30))


@contextlib.asynccontextmanager
async def _uvicorn_serving(app, **overrides):
    """uvicorn serving ``app`` with server/uvicorn.py's options, its WebSocket protocol subclassed
    to record the instances uvicorn builds: yields ``(ws_url, protocols)``."""
    import uvicorn

    from server import uvicorn as ours

    protocols = []

    class Recorded(ours.WebSocketProtocol):
        def connection_made(self, transport):
            protocols.append(self)
            super().connection_made(transport)

    options = _uvicorn_options(ws=Recorded, **overrides)
    server = uvicorn.Server(uvicorn.Config(app, **options))
    serving = asyncio.ensure_future(server.serve())
    while not server.started:
        assert not serving.done(), "uvicorn did not start"
        await asyncio.sleep(0.01)
    try:
        yield f"ws://{options['host']}:{options['port']}/", protocols
    finally:
        server.should_exit = True
        await serving


def _echo_app(received=None, errors=None):
    """An ASGI WebSocket echo; ``received`` (an Event), when given, is awaited before each
    receive; the exceptions its sends raise go to ``errors``."""

    async def app(scope, receive, send):
        assert scope["type"] == "websocket"
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        while True:
            if received is not None:
                await received.wait()
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            try:
                await send(
                    {"type": "websocket.send", **{k: message.get(k) for k in ("text", "bytes")}}
                )
            except Exception as exc:
                if errors is None:
                    raise
                errors.append(exc)
                return

    return app


async def _closed_with(connection):
    """The close frame the server sent, once the connection has ended."""
    from websockets.exceptions import ConnectionClosed

    try:
        while True:
            await connection.recv()
    except ConnectionClosed as closed:
        return closed.rcvd


@relies_on("uvicorn", "uvicorn.run keywords")
def _():
    import uvicorn
    import uvloop
    from uvicorn.lifespan.off import LifespanOff
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    from server import uvicorn as ours

    config = uvicorn.Config(_echo_app(), **_uvicorn_options())
    config.load()
    assert config.ws_protocol_class is ours.WebSocketProtocol
    assert config.http_protocol_class is HttpToolsProtocol
    assert config.lifespan_class is LifespanOff
    assert config.get_loop_factory() is uvloop.new_event_loop
    assert config.ws_max_size == ours.settings.WEBSOCKET_MAX_MESSAGE_BYTES
    assert config.server_header is False
    assert config.access_log is False


@relies_on("uvicorn", "uvicorn.run(ws=<class>)")
def _():
    from websockets.asyncio.client import connect

    async def check():
        async with _uvicorn_serving(_echo_app()) as (url, protocols), connect(url) as client:
            await client.send("through the class given")
            assert await client.recv() == "through the class given"
            assert len(protocols) == 1

    _on_uvloop(check)


@relies_on("uvicorn", "WebSocketsSansIOProtocol flow control")
def _():
    from django.test import override_settings
    from uvicorn.protocols.utils import ClientDisconnected
    from websockets.asyncio.client import connect

    async def check():
        received, errors = asyncio.Event(), []
        async with _uvicorn_serving(_echo_app(received, errors)) as (url, protocols):
            async with connect(url) as client:
                (protocol,) = protocols
                # A message waiting for the application: reading stops until it is taken.
                await client.send("first")
                await client.send("second")
                while protocol.transport.is_reading():
                    await asyncio.sleep(0.01)
                received.set()
                assert await client.recv() == "first"
                assert await client.recv() == "second"
                assert protocol.transport.is_reading()
                # The transport's high-water mark passed: the application's sends wait.
                protocol.pause_writing()
                await client.send("held")
                with pytest.raises(TimeoutError):
                    await asyncio.wait_for(client.recv(), 0.3)
                protocol.resume_writing()
                assert await client.recv() == "held"
                # Lost while a send waits: it raises ClientDisconnected.
                protocol.pause_writing()
                await client.send("never sent")
                await asyncio.sleep(0.1)
                protocol.transport.abort()
            while not errors:
                await asyncio.sleep(0.01)
            assert isinstance(errors[0], ClientDisconnected), errors

    with override_settings(WEBSOCKET_SEND_TIMEOUT=60):
        _on_uvloop(check)


@relies_on("uvicorn", "WebSocketsSansIOProtocol.conn/close_sent/close_timer")
def _():
    from django.test import override_settings
    from uvicorn.protocols.utils import ClientDisconnected
    from websockets.asyncio.client import connect

    from server.uvicorn import CLOSE_POLICY_VIOLATION

    async def check():
        errors = []
        async with _uvicorn_serving(_echo_app(errors=errors)) as (url, protocols):
            async with connect(url) as client:
                (protocol,) = protocols
                protocol.pause_writing()
                await client.send("waits for the timeout")
                close = await _closed_with(client)
            assert (close.code, close.reason) == (
                CLOSE_POLICY_VIOLATION,
                "the client does not read",
            )
            while not errors:
                await asyncio.sleep(0.01)
            assert isinstance(errors[0], ClientDisconnected), errors
            # The connection ended: connection_lost() cancelled the abort.
            assert protocol.close_timer is None

    with override_settings(WEBSOCKET_SEND_TIMEOUT=0.2):
        _on_uvloop(check)


@relies_on("uvicorn", "WebSocketsSansIOProtocol.handle_cont/handle_parser_exception")
def _():
    from websockets.asyncio.client import connect
    from websockets.asyncio.messages import MAX_FRAGMENTS
    from websockets.frames import CloseCode

    async def check():
        async with _uvicorn_serving(_echo_app(), ws_max_size=10_000) as (url, _protocols):
            async with connect(url) as client:
                # websockets' client sends one frame per chunk, then an empty final frame.
                await client.send(["x"] * (MAX_FRAGMENTS - 1))
                assert await client.recv() == "x" * (MAX_FRAGMENTS - 1)
                await client.send(["x"] * MAX_FRAGMENTS)
                close = await _closed_with(client)
            assert (close.code, close.reason) == (CloseCode.MESSAGE_TOO_BIG, "too many fragments")
            # The size limit is websockets' own, with the same close code.
            async with connect(url) as client:
                await client.send(["y" * 6000, "y" * 4001])
                close = await _closed_with(client)
            assert close.code == CloseCode.MESSAGE_TOO_BIG

    _on_uvloop(check)


@relies_on("uvicorn", "WebSocketsSansIOProtocol.handle_text/curr_msg_data_type")
def _():
    import logging

    from rfc6455.client import RawWebSocket
    from rfc6455.frames import CloseCode, Opcode, encode_frame, parse_close_payload

    def first_answer(url, frames):
        client = RawWebSocket(url, timeout=10)
        client.connect()
        try:
            for payload, opcode, fin in frames:
                client._send_all(encode_frame(payload, opcode, mask=True, fin=fin))
            return client.receive(timeout=10)[0]
        finally:
            client.close()

    async def check():
        async with _uvicorn_serving(_echo_app()) as (url, _protocols):
            text = "é€".encode()
            cut = [(text[:1], Opcode.TEXT, False), (text[1:], Opcode.CONTINUATION, True)]
            echoed = await asyncio.to_thread(first_answer, url, cut)
            assert (echoed.opcode, echoed.payload) == (Opcode.TEXT, text)
            binary = [(b"\xff", Opcode.BINARY, False), (b"\xfe", Opcode.CONTINUATION, True)]
            echoed = await asyncio.to_thread(first_answer, url, binary)
            assert (echoed.opcode, echoed.payload) == (Opcode.BINARY, b"\xff\xfe")
            # Invalid UTF-8 in a message not yet whole: refused at once (ours, frame by frame).
            invalid = [(b"fine so far \xff", Opcode.TEXT, False)]
            closed = await asyncio.to_thread(first_answer, url, invalid)
            assert closed.opcode == Opcode.CLOSE
            assert parse_close_payload(closed.payload)[0] == CloseCode.INVALID_PAYLOAD

    errors = []

    class Kept(logging.Handler):
        def emit(self, record):
            errors.append(record.getMessage())

    logger, handler = logging.getLogger("uvicorn.error"), Kept(logging.ERROR)
    logger.addHandler(handler)
    try:
        _on_uvloop(check)
    finally:
        logger.removeHandler(handler)
    assert not errors, errors


copied(
    "uvicorn",
    "WebSocketsSansIOProtocol.data_received",
    ["uvicorn.protocols.websockets.websockets_sansio_impl:WebSocketsSansIOProtocol.data_received"],
    "e963ce0226d5a875",
    "WebSocketProtocol.data_received (server/uvicorn.py)",
)


@relies_on("uvicorn", "WebSocketsSansIOProtocol.data_received")
def _():
    import struct

    from rfc6455.client import RawWebSocket
    from rfc6455.frames import Opcode, encode_frame, parse_close_payload

    def closed_inside_a_message(url):
        client = RawWebSocket(url, timeout=10)
        client.connect()
        try:
            for payload, opcode, fin in (
                (b"fragment1", Opcode.TEXT, False),
                (struct.pack("!H", 1000), Opcode.CLOSE, True),
                (b"fragment2", Opcode.CONTINUATION, True),
            ):
                client._send_all(encode_frame(payload, opcode, mask=True, fin=fin))
            frame = client.receive(timeout=10)[0]
            client.sock.settimeout(10)
            return frame, client.sock.recv(1)
        finally:
            client.close()

    async def check():
        async with _uvicorn_serving(_echo_app()) as (url, _protocols):
            return await asyncio.to_thread(closed_inside_a_message, url)

    frame, after = _on_uvloop(check)
    assert frame.opcode == Opcode.CLOSE and parse_close_payload(frame.payload)[0] == 1000
    assert after == b""  # then the end of the stream


@relies_on("websockets", "ServerProtocol.parser_exc/close_rcvd/close_rcvd_then_sent")
def _():
    import struct

    from websockets.exceptions import ProtocolError
    from websockets.http11 import Request
    from websockets.server import ServerProtocol

    from rfc6455.frames import Opcode, encode_frame, new_key
    from rfc6455.handshake import client_request

    server = ServerProtocol()
    server.receive_data(client_request("/", "example.com", new_key()))
    (request,) = server.events_received()
    assert isinstance(request, Request)
    server.send_response(server.accept(request))
    server.data_to_send()
    server.receive_data(encode_frame(b"fragment1", Opcode.TEXT, mask=True, fin=False))
    server.receive_data(encode_frame(struct.pack("!H", 1000), Opcode.CLOSE, mask=True))
    # Taken for a protocol error: failed with 1002, though the peer's close was read.
    assert isinstance(server.parser_exc, ProtocolError)
    assert server.close_rcvd.code == 1000 and server.close_rcvd_then_sent is True
    assert server.close_sent.code == 1002
    # Any other protocol error happens without a close received.
    other = ServerProtocol()
    other.receive_data(client_request("/", "example.com", new_key()))
    other.send_response(other.accept(other.events_received()[0]))
    other.receive_data(encode_frame(b"x", Opcode.CONTINUATION, mask=True))
    assert isinstance(other.parser_exc, ProtocolError) and other.close_rcvd is None


@relies_on("websockets", "websockets.asyncio.messages.MAX_FRAGMENTS")
def _():
    import os
    import subprocess
    import sys

    code = "from websockets.asyncio.messages import MAX_FRAGMENTS; print(MAX_FRAGMENTS)"
    for env, expected in (({}, "4096"), ({"WEBSOCKETS_MAX_FRAGMENTS": "7"}, "7")):
        environ = {k: v for k, v in os.environ.items() if k != "WEBSOCKETS_MAX_FRAGMENTS"}
        result = subprocess.run(
            [sys.executable, "-c", code], env={**environ, **env}, capture_output=True, text=True
        )
        assert result.stdout.strip() == expected, result.stderr


# chat/dispatch.py: channels. Its mixins re-implement AsyncConsumer.__call__ and dispatch.


copied(
    "channels",
    "AsyncConsumer.__call__",
    ["channels.consumer:AsyncConsumer.__call__"],
    "3deabe1d69e5e3d6",
    "SerialDispatchMixin.__call__ (chat/dispatch.py)",
)
copied(
    "channels",
    "AsyncConsumer.dispatch",
    ["channels.consumer:AsyncConsumer.dispatch"],
    "270277736f833eab",
    "DirectDispatchMixin.dispatch (chat/dispatch.py)",
)


@contextlib.contextmanager
def _in_memory_channel_layer():
    from django.test import override_settings

    layers = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    with override_settings(CHANNEL_LAYERS=layers):
        yield


@relies_on("channels", "AsyncConsumer.channel_receive/base_send/channel_layer_alias", uses_db=True)
def _():
    from channels.consumer import AsyncConsumer
    from channels.exceptions import StopConsumer
    from channels.generic.websocket import AsyncWebsocketConsumer
    from channels.layers import get_channel_layer

    assert AsyncConsumer.channel_layer_alias == "default"
    seen = {}

    class Stock(AsyncConsumer):
        async def probe_start(self, message):
            # What Channels' __call__ sets, and ours sets alike.
            layer = get_channel_layer(self.channel_layer_alias)
            seen["layer"] = self.channel_layer is layer
            await layer.send(self.channel_name, {"type": "probe.through_layer"})
            seen["receive"] = await self.channel_receive()
            raise StopConsumer

    class Grouped(AsyncWebsocketConsumer):
        groups = ["probe-group"]

    async def check():
        inbox = asyncio.Queue()
        await inbox.put({"type": "probe.start"})
        await Stock()({"type": "websocket"}, inbox.get, None)
        # Channels' methods reach the connection through base_send, and the layer through
        # channel_layer and channel_name: what a re-implemented __call__ has to set.
        sent = []

        async def send(message):
            sent.append(message)

        consumer = Grouped()
        consumer.channel_layer = get_channel_layer()
        consumer.channel_name = await consumer.channel_layer.new_channel()
        consumer.base_send = send
        await consumer.websocket_connect({"type": "websocket.connect"})
        await consumer.channel_layer.group_send("probe-group", {"type": "probe.grouped"})
        grouped = await consumer.channel_layer.receive(consumer.channel_name)
        return sent, grouped

    with _in_memory_channel_layer():
        sent, grouped = run(check())
    assert seen == {"layer": True, "receive": {"type": "probe.through_layer"}}
    assert [message["type"] for message in sent] == ["websocket.accept"]
    assert grouped["type"] == "probe.grouped"


@relies_on("channels", "channels.consumer.get_handler_name(message)")
def _():
    from channels.consumer import get_handler_name

    assert get_handler_name({"type": "chat.message"}) == "chat_message"
    for malformed in ({}, {"type": "_private"}):
        with pytest.raises(ValueError):
            get_handler_name(malformed)


@relies_on("channels", "StopConsumer", uses_db=True)
def _():
    from channels.exceptions import StopConsumer
    from channels.generic.websocket import AsyncWebsocketConsumer

    class Probe(AsyncWebsocketConsumer):
        groups = []

    consumer = Probe()
    consumer.channel_layer = None
    # A disconnect ends the consumer by raising StopConsumer from its handler.
    with pytest.raises(StopConsumer):
        run(consumer.websocket_disconnect({"type": "websocket.disconnect", "code": 1000}))


# core/management/commands/makemessages.py: django. Django's command, with our build file
# class, run on a project of a few files in a temporary directory.


@relies_on(
    "django", "makemessages.BuildFile.is_templatized/work_path/preprocess, Command.build_file_class"
)
def _():
    from django.core.management import call_command
    from django.core.management.commands import makemessages
    from django.test import override_settings

    from core.management.commands.makemessages import BuildFile, Command

    built = []

    class Recorded(BuildFile):
        def preprocess(self):
            built.append((self.path, self.is_templatized, self.work_path))
            super().preprocess()

    assert issubclass(Command, makemessages.Command)
    command = Command()
    command.build_file_class = Recorded
    templates = [
        {
            "BACKEND": "django.template.backends.jinja2.Jinja2",
            "DIRS": ["jinja"],
            "OPTIONS": {"extensions": ["jinja2.ext.i18n"]},
        }
    ]
    with tempfile.TemporaryDirectory() as workdir, contextlib.chdir(workdir):
        Path("locale").mkdir()
        Path("jinja").mkdir()
        Path("jinja/page.html").write_text("<p>\n{% trans %}Hello from Jinja2{% endtrans %}\n")
        Path("module.py").write_text("from django.utils.translation import gettext as _\n_('Hi')\n")
        with override_settings(TEMPLATES=templates, LOCALE_PATHS=[]):
            call_command(command, locale=["xx"], verbosity=0, extensions=["html", "py"])
        catalogue = Path("locale/xx/LC_MESSAGES/django.po").read_text()
        left = sorted(str(path) for path in Path(".").rglob("*.py") if path.name != "module.py")
    by_path = {Path(path).name: (templatized, work) for path, templatized, work in built}
    # Each file went through the build file class; a template is templatized, into a work
    # file that xgettext reads and that is removed afterwards.
    assert by_path["page.html"][0] is True and by_path["page.html"][1].endswith(".py")
    assert by_path["module.py"] == (False, by_path["module.py"][1])
    assert left == []
    assert 'msgid "Hello from Jinja2"' in catalogue
    assert "#: jinja/page.html:2" in catalogue  # the template's own path and line
    assert 'msgid "Hi"' in catalogue


# project/env.py: django-environ


@relies_on("django-environ", "Env.get_value/parse_value")
def _():
    import environ

    calls = []

    class Recorded(environ.Env):
        def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):
            calls.append(("get_value", var, cast))
            return super().get_value(var, cast=cast, default=default, parse_default=parse_default)

        @classmethod
        def parse_value(cls, value, cast):
            calls.append(("parse_value", value, cast))
            return super().parse_value(value, cast)

    env = Recorded()
    env.ENVIRON = {"FLAG": "yes", "COUNT": "3", "WORD": "x"}
    assert env.bool("FLAG") is True and env.int("COUNT") == 3 and env.str("WORD") == "x"
    assert env.float("MISSING", default=1.5) == 1.5
    # Every typed read goes through get_value, which parses with the class's parse_value.
    assert [c[:2] for c in calls if c[0] == "get_value"] == [
        ("get_value", "FLAG"),
        ("get_value", "COUNT"),
        ("get_value", "WORD"),
        ("get_value", "MISSING"),
    ]
    assert ("parse_value", "yes", bool) in calls and ("parse_value", "3", int) in calls
    # A variable that is not set, without a default: ImproperlyConfigured, which ours catches.
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        env.int("MISSING")
    assert environ.Env().prefix == "" and environ.Env.ENVIRON is os.environ


# accounts/forms.py and the others that use Django's documented underscore names


@relies_on("django", "ModelForm._post_clean")
def _():
    from django import forms
    from django.contrib.auth import get_user_model

    order = []

    class Form(forms.ModelForm):
        class Meta:
            model = get_user_model()
            fields = ["first_name"]

        def clean(self):
            order.append("clean")
            return super().clean()

        def _post_clean(self):
            super()._post_clean()
            # After clean(): the instance carries what was typed.
            order.append(("post_clean", self.instance.first_name))

    form = Form(data={"first_name": "Ada"})
    assert form.is_valid(), form.errors
    assert order == ["clean", ("post_clean", "Ada")]


@relies_on("django", "Model._meta")
def _():
    from django.apps import apps
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    assert user_model._meta.get_field("username").max_length == 150
    assert user_model._meta.db_table == apps.get_model("auth", "User")._meta.db_table
    assert user_model._meta.pk.value_to_string(user_model(pk=7)) == "7"


@relies_on("django", "Model._default_manager")
def _():
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    assert user_model._default_manager is user_model.objects
    assert callable(user_model._default_manager.create_user)


@relies_on("python", "SplitResult._replace")
def _():
    from urllib.parse import urlsplit

    parts = urlsplit("redis://user:secret@master:6379/2")
    assert parts._replace(netloc="other:26379").geturl() == "redis://other:26379/2"


@pytest.mark.parametrize(
    "index",
    [
        pytest.param(index, marks=[pytest.mark.django_db] if name.uses_db else [], id=str(name))
        for index, name in enumerate(NAMES)
    ],
)
def test_relied_on_name_is_still_there(index):
    relied_on = NAMES[index]
    try:
        if relied_on.in_daphne:
            failure = daphne_outcomes()[str(index)]
            if failure is not None:
                raise AssertionError(f"(in the daphne child) {failure}")
        else:
            relied_on.check()
    except Exception as exc:
        version = installed_version(relied_on.library) if relied_on.library != "python" else ""
        pytest.fail(
            f"{relied_on.library}=={version}: `{relied_on.name}` is no longer what "
            f"server/COMPAT.md says our code assumes ({_failure(exc)}). Adapt the code that "
            "uses it, then this check and COMPAT.md's row.",
            pytrace=False,
        )


def test_every_checked_name_is_documented():
    """The checks and the rows of server/COMPAT.md guarded by `compat` name the same things, in
    the same libraries."""
    rows = {row.name: row for row in compat_doc.rows() if "compat" in row.guards}
    undocumented = sorted({n.name for n in NAMES} - set(rows))
    assert not undocumented, f"no row of server/COMPAT.md guarded by `compat` for: {undocumented}"
    wrong_library = sorted(n.name for n in NAMES if rows[n.name].library != n.library)
    assert not wrong_library, f"checked under another library than COMPAT.md's: {wrong_library}"
    unchecked = sorted(set(rows) - {n.name for n in NAMES})
    assert not unchecked, (
        f"rows of server/COMPAT.md guarded by `compat` without a check: {unchecked}"
    )


if __name__ == "__main__":
    print(json.dumps(run_daphne_checks()))
