"""server/COMPAT.md lists every private name of a library that the project touches.

tests/support/reach_ins.py finds them in the project's source (every folder but tests/): a
library's private attribute read, set or overridden, a private name imported, a private key
read from a library's data. Each must have a row, in the section of its file, whose name holds
it. Names that are public but internal (a library method re-implemented, an undocumented hook
overridden) cannot be told from the source: :data:`KNOWN_INTERNALS` lists them, and each must
still occur in its file and be in its file's section too. Each row names the library with the
version pinned, and tests that exist.

Needs no services (the library side is read from a child process that imports the project).
"""

import re
import sys

import pytest

from tests.support import compat_doc, reach_ins
from tests.support.reach_ins import ROOT

# file -> internals it overrides, re-implements or calls under a public name (each must occur in
# the file's source and in the first column of a row of the file's section).
KNOWN_INTERNALS = {
    "chat/dispatch.py": [
        "AsyncConsumer.__call__",
        "AsyncConsumer.dispatch",
        "channel_receive",
        "base_send",
        "channel_layer_alias",
        "get_handler_name",
        "StopConsumer",
    ],
    "core/management/commands/makemessages.py": [
        "BuildFile",
        "is_templatized",
        "work_path",
        "preprocess",
        "build_file_class",
    ],
    "core/management/commands/runserver.py": ["server_cls"],
    "core/memcached.py": ["close"],
    "core/session_backends/cache.py": ["load", "aload", "save", "create", "cycle_key"],
    "project/env.py": ["get_value", "parse_value"],
    "server/daphne.py": [
        "handle_reply",
        "create_application",
        "ws_factory",
        "server_class",
        "onMessage",
        "onMessageBegin",
        "onMessageFrameData",
        "onCloseFrame",
        "dropConnection",
        "dataReceived",
        "sendData",
        "send_queue",
        "failByDrop",
        "utf8validateIncoming",
    ],
    "server/handlers.py": [
        "ASGIHandler.__call__",
        "ASGIHandler.handle",
        "read_body",
        "create_request",
        "send_response",
        "get_script_prefix",
        "load_middleware",
        "threadlocal",
    ],
    "server/reactor.py": ["addReader", "addWriter", "removeWriter", "getWriters", "removeAll"],
    "server/uvicorn.py": [
        "WebSocketsSansIOProtocol",
        "data_received",
        "parser_exc",
        "close_rcvd",
        "close_rcvd_then_sent",
        "handle_text",
        "handle_cont",
        "handle_parser_exception",
        "close_timer",
        "close_sent",
        "MAX_FRAGMENTS",
    ],
}


def word(name):
    return re.compile(rf"(?<![\w]){re.escape(name)}(?![\w])")


@pytest.fixture(scope="module")
def rows():
    return compat_doc.rows()


def listed(rows, file, name):
    """A row of ``file``'s section whose name holds ``name`` (as a word)."""
    return any(file in row.files and word(name).search(row.name) for row in rows)


@pytest.fixture(scope="module")
def found():
    return reach_ins.reach_ins()


def test_the_scan_finds_the_known_reach_ins(found):
    """The scanner sees what it is meant to (a scanner that finds nothing passes everything)."""
    expected = {
        ("server/daphne.py", "_tempDataLen"),  # on a library object
        ("server/reactor.py", "_readers"),  # a library attribute read through self
        ("core/memcached.py", "_cache"),  # a library member overridden
        ("core/session_inspect.py", "_key_to_file"),  # a library method called
        ("core/session_backends/anonymous.py", "_session_cache"),  # by getattr, from a mixin
        ("core/session_inspect.py", "_session_expiry"),  # a library's key read
        ("accounts/forms.py", "_post_clean"),  # a library method overridden
    }
    assert expected <= set(found)
    # The project's own private names are not reach-ins.
    assert ("server/reactor.py", "_flush") not in found
    assert ("server/uvicorn.py", "_send_timed_out") not in found
    assert ("server/daphne.py", "_ws_factory") not in found


def test_every_reach_in_is_listed_in_its_files_section(found, rows):
    unlisted = [f"{file}: {name}" for file, name in found if not listed(rows, file, name)]
    assert not unlisted, (
        "private library names touched but not in server/COMPAT.md (a row in the file's "
        f"section, named with it): {unlisted}"
    )


@pytest.mark.parametrize("file", sorted(KNOWN_INTERNALS))
def test_every_known_internal_is_still_used_and_listed(file, rows):
    source = (ROOT / file).read_text(encoding="utf-8")
    for name in KNOWN_INTERNALS[file]:
        last = name.rsplit(".", 1)[-1]
        assert word(last).search(source), f"{file} no longer uses {name}: update KNOWN_INTERNALS"
        assert listed(rows, file, last), f"{name} ({file}) has no row in server/COMPAT.md"


def test_every_row_names_a_pinned_library_version_and_existing_tests(rows):
    from tests.server.test_compat import CHECKED

    problems = []
    for row in rows:
        where = f"server/COMPAT.md:{row.line} ({row.name})"
        if not row.files:
            problems.append(f"{where}: its section names no project file")
        for file in row.files:
            if not (ROOT / file).is_file():
                problems.append(f"{where}: {file} does not exist")
        if row.library == "python":
            if row.version != f"{sys.version_info.major}.{sys.version_info.minor}":
                problems.append(f"{where}: python {row.version}, running {sys.version}")
        elif CHECKED.get(row.library) != row.version:
            problems.append(
                f"{where}: {row.library} {row.version}, the version table says "
                f"{CHECKED.get(row.library)}"
            )
        if not row.why or not row.assumes:
            problems.append(f"{where}: no why or no assumption")
        if not row.guards:
            problems.append(f"{where}: guarded by nothing")
        for guard in row.guards:
            if guard == "compat":
                continue
            path, _, test = guard.partition("::")
            if not path.startswith("tests/") or not (ROOT / path).is_file():
                problems.append(f"{where}: {guard} is not a test file")
            elif test and not re.search(
                rf"^(async )?def {re.escape(test)}\(", (ROOT / path).read_text(), re.M
            ):
                problems.append(f"{where}: {path} has no {test}")
    assert not problems, "; ".join(problems)
