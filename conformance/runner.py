"""Run wstest's fuzzing client against the project's echo endpoints on a live server."""

import json
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path

from conformance import report, wstest
from conformance.launchers import PROJECT_DIR, ServerProcess

ARTIFACTS_DIR = PROJECT_DIR / "test-artifacts" / "conformance"

# Both of the project's echo routes (chat/routing.py): the seed's address and the newer one.
ENDPOINTS = ("/ws/echo/", "/ws")

# Every case of the suite's groups: 1 framing, 2 pings and pongs, 3 reserved bits, 4 opcodes,
# 5 fragmentation, 6 UTF-8, 7 closing, 9 limits and performance, 10 auto-fragmentation,
# 12 and 13 permessage-deflate (a server that declines the extension has them UNIMPLEMENTED).
# Groups 8 and 11 do not exist.
ALL_CASES = ("1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "9.*", "10.*", "12.*", "13.*")

# How long a whole run may take before wstest is stopped: far above the slowest measured.
DEFAULT_TIMEOUT = 3 * 3600


def agent_name(server, endpoint):
    """The report's name of ``endpoint`` on ``server``, e.g. ``daphne-ws-echo``."""
    slug = "-".join(part for part in endpoint.strip("/").split("/") if part)
    return f"{server}-{slug}"


@dataclass
class ServerRun:
    """The outcome of the suite against one server: a report per endpoint, and the timing."""

    server: str
    cases: tuple
    reports: dict
    seconds: float
    cpu_seconds: float
    outdir: Path
    exclude: dict = field(default_factory=dict)

    def failed(self):
        """``{agent: [CaseResult]}`` of the failed cases; empty when none failed."""
        return {
            agent: failed
            for agent, agent_report in self.reports.items()
            if (failed := agent_report.failed())
        }


def run_server(
    server,
    cases=ALL_CASES,
    endpoints=ENDPOINTS,
    outdir=None,
    timeout=DEFAULT_TIMEOUT,
    exclude=None,
    log=print,
):
    """Start ``server`` (a launcher's name), run ``cases`` against each of ``endpoints``, stop it.

    ``exclude`` maps an endpoint to case patterns not to run there (e.g. to save time).

    The HTML and JSON report goes to ``outdir`` (``test-artifacts/conformance/<server>/`` by
    default), replaced if there; so do the server's log and wstest's.
    """
    outdir = Path(outdir or ARTIFACTS_DIR / server)
    outdir.mkdir(parents=True, exist_ok=True)
    for stale in (outdir / "index.json", outdir / "server.log"):
        stale.unlink(missing_ok=True)
    wstest_bin = wstest.ensure_installed(log=log)
    process = ServerProcess(server, log_path=outdir / "server.log")
    log(f">> {server}: {' '.join(process.command())}")
    started = time.monotonic()
    # The CPU the server and wstest used, which unlike the wall time hardly depends on what
    # else the machine is running.
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with process:
        spec = wstest.fuzzingclient_spec(
            [
                (agent_name(server, endpoint), process.ws_url(endpoint), process.origin)
                for endpoint in endpoints
            ],
            cases,
            outdir,
            exclude_agent_cases={
                agent_name(server, endpoint): patterns
                for endpoint, patterns in (exclude or {}).items()
            },
        )
        log(
            f">> {server}: wstest -m fuzzingclient, cases {' '.join(cases)}, "
            f"endpoints {' '.join(endpoints)}"
        )
        index = wstest.run_fuzzingclient(spec, outdir, timeout=timeout, wstest=wstest_bin)
    seconds = time.monotonic() - started
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_seconds = sum(
        getattr(children_after, field) - getattr(children_before, field)
        for field in ("ru_utime", "ru_stime")
    )
    run = ServerRun(
        server, tuple(cases), report.read_index(index), seconds, cpu_seconds, outdir, exclude or {}
    )
    (outdir / "summary.json").write_text(json.dumps(summary_data(run), indent=2) + "\n")
    return run


def load_run(server, outdir=None):
    """The :class:`ServerRun` that :func:`run_server` left in ``outdir``, read back."""
    outdir = Path(outdir or ARTIFACTS_DIR / server)
    data = json.loads((outdir / "summary.json").read_text(encoding="utf-8"))
    return ServerRun(
        server,
        tuple(data["cases"]),
        report.read_index(outdir / "index.json"),
        data["seconds"],
        data["cpu_seconds"],
        outdir,
        data.get("exclude", {}),
    )


def summary_data(run):
    """A small JSON-able summary of ``run``: counts per agent and every case that is not OK."""
    return {
        "server": run.server,
        "cases": list(run.cases),
        "seconds": round(run.seconds, 1),
        "cpu_seconds": round(run.cpu_seconds, 1),
        "exclude": run.exclude,
        "agents": {
            agent: {
                "counts": agent_report.counts(),
                "not_ok": {
                    case.case_id: [case.behavior, case.behavior_close, case.remote_close_code]
                    for case in agent_report.cases
                    if case.behavior != "OK" or case.behavior_close not in ("OK", "INFORMATIONAL")
                },
            }
            for agent, agent_report in run.reports.items()
        },
    }


def format_run(run):
    """Lines for the terminal: counts per agent, then the cases that are neither OK nor
    UNIMPLEMENTED, and every failed one."""
    lines = [
        f"{run.server}: {len(run.reports)} endpoint(s) in {run.seconds:.0f} s "
        f"({run.cpu_seconds:.0f} s of CPU for the server and wstest), "
        f"report in {run.outdir}/index.html"
    ]
    for agent, agent_report in run.reports.items():
        counts = ", ".join(f"{name} {count}" for name, count in agent_report.counts().items())
        lines.append(f"  {agent}: {len(agent_report.cases)} cases: {counts}")
        for behavior in ("NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED"):
            cases = [case.case_id for case in agent_report.with_behavior(behavior)]
            if cases:
                lines.append(f"    {behavior}: {report.case_groups(cases)}")
        for case in agent_report.failed():
            lines.append(
                f"    FAILED {case.case_id}: behavior {case.behavior}, close "
                f"{case.behavior_close} ({case.remote_close_code}); {case.report_file}"
            )
    return lines
