"""Medians over rounds and the markdown table printed at the end of a run."""

import statistics
from dataclasses import dataclass

# The project's columns come first: one per --project-server (see markdown_table).
REFERENCE_COLUMNS = (
    ("peer", "peer"),
    ("peer_nodelay", "peer --nodelay"),
    ("asyncio_echo", "asyncio echo"),
)


def median_figures(rounds):
    """``{target: {figure: {metric: median}}}`` over the rounds' results.

    A figure that was n/a in every round stays n/a (with its reason); numbers are the median of
    the rounds that produced them; a dict-valued metric (e.g. error kinds) is kept from the last.
    """
    merged = {}
    for round_result in rounds:
        for target, figures in round_result.items():
            for figure, values in figures.items():
                merged.setdefault(target, {}).setdefault(figure, []).append(values)
    medians = {}
    for target, figures in merged.items():
        for figure, runs in figures.items():
            measured = [run for run in runs if "na" not in run and "failed" not in run]
            if not measured:
                medians.setdefault(target, {})[figure] = runs[-1]
                continue
            combined = {"rounds": len(measured)}
            for metric in measured[-1]:
                values = [run.get(metric) for run in measured]
                numbers = [value for value in values if isinstance(value, int | float)]
                if numbers and len(numbers) == len([v for v in values if v is not None]):
                    combined[metric] = statistics.median(numbers)
                else:
                    combined[metric] = values[-1]
            failed = [run["failed"] for run in runs if "failed" in run]
            if failed:
                combined["failed_rounds"] = failed
            medians.setdefault(target, {})[figure] = combined
    return medians


@dataclass
class Row:
    """One line of the table: a metric of a figure, and whether more or less is better."""

    label: str
    figure: str
    metric: str
    digits: int = 1
    better: str = "lower"  # "higher", "lower" or "" (no ratio)
    # The project's figure, when it differs from the others': "figure" on every project
    # column (1a), or "figure@target" on the first server's column only (DB rows).
    project_figure: str | None = None


# Figure 5's metrics, the same for each of the project's three database configurations.
DATABASE_METRICS = (
    ("new MySQL connections per request", "new_connections_per_request", 3, ""),
    ("most open at once", "max_open_connections", 0, ""),
    ("errors", "errors", 0, ""),
    ("req/s", "rate", 0, "higher"),
)


def _database_rows(configuration, project_figure=None, with_rate=True):
    """Figure 5's rows for one configuration; ``project_figure`` names the project server that
    ran it ("figure@target"), when it is not the project as deployed."""
    rows = []
    for index, (label, metric, digits, better) in enumerate(DATABASE_METRICS):
        if metric == "rate" and not with_rate:
            continue
        page = "5. DB page c=32" if index == 0 else "5. DB page"
        rows.append(
            Row(f"{page}, {configuration}: {label}", "db", metric, digits, better, project_figure)
        )
    return rows


def _figure_rows(title, figure, project_figure=None, p50_digits=1, p99_digits=1):
    """req/s, server CPU per request, p50, p99 and errors of an HTTP figure at c=32."""
    return [
        Row(f"{title}: req/s", figure, "rate", 0, "higher", project_figure),
        Row(
            f"{title}: server CPU per request, ms",
            figure,
            "server_cpu_per_unit_ms",
            2,
            "lower",
            project_figure,
        ),
        Row(f"{title}: p50, ms", figure, "p50_ms", p50_digits, "lower", project_figure),
        Row(f"{title}: p99, ms", figure, "p99_ms", p99_digits, "lower", project_figure),
        Row(f"{title}: errors", figure, "errors", 0, "", project_figure),
    ]


