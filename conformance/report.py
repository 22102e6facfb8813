"""Reading wstest's report: ``index.json`` (one entry per agent and case) and the case files."""

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

# A case's "behavior", in the order the summaries list them.
BEHAVIORS = ("OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED")
# Close behaviors that wstest's HTML report shows red (a wrong close code is only non-strict).
FAILED_CLOSE_BEHAVIORS = ("FAILED", "UNCLEAN")


def case_key(case_id):
    """Sort key of a case id such as ``"12.1.10"``: numerically, part by part."""
    return tuple(int(part) for part in case_id.split("."))


@dataclass
class CaseResult:
    """One case's outcome for one agent, as ``index.json`` gives it."""

    case_id: str
    behavior: str
    behavior_close: str
    remote_close_code: int | None
    duration_ms: int
    report_file: Path

    @property
    def failed(self):
        """True for a case the HTML report shows red: its behavior or its closing failed."""
        return self.behavior == "FAILED" or self.behavior_close in FAILED_CLOSE_BEHAVIORS

    def details(self):
        """The case file's description, expectation and result texts."""
        data = json.loads(self.report_file.read_text(encoding="utf-8"))
        return {
            "description": data.get("description", ""),
            "expectation": data.get("expectation", ""),
            "result": data.get("result", ""),
            "result_close": data.get("resultClose", ""),
        }


@dataclass
class AgentReport:
    """Every case's result for one agent (a server and endpoint)."""

    agent: str
    cases: list = field(default_factory=list)

    def counts(self):
        """How many cases had each behavior, every behavior of :data:`BEHAVIORS` included."""
        found = Counter(case.behavior for case in self.cases)
        counts = {behavior: found.pop(behavior, 0) for behavior in BEHAVIORS}
        counts.update(found)  # a behavior this module does not know of (e.g. "NO CLOSE")
        return counts

    def failed(self):
        return [case for case in self.cases if case.failed]

    def with_behavior(self, *behaviors):
        return [case for case in self.cases if case.behavior in behaviors]

    def duration_ms(self):
        return sum(case.duration_ms for case in self.cases)


def read_index(index_path):
    """``{agent: AgentReport}`` from a wstest fuzzingclient ``index.json``."""
    index_path = Path(index_path)
    raw = json.loads(index_path.read_text(encoding="utf-8"))
    reports = {}
    for agent, cases in raw.items():
        report = AgentReport(agent)
        for case_id in sorted(cases, key=case_key):
            entry = cases[case_id]
            report.cases.append(
                CaseResult(
                    case_id=case_id,
                    behavior=entry["behavior"],
                    behavior_close=entry["behaviorClose"],
                    remote_close_code=entry.get("remoteCloseCode"),
                    duration_ms=entry.get("duration", 0),
                    report_file=index_path.parent / entry["reportfile"],
                )
            )
        reports[agent] = report
    return reports


def case_groups(cases):
    """Consecutive case ids collapsed for reading: ``["3.2", "3.3", "3.4"]`` -> ``"3.2-3.4"``."""
    ids = sorted(cases, key=case_key)
    groups = []
    for case_id in ids:
        prefix, _, last = case_id.rpartition(".")
        if groups:
            first, previous = groups[-1]
            p_prefix, _, p_last = previous.rpartition(".")
            if p_prefix == prefix and int(p_last) + 1 == int(last):
                groups[-1] = (first, case_id)
                continue
        groups.append((case_id, case_id))
    return ", ".join(first if first == last else f"{first}-{last}" for first, last in groups)
