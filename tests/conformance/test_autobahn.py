"""The Autobahn|Testsuite's fast subset against the default server, daphne through its launcher.

The whole suite takes minutes per server (``make conformance``, docs/websockets.md); this runs a
subset that covers every group in under a minute: groups 1-7 and 10 whole (framing, pings,
reserved bits, opcodes, fragmentation, UTF-8, closing, auto-fragmentation), the cheapest case of
each part of group 9 (limits and performance), and one case of each permessage-deflate group.
It fails on any FAILED case, and on a case that is not OK without being one of those
docs/websockets.md explains, so that a regression to NON-STRICT is noticed too.
"""

import pytest

from conformance import runner
from conformance.launchers import DEFAULT_SERVER

# Whichever test comes first also installs wstest when .venv-conformance lacks it: about two
# minutes on a fresh machine, before the run's 40 s.
pytestmark = [
    pytest.mark.conformance,
    pytest.mark.live_server_process,
    pytest.mark.timeout(900),
]

FAST_CASES = (
    *("1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "10.*"),
    *("9.1.1", "9.1.2", "9.1.3", "9.1.4", "9.2.1", "9.2.2", "9.2.3", "9.2.4"),
    *("9.3.9", "9.4.9", "9.5.6", "9.6.6", "9.7.1", "9.8.1"),
    *("12.1.1", "13.1.1"),
)

# The cases that may end other than OK on daphne, each explained in docs/websockets.md.
EXPLAINED = {
    # The invalid frame comes in the same read as a valid message before it: the connection is
    # failed before the application has echoed that message ("fail fast").
    **dict.fromkeys(
        ("3.2", "3.3", "3.4", "4.1.3", "4.1.4", "4.1.5", "4.2.3", "4.2.4", "4.2.5", "5.15"),
        "NON-STRICT",
    ),
    # The close frame may be handled before the message in front of it has been echoed.
    "7.1.6": "INFORMATIONAL",
    # Close codes the suite only reports on.
    "7.13.1": "INFORMATIONAL",
    "7.13.2": "INFORMATIONAL",
    # daphne does not offer permessage-deflate.
    "12.1.1": "UNIMPLEMENTED",
    "13.1.1": "UNIMPLEMENTED",
}


@pytest.fixture(scope="module")
def fast_run():
    """One run of the fast subset against both echo endpoints (about 40 s)."""
    outdir = runner.ARTIFACTS_DIR / f"fast-{DEFAULT_SERVER}"
    return runner.run_server(DEFAULT_SERVER, cases=FAST_CASES, outdir=outdir, timeout=240)


def test_no_case_fails(fast_run):
    failed = {
        agent: [f"{case.case_id} {case.behavior}/{case.behavior_close}" for case in cases]
        for agent, cases in fast_run.failed().items()
    }

    assert set(fast_run.reports) == {
        runner.agent_name(DEFAULT_SERVER, endpoint) for endpoint in runner.ENDPOINTS
    }
    assert failed == {}


def test_every_case_that_is_not_ok_is_an_explained_one(fast_run):
    unexplained = {
        agent: [
            f"{case.case_id} {case.behavior}"
            for case in agent_report.cases
            if case.behavior != "OK" and EXPLAINED.get(case.case_id) != case.behavior
        ]
        for agent, agent_report in fast_run.reports.items()
    }

    # wstest ran every case of the subset on each endpoint (groups 1-7 and 10 are 247 cases).
    assert {len(agent_report.cases) for agent_report in fast_run.reports.values()} == {263}
    assert unexplained == {agent: [] for agent in fast_run.reports}


def test_invalid_close_frames_are_answered_with_a_close_frame(fast_run):
    # 7.9.x send reserved close codes, 7.13.x codes beyond 4999: daphne used to reset the
    # connection instead of sending its 1002 (server.daphne.WebSocketProtocol.dropConnection).
    codes = {
        agent: {
            case.case_id: case.remote_close_code
            for case in agent_report.cases
            if case.case_id.startswith(("7.9.", "7.13."))
        }
        for agent, agent_report in fast_run.reports.items()
    }

    for agent_codes in codes.values():
        assert len(agent_codes) == 11
        assert set(agent_codes.values()) == {1002}
