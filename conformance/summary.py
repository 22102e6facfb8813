"""A markdown summary of conformance runs, small enough to commit (the HTML report is not)."""

import datetime
import html
import re
from importlib import metadata
from pathlib import Path

from conformance import report, runner

# The packages whose code the runs exercise, per server. The suite's own versions are pinned in
# conformance/requirements-wstest.txt (.venv-conformance cannot be asked from here).
SERVER_PACKAGES = {
    "daphne": ("daphne", "autobahn", "twisted"),
    "uvicorn": ("uvicorn", "websockets"),
}
SUITE = "autobahntestsuite 25.10.1 (autobahn 0.10.9, Twisted 19.10.0) on CPython 2.7.18"


def _versions(server):
    versions = []
    for package in SERVER_PACKAGES.get(server, ()):
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            continue
    return ", ".join(versions)


def _plain(text):
    """A case's HTML-flavoured description as one line of plain text."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", text))).strip()


def _explained_cases(run, behaviors):
    """``(case ids, description, result)`` of the cases with ``behaviors``, the same case on
    every endpoint counted once, and cases whose texts are the same grouped together."""
    seen = {}
    for agent_report in run.reports.values():
        for case in agent_report.with_behavior(*behaviors):
            seen.setdefault(case.case_id, case)
    grouped = {}
    for case_id in sorted(seen, key=report.case_key):
        details = seen[case_id].details()
        key = (seen[case_id].behavior, _plain(details["result"]))
        grouped.setdefault(key, []).append((case_id, _plain(details["description"])))
    rows = []
    for (behavior, result), cases in grouped.items():
        ids = report.case_groups([case_id for case_id, _ in cases])
        rows.append((behavior, ids, cases[0][1], result))
    return rows


def _patterns(cases):
    """wstest's case patterns for reading: explicit case ids collapsed into ranges."""
    wildcards = [case for case in cases if "*" in case]
    explicit = [case for case in cases if "*" not in case]
    return ", ".join([*wildcards, *([report.case_groups(explicit)] if explicit else [])])


def render_markdown(runs, today=None):
    """The summary of ``runs`` (:class:`conformance.runner.ServerRun`) as markdown text."""
    today = today or datetime.date.today().isoformat()
    lines = [
        "# Autobahn|Testsuite results",
        "",
        f"Written by `python -m conformance --summary FILE` on {today}; the suite: {SUITE}.",
        "docs/websockets.md explains the cases that are not OK.",
        "",
        "| server | endpoint | cases | OK | NON-STRICT | INFORMATIONAL | UNIMPLEMENTED | FAILED |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        for agent, agent_report in run.reports.items():
            counts = agent_report.counts()
            cells = " | ".join(str(counts.get(name, 0)) for name in report.BEHAVIORS)
            paths = {runner.agent_name(run.server, path): path for path in runner.ENDPOINTS}
            endpoint = f"`{paths[agent]}`" if agent in paths else agent
            lines.append(f"| {run.server} | {endpoint} | {len(agent_report.cases)} | {cells} |")
    for run in runs:
        lines += ["", f"## {run.server} ({_versions(run.server)})", ""]
        excluded = "".join(
            f" (not {' '.join(patterns)} on `{endpoint}`)"
            for endpoint, patterns in run.exclude.items()
        )
        lines.append(
            f"Cases {_patterns(run.cases)} against {len(run.reports)} endpoints{excluded}: "
            f"{run.seconds:.0f} s of wall time, {run.cpu_seconds:.0f} s of CPU for the server "
            "and wstest together."
        )
        rows = _explained_cases(run, ("NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED"))
        if not rows:
            lines += ["", "Every case OK."]
            continue
        lines += ["", "| behavior | cases | first case | wstest's verdict |", "|---|---|---|---|"]
        for behavior, ids, description, result in rows:
            lines.append(f"| {behavior} | {ids} | {description} | {result} |")
        close_rows = [
            (agent, case)
            for agent, agent_report in run.reports.items()
            for case in agent_report.cases
            if case.behavior_close not in ("OK", "INFORMATIONAL")
        ]
        if close_rows:
            lines += ["", "Closing behaviors other than OK:", ""]
            for agent, case in close_rows:
                lines.append(
                    f"- {agent} {case.case_id}: {case.behavior_close} "
                    f"(close code {case.remote_close_code})"
                )
    return "\n".join(lines) + "\n"


def write_markdown(runs, path):
    """Write :func:`render_markdown` of ``runs`` to ``path``."""
    Path(path).write_text(render_markdown(runs), encoding="utf-8")
