"""server/COMPAT.md still describes the installed libraries.

* Versions: server/COMPAT.md's version table, constraints.txt and the installed distributions
  agree, and constraints.txt satisfies the ranges of requirements*.txt.
* Names: each private name or internal behaviour that server/ and core/ rely on is still there.
  One case per row of server/COMPAT.md, named as there, so an upgrade that moves a name fails
  with that name. Methods our code copies or replaces are fingerprinted: any change to the
  library's version fails until our copy has been compared with it.

Needs no services. daphne.server, daphne.cli and daphne's runserver install a Twisted reactor when
imported, so they are read as source (ast) rather than imported; everything else is imported.
"""

import ast
import asyncio
import contextlib
import hashlib
import importlib.metadata
import importlib.util
import inspect
import io
import re
import textwrap
import tokenize
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement

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
# Helpers reading a library's code.
# ------------------------------------------------------------------------------------------------


def params(func):
    """Parameter names of ``func``, without ``self``/``cls``."""
    names = list(inspect.signature(func).parameters)
    return names[1:] if names[:1] in (["self"], ["cls"]) else names


def tree_of(obj):
    return ast.parse(textwrap.dedent(inspect.getsource(obj)))


def self_attributes(tree):
    """Names assigned as ``self.<name>`` anywhere in ``tree``."""
    return {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.ctx, ast.Store)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    }