ROWS = [
    # Like for like: the peer's "/" (writes session["user"]) and "/whoami" (reads it) against
    # the project's "/" (counts visits in the session) and a page that only reads the session.
    *_figure_rows("1a. session round trip, like for like, c=32", "session_c32", "session_pair_c32"),
    *_figure_rows("1. session c=32", "session_c32"),
    Row("1. session c=32: sessions (32 expected)", "session_c32", "distinct_sessions", 0, ""),
    *_figure_rows("1. session c=1", "session_c1", p50_digits=2, p99_digits=2),
    Row("1. logged-in page c=32: req/s", "session_login_c32", "rate", 0, ""),
    Row(
        "1. logged-in page c=32: server CPU per request, ms",
        "session_login_c32",
        "server_cpu_per_unit_ms",
        2,
        "",
    ),
    Row("1. logged-in page c=32: p99, ms", "session_login_c32", "p99_ms", 1, ""),
    Row("1. logged-in page c=1: p50, ms", "session_login_c1", "p50_ms", 2, ""),
    Row("2. echo 32 B x 32 clients: msgs/s", "echo_32", "rate", 0, "higher"),
    Row("2. echo 32 B: server CPU per message, ms", "echo_32", "server_cpu_per_unit_ms", 3),
    Row("2. echo 32 B: p50, ms", "echo_32", "p50_ms", 2),
    Row("2. echo 32 B: p99, ms", "echo_32", "p99_ms", 2),
    Row("2. echo 32 B: errors", "echo_32", "errors", 0, ""),
    Row("2. echo 65,535 B x 8 clients: msgs/s", "echo_65535", "rate", 0, "higher"),
    Row("2. echo 65,535 B: server CPU per message, ms", "echo_65535", "server_cpu_per_unit_ms", 2),
    Row("2. echo 65,535 B: p50, ms", "echo_65535", "p50_ms", 1),
    Row("2. echo 65,535 B: p99, ms", "echo_65535", "p99_ms", 1),
    Row("2. echo 70,000 B x 8 clients: msgs/s", "echo_70000", "rate", 0, "higher"),
    Row("2. echo 70,000 B: server CPU per message, ms", "echo_70000", "server_cpu_per_unit_ms", 2),
    Row("2. echo 70,000 B: p99, ms", "echo_70000", "p99_ms", 1),
    Row("3. idle WebSockets: held", "idle", "held", 0, ""),
    Row("3. idle WebSockets: lost", "idle", "lost", 0, ""),
    Row("3. idle WebSockets: server RSS per connection, KiB", "idle", "rss_per_connection_kib", 1),
    Row("4. chat fan-out: delivery p50, ms", "fanout", "p50_ms", 1, ""),
    Row("4. chat fan-out: delivery p99, ms", "fanout", "p99_ms", 1, ""),
    Row("4. chat fan-out: messages missing", "fanout", "missing", 0, ""),
    Row("4. chat fan-out: handshakes refused (of 200)", "fanout", "handshakes_refused", 0, ""),
    Row("4. chat fan-out: server CPU per delivery, ms", "fanout", "server_cpu_per_delivery_ms", 3),
    *_database_rows("(a) Django handler, CONN_MAX_AGE=0", "db@project_cma0"),
    # MariaDB refuses a share of (b)'s connections, answered 503: its rate is not shown.
    *_database_rows("(b) Django handler, CONN_MAX_AGE=60", "db@project_stock", with_rate=False),
    *_database_rows("(c) pooled handler, CONN_MAX_AGE=60"),
    # The login form: the page, and a POST that fails validation and re-renders the form.
    *_figure_rows("6. login page GET c=32", "login_get_c32"),
    *_figure_rows("6. invalid login POST c=32", "login_post_c32"),
    # Noise: CPU time the hypervisor gave to other virtual machines during a figure. Above a few
    # percent everything runs slower; compare only figures measured with little of it.
    Row("noise: CPU stolen by the hypervisor, session, %", "session_c32", "steal_percent", 0, ""),
    Row("noise: CPU stolen by the hypervisor, echo 32 B, %", "echo_32", "steal_percent", 0, ""),
    Row("noise: CPU stolen by the hypervisor, fan-out, %", "fanout", "steal_percent", 0, ""),
]


def _cell(figures, figure, metric, digits):
    values = figures.get(figure)
    if values is None:
        return "", None
    if "na" in values:
        return values["na"], None
    if "failed" in values:
        return "failed (see JSON)", None
    value = values.get(metric)
    if value is None:
        return "—", None
    text = f"{value:,.{digits}f}"
    if values.get("failed_rounds"):
        text += f" ({len(values['failed_rounds'])} round(s) failed)"
    return text, value


def _ratio(project, reference, better):
    if not better or project is None or reference in (None, 0):
        return ""
    ratio = project / reference
    return f"{ratio:.2f}x"


def markdown_table(medians, project_columns=(("project", "project"),)):
    """The table: one row per metric, the project on each of its servers (``project_columns``:
    ``(target key, label)``, the first one the project as deployed) vs the peer (as it runs and
    --nodelay) and the asyncio echo server."""
    project_keys = [key for key, _ in project_columns]
    columns = [*project_columns, *REFERENCE_COLUMNS]
    if len(project_columns) == 1:
        ratio_names = {project_keys[0]: "project"}
    else:
        ratio_names = {
            key: label.removeprefix("project ").strip("()") for key, label in project_columns
        }
    ratios = [
        (key, reference, f"{ratio_names[key]} ÷ {label}")
        for reference, label in (("peer", "peer"), ("peer_nodelay", "peer --nodelay"))
        for key in project_keys
    ]
    header = ["figure", *[label for _, label in columns], *[label for *_, label in ratios]]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in ROWS:
        cells = {}
        values = {}
        for key, _ in columns:
            figure, target = row.figure, key
            if key in project_keys and row.project_figure:
                if "@" in row.project_figure:
                    figure, target = row.project_figure.split("@")
                    if key != project_keys[0]:
                        cells[key], values[key] = "", None
                        continue
                else:
                    figure = row.project_figure
            cells[key], values[key] = _cell(medians.get(target, {}), figure, row.metric, row.digits)
        if not any(cells.values()):
            continue
        lines.append(
            "| "
            + " | ".join(
                [
                    row.label,
                    *[cells[key] for key, _ in columns],
                    *[
                        _ratio(values[key], values[reference], row.better)
                        for key, reference, _ in ratios
                    ],
                ]
            )
            + " |"
        )
    return "\n".join(lines)