def calls_of(tree):
    """Dotted names of the functions called in ``tree``, e.g. ``self.reactor.addWriter``."""
    return {ast.unparse(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}


def module_tree(module):
    """The parsed source of ``module``, found without importing it."""
    spec = importlib.util.find_spec(module)
    return ast.parse(Path(spec.origin).read_text())


def class_def(tree, name):
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == name:
            return node
    raise AssertionError(f"no class {name}")


def method_def(cls, name):
    for node in cls.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return node
    raise AssertionError(f"{cls.name} has no method {name}")


def class_assigns(cls):
    """Names assigned in the body of class ``cls`` (its class attributes)."""
    return {
        target.id
        for node in cls.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def lookup(path):
    """The object at ``"package.module:Class.attribute"``, imported."""
    module, _, qualname = path.partition(":")
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def fingerprint(*objs):
    """A digest of the objects' source tokens: comments and layout do not count, code does."""
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


# ------------------------------------------------------------------------------------------------
# The names of server/COMPAT.md. Each check raises (AssertionError, AttributeError…) when the
# assumption written in COMPAT.md's row of the same name no longer holds.
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Name:
    library: str  # a distribution of the version table
    name: str  # as in server/COMPAT.md's first column
    check: object

    def __str__(self):
        return self.name


NAMES = []


def relies_on(library, name):
    def register(check):
        NAMES.append(Name(library, name, check))
        return check

    return register


def copied(library, name, paths, digest, ours):
    """Library methods (``paths``, see :func:`lookup`) that ``ours`` copies or replaces: unchanged
    since they were compared with it."""

    def check():
        now = fingerprint(*(lookup(path) for path in paths))
        assert now == digest, (
            f"changed since {ours} was compared with it (fingerprint {now}, was {digest}): "
            f"compare it with {ours}, port what changed, then update the fingerprint here"
        )

    NAMES.append(Name(library, name, check))


# server/reactor.py: twisted


def _reactor_class():
    from twisted.internet.asyncioreactor import AsyncioSelectorReactor

    return AsyncioSelectorReactor


def _reactor_init_attributes():
    return self_attributes(tree_of(_reactor_class().__init__))


@relies_on("twisted", "AsyncioSelectorReactor.__init__(eventloop)")
def _():
    assert params(_reactor_class().__init__) == ["eventloop"]


@relies_on("twisted", "AsyncioSelectorReactor._asyncioEventloop")
def _():
    assert "_asyncioEventloop" in _reactor_init_attributes()


def _assigned_a_dict(attribute):
    init = tree_of(_reactor_class().__init__)
    for node in ast.walk(init):
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(ast.unparse(target) == f"self.{attribute}" for target in targets):
                assert isinstance(node.value, ast.Dict), f"self.{attribute} is no longer a dict"
                return
    raise AssertionError(f"__init__ no longer sets self.{attribute}")


@relies_on("twisted", "AsyncioSelectorReactor._readers")
def _():
    _assigned_a_dict("_readers")


@relies_on("twisted", "AsyncioSelectorReactor._writers")
def _():
    _assigned_a_dict("_writers")


@relies_on("twisted", "AsyncioSelectorReactor._continuousPolling")
def _():
    assert "_continuousPolling" in _reactor_init_attributes()
    assert "_ContinuousPolling(self)" in inspect.getsource(_reactor_class().__init__)


@relies_on("twisted", "_ContinuousPolling._readers")
def _():
    from twisted.internet.posixbase import _ContinuousPolling

    assert "_readers" in self_attributes(tree_of(_ContinuousPolling.__init__))


@relies_on("twisted", "_ContinuousPolling.addReader/addWriter/isWriting")
def _():
    from twisted.internet.posixbase import _ContinuousPolling

    assert params(_ContinuousPolling.addReader) == ["reader"]
    assert params(_ContinuousPolling.addWriter) == ["writer"]
    assert len(params(_ContinuousPolling.isWriting)) == 1


@relies_on("twisted", "AsyncioSelectorReactor._unregisterFDInAsyncio(fd)")
def _():
    assert params(_reactor_class()._unregisterFDInAsyncio) == ["fd"]


@relies_on("twisted", "AsyncioSelectorReactor._readOrWrite(selectable, read)")
def _():
    assert params(_reactor_class()._readOrWrite) == ["selectable", "read"]


@relies_on("twisted", "AsyncioSelectorReactor._log")
def _():
    from twisted.logger import Logger

    assert isinstance(_reactor_class()._log, Logger)


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
    reactor = _reactor_class()
    assert params(reactor.removeWriter) == ["writer"]
    assert params(reactor.getWriters) == []
    assert params(reactor.removeAll) == []


@relies_on("twisted", "FileDescriptor.startWriting/stopWriting")
def _():
    from twisted.internet.abstract import FileDescriptor

    assert "self.reactor.addWriter" in calls_of(tree_of(FileDescriptor.startWriting))
    assert "self.reactor.removeWriter" in calls_of(tree_of(FileDescriptor.stopWriting))
    assert "self.startWriting" in calls_of(tree_of(FileDescriptor.write))
    assert "self.stopWriting" in calls_of(tree_of(FileDescriptor.doWrite))


@relies_on("twisted", "installReactor")
def _():
    from twisted.internet.main import installReactor

    assert 'sys.modules["twisted.internet.reactor"] = reactor' in inspect.getsource(installReactor)


@relies_on("daphne", "daphne.server import")
def _():
    source = ast.unparse(module_tree("daphne.server"))
    assert "isinstance(current_reactor, asyncioreactor.AsyncioSelectorReactor)" in source
    assert "'ASGI_THREADS' in os.environ" in source


# server/daphne.py: daphne, autobahn, txaio


@relies_on("daphne", "WebSocketProtocol.handle_reply(message)")
def _():
    from daphne.ws_protocol import WebSocketProtocol

    assert params(WebSocketProtocol.handle_reply) == ["message"]


@relies_on("daphne", "Server.run → self.ws_factory")
def _():
    run = method_def(class_def(module_tree("daphne.server"), "Server"), "run")
    statements = [ast.unparse(node) for node in run.body]
    assigned = [i for i, s in enumerate(statements) if s.startswith("self.ws_factory = ")]
    assert assigned, "Server.run no longer assigns self.ws_factory"
    assert "WebSocketFactory(" in statements[assigned[0]]
    options = [s for s in statements if s.startswith("self.ws_factory.setProtocolOptions(")]
    assert options, "Server.run no longer calls self.ws_factory.setProtocolOptions"
    assert "failByDrop" not in options[0], "daphne now sets failByDrop itself, after ours"
    http = module_tree("daphne.http_protocol")
    assert "self.server.ws_factory.buildProtocol" in calls_of(http)


@relies_on("daphne", "Server.__init__(action_logger)")
def _():
    init = method_def(class_def(module_tree("daphne.server"), "Server"), "__init__")
    assert "action_logger" in [arg.arg for arg in init.args.args]


@relies_on("daphne", "AccessLogGenerator.stream")
def _():
    from daphne.access import AccessLogGenerator

    assert params(AccessLogGenerator) == ["stream"]
    assert "stream" in self_attributes(tree_of(AccessLogGenerator.__init__))


@relies_on("daphne", "CommandLineInterface.server_class/parser")
def _():
    cli = class_def(module_tree("daphne.cli"), "CommandLineInterface")
    assert {"server_class", "description"} <= class_assigns(cli)
    init = method_def(cli, "__init__")
    assert "parser" in self_attributes(init)
    options = {
        node.args[0].value
        for node in ast.walk(init)
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
    }
    assert {"--websocket-max-message-size", "--websocket-max-frame-size"} <= options
    assert "self.server_class" in calls_of(method_def(cli, "run"))
    entrypoint = method_def(cli, "entrypoint")
    assert "classmethod" in [ast.unparse(d) for d in entrypoint.decorator_list]


@relies_on("daphne", "WebSocketFactory.protocol")
def _():
    from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol
    from twisted.internet.protocol import Factory

    assert WebSocketFactory.protocol is WebSocketProtocol
    assert "self.protocol" in inspect.getsource(Factory.buildProtocol)


copied(
    "daphne",
    "daphne WebSocketProtocol.onMessage",
    ["daphne.ws_protocol:WebSocketProtocol.onMessage"],
    "4274c37698b28490",
    "WebSocketProtocol.onMessage (server/daphne.py)",
)


@relies_on("autobahn", "WebSocketServerFactory.setProtocolOptions(utf8validateIncoming)")
def _():
    from autobahn.websocket.protocol import (
        WebSocketProtocol,
        WebSocketServerFactory,
        WebSocketServerProtocol,
    )

    assert "utf8validateIncoming" in params(WebSocketServerFactory.setProtocolOptions)
    assert "utf8validateIncoming" in WebSocketServerProtocol.CONFIG_ATTRS
    assert "self.utf8validateIncoming" in inspect.getsource(WebSocketProtocol.onFrameBegin)


@relies_on("autobahn", "WebSocketProtocol.onMessageBegin/onMessageFrameData")
def _():
    from autobahn.twisted.websocket import WebSocketAdapterProtocol
    from autobahn.websocket.protocol import WebSocketProtocol

    assert params(WebSocketProtocol.onMessageBegin) == ["isBinary"]
    assert params(WebSocketProtocol.onMessageFrameData) == ["payload"]
    processing = inspect.getsource(WebSocketProtocol.onFrameBegin) + inspect.getsource(
        WebSocketProtocol.onFrameData
    )
    assert "self._onMessageBegin(" in processing
    assert "self._onMessageFrameData(" in processing
    adapter = WebSocketAdapterProtocol
    assert "self.onMessageBegin" in inspect.getsource(adapter._onMessageBegin)
    assert "self.onMessageFrameData" in inspect.getsource(adapter._onMessageFrameData)


@relies_on("autobahn", "WebSocketProtocol._fail_connection(code, reason)")
def _():
    from autobahn.websocket.protocol import WebSocketProtocol

    assert params(WebSocketProtocol._fail_connection) == ["code", "reason"]
    source = inspect.getsource(WebSocketProtocol._fail_connection)
    assert "self.failedByMe = True" in source
    assert "sendCloseFrame" in source


@relies_on("autobahn", "WebSocketProtocol._dataReceived(data)")
def _():
    from autobahn.websocket.protocol import WebSocketProtocol

    assert params(WebSocketProtocol._dataReceived) == ["data"]


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


def _connection_made_attributes():
    from autobahn.websocket.protocol import WebSocketProtocol

    return self_attributes(tree_of(WebSocketProtocol._connectionMade))


@relies_on("autobahn", "WebSocketProtocol.send_queue")
def _():
    assert "send_queue" in _connection_made_attributes()


@relies_on("autobahn", "WebSocketProtocol.trafficStats")
def _():
    assert "trafficStats" in _connection_made_attributes()


@relies_on("autobahn", "TrafficStats.outgoingOctetsWireLevel/preopenOutgoingOctetsWireLevel")
def _():
    from autobahn.websocket.protocol import TrafficStats

    stats = TrafficStats()
    assert stats.outgoingOctetsWireLevel == 0
    assert stats.preopenOutgoingOctetsWireLevel == 0


@relies_on("autobahn", "WebSocketProtocol.logOctets")
def _():
    from autobahn.websocket.protocol import WebSocketServerProtocol

    assert "logOctets" in WebSocketServerProtocol.CONFIG_ATTRS


@relies_on("autobahn", "WebSocketProtocol.STATE_*")
def _():
    from autobahn.websocket.protocol import WebSocketProtocol

    names = ["CLOSED", "CONNECTING", "CLOSING", "OPEN", "PROXY_CONNECTING"]
    states = [getattr(WebSocketProtocol, f"STATE_{name}") for name in names]
    assert len(set(states)) == len(names)


@relies_on("autobahn", "WebSocketServerFactory.setProtocolOptions(failByDrop)")
def _():
    from autobahn.twisted.websocket import WebSocketServerFactory

    assert "failByDrop" in params(WebSocketServerFactory.setProtocolOptions)


@relies_on("autobahn", "WebSocketServerFactory.headers")
def _():
    from autobahn.websocket.protocol import WebSocketServerFactory

    # __init__ passes it on to setSessionParameters, which keeps it.
    assert "headers" in params(WebSocketServerFactory.__init__)
    assert "headers" in self_attributes(tree_of(WebSocketServerFactory.setSessionParameters))


@relies_on("txaio", "txaio.get_global_log_level()")
def _():
    # What server/daphne.py gets: autobahn's Twisted modules select txaio's Twisted flavour.
    import autobahn.twisted.websocket  # noqa: F401
    import txaio
    from txaio.interfaces import log_levels

    assert txaio.using_twisted
    assert txaio.get_global_log_level() in log_levels
    assert {"debug", "trace"} <= set(log_levels)


# server/handlers.py: django, asgiref


def _asgi_handler():
    from django.core.handlers.asgi import ASGIHandler

    return ASGIHandler


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
    assert params(_asgi_handler().read_body) == ["receive"]
    assert "RequestAborted" in calls_of(tree_of(_asgi_handler().read_body))


@relies_on("django", "ASGIHandler.create_request(scope, body_file)")
def _():
    assert params(_asgi_handler().create_request) == ["scope", "body_file"]


@relies_on("django", "ASGIHandler.send_response(response, send)")
def _():
    assert params(_asgi_handler().send_response) == ["response", "send"]


@relies_on("django", "django.core.handlers.asgi.get_script_prefix(scope)")
def _():
    from django.core.handlers.asgi import get_script_prefix

    assert params(get_script_prefix) == ["scope"]


@relies_on("django", "HttpResponseBase._handler_class")
def _():
    from django.http.response import HttpResponseBase

    assert "_handler_class" in self_attributes(tree_of(HttpResponseBase.__init__))
    assert "sender=self._handler_class" in inspect.getsource(HttpResponseBase.close)


@relies_on("django", "BaseHandler.load_middleware(is_async)")
def _():
    from django.core.handlers.base import BaseHandler

    assert params(BaseHandler.load_middleware) == ["is_async"]


@relies_on("asgiref", "SyncToAsync.threadlocal")
def _():
    import threading

    from asgiref.sync import AsyncToSync, SyncToAsync

    assert isinstance(SyncToAsync.threadlocal, threading.local)
    read = {
        node.args[1].value
        for node in ast.walk(tree_of(AsyncToSync.__call__))
        if isinstance(node, ast.Call)
        and ast.unparse(node.func) == "getattr"
        and ast.unparse(node.args[0]) == "SyncToAsync.threadlocal"
    }
    assert {"main_event_loop", "main_event_loop_pid"} <= read


# core/session_backends/cache.py: django, django-redis, pymemcache


def _cache_store():
    from django.contrib.sessions.backends.cache import SessionStore

    return SessionStore


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


def _defaults(func):
    return {
        name: parameter.default
        for name, parameter in inspect.signature(func).parameters.items()
        if name != "self"
    }


copied(
    "django",
    "cache.SessionStore.save",
    ["django.contrib.sessions.backends.cache:SessionStore.save"],
    "f408ac4223c652f8",
    "SessionStore.save (core/session_backends/cache.py)",
)


@relies_on("django-redis", "RedisCache.set(..., xx=)")
def _():
    from django_redis.client.default import DefaultClient

    assert "xx" in params(DefaultClient.set)
    assert "xx=xx" in inspect.getsource(DefaultClient.set)


@relies_on("django", "cache.SessionStore.save/asave/exists/aexists/delete/adelete")
def _():
    store = _cache_store()
    empty = inspect.Parameter.empty
    for name, signature in [
        ("save", {"must_create": False}),
        ("exists", {"session_key": empty}),
        ("delete", {"session_key": None}),
    ]:
        for method in (getattr(store, name), getattr(store, f"a{name}")):
            assert _defaults(method) == signature, f"{method.__name__}{signature}"
            assert "self._cache" in ast.unparse(tree_of(method)), method.__name__
            tries = [node for node in ast.walk(tree_of(method)) if isinstance(node, ast.Try)]
            assert not tries, f"{method.__name__} now catches errors"


@relies_on("django", "cache.SessionStore.create/acreate")
def _():
    store = _cache_store()
    for method, save in [(store.create, "self.save"), (store.acreate, "self.asave")]:
        tree = tree_of(method)
        saves = [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and ast.unparse(node.func) == save
        ]
        assert saves, f"{method.__name__} no longer calls {save}"
        assert all(ast.unparse(call) == f"{save}(must_create=True)" for call in saves)
        caught = {
            ast.unparse(handler.type)
            for node in ast.walk(tree)
            if isinstance(node, ast.Try)
            for handler in node.handlers
        }
        assert caught == {"CreateError"}, f"{method.__name__} catches {caught}"


@relies_on("django", "cache.SessionStore._cache")
def _():
    assert "_cache" in self_attributes(tree_of(_cache_store().__init__))


@relies_on("django", "cache.SessionStore.cache_key/acache_key")
def _():
    store = _cache_store()
    assert isinstance(store.cache_key, property)
    assert inspect.iscoroutinefunction(store.acache_key)


@relies_on("django", "SessionBase._session_key")
def _():
    from django.contrib.sessions.backends.base import SessionBase

    assert "_session_key" in self_attributes(tree_of(SessionBase.__init__))


@relies_on("django-redis", "django_redis.cache.omit_exception")
def _():
    from django_redis.cache import omit_exception

    assert "raise e.__cause__" in inspect.getsource(omit_exception)


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
    assert inspect.signature(Client).parameters["ignore_exc"].default is False
    assert "ignore_exc" not in _memcached_cache("127.0.0.1:11211")._options


# core/session_backends/anonymous.py, core/session_backends/file.py: django


@relies_on("django", "SessionBase._session_cache")
def _():
    from django.contrib.sessions.backends.base import SessionBase

    assigned_by = {
        name
        for name in ("_get_session", "clear", "cycle_key")
        if "_session_cache" in self_attributes(tree_of(getattr(SessionBase, name)))
    }
    assert assigned_by == {"_get_session", "clear", "cycle_key"}, assigned_by
    assert "_session_cache" not in self_attributes(tree_of(SessionBase.__init__))


copied(
    "django",
    "file.SessionStore._expiry_date(session_data)",
    ["django.contrib.sessions.backends.file:SessionStore._expiry_date"],
    "98403b4f7e782886",
    "SessionStore._expiry_date (core/session_backends/file.py)",
)


@relies_on("django", "file.SessionStore._expiry_date(session_data)")
def _():
    from django.contrib.sessions.backends.file import SessionStore

    assert "self._expiry_date" in calls_of(tree_of(SessionStore.load))


# core/security_headers.py: django-csp


@relies_on("django-csp", "csp.utils.build_policy()")
def _():
    from csp.middleware import CSPMiddleware
    from csp.utils import build_policy
    from django.test import override_settings

    defaults = _defaults(build_policy)
    assert all(defaults[name] is None for name in ("config", "update", "replace", "nonce"))
    with override_settings(CONTENT_SECURITY_POLICY={"DIRECTIVES": {"script-src": ["'self'"]}}):
        assert "script-src 'self'" in build_policy().split("; ")
    with override_settings(CONTENT_SECURITY_POLICY={}):
        assert build_policy() == ""
    assert "build_policy" in calls_of(tree_of(CSPMiddleware.process_response))


# core/memcached.py: django, pymemcache


def _memcached_cache(location, options=None):
    """Django's PyMemcacheCache, built (it connects on first use only)."""
    from django.core.cache.backends.memcached import PyMemcacheCache

    return PyMemcacheCache(location, {"OPTIONS": options or {}})


def _memcached_options():
    return {"connect_timeout": 1.0, "timeout": 2.0, "no_delay": True}


@relies_on("django", "BaseMemcachedCache._servers")
def _():
    assert _memcached_cache("a:1,b:2;c:3")._servers == ["a:1", "b:2", "c:3"]
    assert _memcached_cache("[::1]:11211")._servers == ["[::1]:11211"]
    assert _memcached_cache(["a:1"])._servers == ["a:1"]


@relies_on("django", "BaseMemcachedCache._lib/_class")
def _():
    import pymemcache
    from django.core.cache.backends.memcached import BaseMemcachedCache

    cache = _memcached_cache("127.0.0.1:11211")
    assert cache._lib is pymemcache
    assert cache._class is pymemcache.HashClient
    assert pymemcache.Client.__module__ == "pymemcache.client.base"
    assert "self._class" in calls_of(tree_of(BaseMemcachedCache._cache.real_func))


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


@relies_on("django", "BaseMemcachedCache.close")
def _():
    from django.core import cache
    from django.core.cache.backends.memcached import BaseMemcachedCache, PyMemcacheCache

    assert "self._cache.disconnect_all" in calls_of(tree_of(BaseMemcachedCache.close))
    assert "close" not in vars(PyMemcacheCache)
    assert "signals.request_finished.connect(close_caches)" in inspect.getsource(cache)


@relies_on("pymemcache", "Client(server, **options)")
def _():
    from django.core.cache.backends.memcached import BaseMemcachedCache
    from pymemcache.client.base import Client

    assert params(Client.__init__)[0] == "server"
    assert Client("127.0.0.1:11211").server == ("127.0.0.1", 11211)
    assert Client("[::1]:11211").server == ("::1", 11211)
    options = _memcached_cache("127.0.0.1:11211", _memcached_options())._options
    assert set(options) <= set(params(Client.__init__))
    used = {
        node.attr
        for node in ast.walk(tree_of(BaseMemcachedCache))
        if isinstance(node, ast.Attribute) and ast.unparse(node.value) == "self._cache"
    }
    missing = sorted(name for name in used if not callable(getattr(Client, name, None)))
    assert not missing, f"Client has no {missing}"
    assert params(Client.get) == ["key", "default"]
    assert "failed" in inspect.getdoc(Client.set_many).split("Returns:", 1)[1]


@relies_on("pymemcache", "Client.close()")
def _():
    from pymemcache.client.base import Client

    assert params(Client.close) == []
    assert "self.sock = None" in inspect.getsource(Client.close)
    for command in (Client._fetch_cmd, Client._store_cmd, Client._misc_cmd):
        source = inspect.getsource(command)
        assert "if self.sock is None:" in source and "self._connect()" in source
        assert "self.close" in calls_of(tree_of(command)), command.__name__


# server/daphne.py (origin check), core/websocket_origin.py, the session store's cycle_key


@relies_on("daphne", "Server.create_application(protocol, scope)")
def _():
    from daphne.server import Server
    from daphne.ws_protocol import WebSocketProtocol

    assert params(Server.create_application) == ["protocol", "scope"]
    source = inspect.getsource(WebSocketProtocol.onConnect)
    assert "self.server.create_application" in source
    assert '"scheme"' not in source


@relies_on("daphne", "WebSocketProtocol.client_scheme")
def _():
    from daphne.ws_protocol import WebSocketProtocol

    source = inspect.getsource(WebSocketProtocol.onConnect)
    assert "self.client_addr, self.client_scheme = parse_x_forwarded_for(" in source
    assert "self.server.proxy_forwarded_proto_header" in source


@relies_on("django", "HttpRequest._get_scheme()")
def _():
    from django.http import HttpRequest

    source = inspect.getsource(HttpRequest.scheme.fget)
    assert "self._get_scheme()" in source and "SECURE_PROXY_SSL_HEADER" in source
    assert "HTTP_X_FORWARDED_HOST" in inspect.getsource(HttpRequest._get_raw_host)


@relies_on("django", "SessionBase.cycle_key/flush")
def _():
    from django.contrib.sessions.backends.base import SessionBase

    cycle = ast.unparse(tree_of(SessionBase.cycle_key))
    assert cycle.index("self.create()") < cycle.index("self.delete(key)")
    flush = ast.unparse(tree_of(SessionBase.flush))
    assert flush.index("self.clear()") < flush.index("self.delete()")


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
    from django_redis import pool

    assert issubclass(pool.SentinelConnectionFactory, pool.ConnectionFactory)
    source = ast.unparse(tree_of(pool.get_connection_factory))
    assert "options.get('CONNECTION_FACTORY') or" in source
    init = ast.unparse(tree_of(pool.SentinelConnectionFactory.__init__))
    assert "options.get('SENTINELS')" in init
    assert "sentinel_kwargs=options.get('SENTINEL_KWARGS')" in init


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


# core/management/commands/runserver.py: daphne


@relies_on("daphne", "runserver.Command.server_cls")
def _():
    command = class_def(module_tree("daphne.management.commands.runserver"), "Command")
    assert "server_cls" in class_assigns(command)
    assert "self.server_cls" in calls_of(method_def(command, "inner_run"))


# server/uvicorn.py: uvicorn, websockets


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


# server/daphne.py: backpressure (daphne, twisted, autobahn)


def source_digest(node):
    """A digest of an AST node's code (comments and layout do not count)."""
    return hashlib.sha256(ast.unparse(node).encode()).hexdigest()[:16]


@relies_on("daphne", "Server.create_application(protocol, scope)")
def _():
    server = class_def(module_tree("daphne.server"), "Server")
    digest = source_digest(method_def(server, "create_application"))
    assert digest == "8d7a9908de1127a6", (
        f"changed since Server.create_application (server/daphne.py) was compared with it "
        f"(fingerprint {digest}): compare, port what changed, then update the fingerprint here"
    )


@relies_on("daphne", "Server.handle_reply(protocol, message)")
def _():
    server = class_def(module_tree("daphne.server"), "Server")
    handle_reply = method_def(server, "handle_reply")
    assert isinstance(handle_reply, ast.AsyncFunctionDef)
    assert [arg.arg for arg in handle_reply.args.args] == ["self", "protocol", "message"]
    create = ast.unparse(method_def(server, "create_application"))
    assert "send=partial(self.handle_reply, protocol)" in create


@relies_on("daphne", "HTTPChannel, the upgraded transport's producer")
def _():
    from twisted.web.http import HTTPChannel

    assert "self._networkProducer.registerProducer(self, True)" in ast.unparse(
        tree_of(HTTPChannel.connectionMade)
    )
    process = ast.unparse(
        method_def(class_def(module_tree("daphne.http_protocol"), "WebRequest"), "process")
    )
    assert "protocol.makeConnection(transport)" in process
    assert "self.channel._networkProducer.resumeProducing()" in process


@relies_on("twisted", "FileDescriptor.dataBuffer/offset/_tempDataLen")
def _():
    from twisted.internet.abstract import FileDescriptor

    class Descriptor(FileDescriptor):
        connected = True

        def startWriting(self):
            pass

    descriptor = Descriptor()
    descriptor.write(b"abc")
    descriptor.write(b"de")
    assert (descriptor.dataBuffer, descriptor.offset, descriptor._tempDataLen) == (b"", 0, 5)
    assert "self.offset += l" in inspect.getsource(FileDescriptor.doWrite)


@relies_on("twisted", "FileDescriptor producer calls")
def _():
    from twisted.internet.abstract import FileDescriptor

    calls = []

    class Producer:
        def pauseProducing(self):
            calls.append("pause")

        def resumeProducing(self):
            calls.append("resume")

    class Descriptor(FileDescriptor):
        connected = True
        bufferSize = 4

        def startWriting(self):
            pass

        def stopWriting(self):
            pass

        def writeSomeData(self, data):
            return len(data)

    descriptor = Descriptor()
    descriptor.registerProducer(Producer(), True)
    descriptor.unregisterProducer()
    descriptor.registerProducer(Producer(), True)
    descriptor.write(b"abc")
    descriptor.write(b"de")
    descriptor.write(b"f")
    descriptor.doWrite()
    assert calls == ["pause", "pause", "resume"]
    assert FileDescriptor.bufferSize == 2**16
    assert "self.stopReading" in calls_of(tree_of(FileDescriptor.pauseProducing))
    assert "self.startReading" in calls_of(tree_of(FileDescriptor.resumeProducing))


@relies_on("autobahn", "WebSocketProtocol.onCloseHandshakeTimeout")
def _():
    from autobahn.websocket.protocol import WebSocketProtocol, WebSocketServerFactory

    assert WebSocketServerFactory().closeHandshakeTimeout == 1
    source = ast.unparse(tree_of(WebSocketProtocol.onCloseHandshakeTimeout))
    assert "self.dropConnection(abort=True)" in source
    assert "self.onCloseHandshakeTimeout" in ast.unparse(tree_of(WebSocketProtocol.sendCloseFrame))


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


@pytest.mark.parametrize("relied_on", NAMES, ids=str)
def test_relied_on_name_is_still_there(relied_on):
    try:
        relied_on.check()
    except Exception as exc:
        version = installed_version(relied_on.library)
        # The first line: the check's own message, or pytest's rendering of a bare assert.
        reason = str(exc).splitlines()[0] if str(exc) else ""
        pytest.fail(
            f"{relied_on.library}=={version}: `{relied_on.name}` is no longer what "
            f"server/COMPAT.md says our code assumes ({type(exc).__name__}: {reason}). Adapt the "
            "code that uses it, then this check and COMPAT.md's row.",
            pytrace=False,
        )


def test_every_checked_name_is_documented():
    """The checks and server/COMPAT.md's rows name the same things, in its version table's
    libraries."""
    text = COMPAT.read_text()
    undocumented = [n.name for n in NAMES if f"| `{n.name}` | {n.library} |" not in text]
    assert not undocumented, f"no row in server/COMPAT.md for: {undocumented}"
    assert {n.library for n in NAMES} <= set(CHECKED)
    rows = re.findall(r"^\| `([^`]+)` \| ", text, re.M)
    unchecked = sorted(set(rows) - {n.name for n in NAMES})
    assert not unchecked, f"rows of server/COMPAT.md without a check here: {unchecked}"
