"""``python -m bench``: start each server in turn, run the figures against it, print the table.

See docs/performance.md for what each figure means. ``make bench`` installs everything first
(the project's venv and services, the peer through its setup.sh) and then runs this.
"""

import argparse
import datetime
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.figures import FIGURES, Context, FigureFailed, warm_up
from bench.report import markdown_table, median_figures
from bench.servers import ServerStartError
from bench.targets import (
    PROJECT_DIR,
    echo_target,
    new_secret_key,
    peer_targets,
    prepare_project,
    project_targets,
)
from server.commands import SERVERS

FULL_SIZES = {
    "session_requests": 5000,
    "session_requests_c1": 100,
    "login_requests": 3000,
    "echo_small_clients": 32,
    "echo_small_messages": 2000,
    "echo_large_clients": 8,
    "echo_large_messages": 50,
    "idle_connections": 3000,
    "idle_hold_s": 10.0,
    "db_requests": 2000,
    "fanout_clients": 200,
    "fanout_rate": 20.0,
    "fanout_duration_s": 15.0,
}
# Development runs: every code path, a fraction of the load, one round.
QUICK_SIZES = {
    "session_requests": 600,
    "session_requests_c1": 30,
    "login_requests": 300,
    "echo_small_clients": 32,
    "echo_small_messages": 100,
    "echo_large_clients": 8,
    "echo_large_messages": 5,
    "idle_connections": 300,
    "idle_hold_s": 2.0,
    "db_requests": 300,
    "fanout_clients": 20,
    "fanout_rate": 20.0,
    "fanout_duration_s": 3.0,
}
TARGET_KEYS = ("project", "project_cma0", "project_stock", "peer", "peer_nodelay", "asyncio_echo")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__.splitlines()[0].replace("``", "")
    )
    parser.add_argument(
        "--only",
        default=",".join(FIGURES),
        help=f"comma-separated figures to run (default all: {','.join(FIGURES)})",
    )
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 3; --quick: 1)")
    parser.add_argument("--quick", action="store_true", help="small loads, one round (development)")
    parser.add_argument(
        "--targets",
        default=",".join(TARGET_KEYS),
        help=f"comma-separated servers to measure (default all: {','.join(TARGET_KEYS)})",
    )
    parser.add_argument(
        "--peer-dir",
        default=os.environ.get("PEER_DIR", "../shared/peer_flask"),
        help="the peer's folder, relative to the project (default ../shared/peer_flask)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "mysql://chatbench:chatbench@127.0.0.1:3306/chatdb_bench"
        ),
        help="the project's bench database; its own MariaDB user so its connections are countable",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4"),
        help="the project's bench Redis database (emptied at the start of a run)",
    )
    parser.add_argument(
        "--project-server",
        default=os.environ.get("BENCH_PROJECT_SERVER", "auto"),
        help="how to serve the project: auto (what make run runs), "
        f"{', '.join(SERVERS)} (server/commands.py), split (nginx, granian's WSGI interface "
        "and daphne: python -m server split, its CPU summed over all of them), or plain-daphne "
        "(without the fixes); "
        "comma-separated for several in one run (e.g. daphne,uvicorn,granian: each is a column, "
        "rounds interleave them; figure 5's rows (a) and (b) use the first)",
    )
    parser.add_argument(
        "--project-db-page",
        default=os.environ.get("BENCH_DB_PAGE", "/stats/"),
        help="the project page that queries the database (figure 5; default /stats/)",
    )
    parser.add_argument("--project-echo-path", default="/ws/echo/")
    parser.add_argument("--project-login-path", default="/accounts/login/")
    parser.add_argument(
        "--project-session-read-page",
        default="/echo/",
        help="the page that only reads the session, after / in figure 1's like-for-like round "
        "trip (the peer's /whoami; default /echo/)",
    )
    parser.add_argument(
        "--project-logged-in-page",
        default="/",
        help="page requested by logged-in clients in figure 1 (default: the home page)",
    )
    parser.add_argument(
        "--project-chat-path", default="/ws/chat/{room}/", help="chat route; {room} is replaced"
    )
    parser.add_argument(
        "--chat-payload",
        default='{"type": "message", "text": "{marker}"}',
        help="text a chat client sends; {marker} is replaced by the message's tracking marker",
    )
    parser.add_argument(
        "--chat-senders",
        type=int,
        default=20,
        help="users the fan-out's 20 messages/s are spread over, in turn (the chat limits each "
        "user to 20 messages per 10 s; default 20: 1 message/s each)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SIZE=VALUE",
        help=f"override one load size, e.g. --set idle_connections=3000 ({', '.join(FULL_SIZES)})",
    )
    parser.add_argument("--results-dir", default=str(PROJECT_DIR / "bench" / "results"))
    options = parser.parse_args(argv)
    options.only = [name.strip() for name in options.only.split(",") if name.strip()]
    unknown = set(options.only) - set(FIGURES)
    if unknown:
        parser.error(f"unknown figure(s) {sorted(unknown)}; choose from {list(FIGURES)}")
    options.targets = [name.strip() for name in options.targets.split(",") if name.strip()]
    unknown = set(options.targets) - set(TARGET_KEYS)
    if unknown:
        parser.error(f"unknown target(s) {sorted(unknown)}; choose from {list(TARGET_KEYS)}")
    servers = ("auto", *SERVERS, "split", "plain-daphne")
    options.project_server = [
        name.strip() for name in options.project_server.split(",") if name.strip()
    ]
    unknown = [name for name in options.project_server if name not in servers]
    kinds = ["daphne" if name == "auto" else name for name in options.project_server]
    if unknown or not kinds or len(set(kinds)) != len(kinds):
        parser.error(
            f"--project-server: one or more of {', '.join(servers)}, each once (auto is daphne)"
        )
    options.overrides = {}
    for item in options.set:
        name, _, value = item.partition("=")
        if name not in FULL_SIZES or not value:
            parser.error(f"--set {item!r}: expected SIZE=VALUE with SIZE in {list(FULL_SIZES)}")
        options.overrides[name] = type(FULL_SIZES[name])(value)
    if options.rounds is None:
        options.rounds = 1 if options.quick else 3
    options.peer_dir = str((PROJECT_DIR / options.peer_dir).resolve())
    options.secret_key = new_secret_key()
    return options


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def raise_fd_limit():
    """Servers inherit this limit: 3,000 idle WebSockets need more than the usual 1,024 fds."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (65536, max(65536, hard)))
    except (ValueError, OSError):
        # Not root: as high as the hard limit allows.
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(65536, hard)), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def machine_description():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def git_revision():
    """The measured revision: from git, or BENCH_PROJECT_REVISION for an exported tree."""
    if os.environ.get("BENCH_PROJECT_REVISION"):
        return os.environ["BENCH_PROJECT_REVISION"]
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_DIR, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return None
    if not head:
        return None
    return head + ("+uncommitted changes" if dirty else "")


def load_average():
    with open("/proc/loadavg") as loadavg:
        return [float(value) for value in loadavg.read().split()[:3]]


def select_targets(options):
    targets = []
    if {"project", "project_cma0", "project_stock"} & set(options.targets):
        targets += project_targets(options)
    if {"peer", "peer_nodelay"} & set(options.targets):
        targets += peer_targets(options)
    targets.append(echo_target())
    chosen = []
    for target in targets:
        if (target.selected_by or target.key) not in options.targets:
            continue
        figures = [name for name in options.only if name in target.figures]
        if figures:
            chosen.append((target, figures))
    return chosen


def run_target(ctx, target, figures, log_dir):
    """Start one server, warm it, run its figures in order, stop it (always)."""
    server = target.server(log_dir)
    ctx.server_commands[target.key] = {
        "label": target.label,
        "argv": " ".join(server.argv),
        "notes": target.notes,
    }
    log(f"starting {target.label}")
    server.start()
    results = {}
    try:
        warm_up(target, server)
        for name in FIGURES:  # fixed order: idle first (see figures.FIGURES)
            if name not in figures:
                continue
            log(f"  {target.label}: {name}")
            started = time.monotonic()
            try:
                results.update(FIGURES[name](ctx, target, server))
            except FigureFailed as exc:
                log(f"  {target.label}: {name} FAILED: {exc}")
                results[name] = {"failed": str(exc)}
                if server.process.poll() is not None:
                    break
            log(f"  {target.label}: {name} done in {time.monotonic() - started:.1f}s")
    finally:
        server.stop()
    return results


def main(argv=None):
    options = parse_args(argv)
    sizes = {**(QUICK_SIZES if options.quick else FULL_SIZES), **options.overrides}
    fd_limit = raise_fd_limit()
    if fd_limit < 65536:
        log(f"open-file limit {fd_limit} (the hard limit here; servers inherit it)")
    if "idle" in options.only and fd_limit < sizes["idle_connections"] + 1024:
        log(f"WARNING: {sizes['idle_connections']} idle connections need more than {fd_limit} fds")
    started_at = datetime.datetime.now().astimezone()
    results_dir = Path(options.results_dir)
    log_dir = results_dir / "logs"
    results_dir.mkdir(parents=True, exist_ok=True)

    # SIGTERM (e.g. from a CI timeout) unwinds like Ctrl-C, through every try/finally that
    # stops a server.
    def on_sigterm(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)

    meta = {
        "started": started_at.isoformat(timespec="seconds"),
        "machine": machine_description(),
        "project_revision": git_revision(),
        "options": {
            key: value for key, value in vars(options).items() if key not in ("secret_key",)
        },
        "sizes": sizes,
        "fd_limit": fd_limit,
        "load_average_start": load_average(),
    }
    rounds = []
    ctx = Context(options, sizes, log)
    try:
        chosen = select_targets(options)
        if any(target.kind == "project" for target, _ in chosen):
            prepare_project(options, log, log_dir)
        for round_number in range(1, options.rounds + 1):
            log(f"round {round_number} of {options.rounds}")
            round_results = {}
            for target, figures in chosen:
                round_results[target.key] = run_target(ctx, target, figures, log_dir)
            rounds.append(round_results)
    except ServerStartError as exc:
        log(f"ERROR: {exc}")
        return 2
    except KeyboardInterrupt:
        log("interrupted; every server started was stopped")
        return 130

    meta["servers"] = ctx.server_commands
    meta["load_average_end"] = load_average()
    meta["finished"] = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    medians = median_figures(rounds)
    project_columns = [
        (target.key, target.label)
        for target, _ in chosen
        if target.kind == "project" and target.key not in ("project_cma0", "project_stock")
    ]
    if len(project_columns) == 1:
        project_columns = [(project_columns[0][0], "project")]
    table = markdown_table(medians, project_columns or [("project", "project")])
    stamp = started_at.strftime("%Y%m%d-%H%M%S")
    output = {"meta": meta, "medians": medians, "rounds": rounds}
    json_path = results_dir / f"bench-{stamp}{'-quick' if options.quick else ''}.json"
    json_path.write_text(json.dumps(output, indent=2, default=str))
    (results_dir / "latest.md").write_text(table + "\n")
    print(
        f"\n## Benchmark {meta['started']} — {meta['machine']['cpus']} cores, "
        f"medians of {options.rounds} round(s){' (quick)' if options.quick else ''}\n"
    )
    print(table)
    print(
        "\nRatios are project ÷ peer: above 1 is better for req/s and msgs/s, worse for CPU "
        "time, latency and memory."
    )
    print(f"\nJSON: {json_path}", flush=True)
    failed = [
        f"{target}/{figure}"
        for target, figures in medians.items()
        for figure, values in figures.items()
        if "failed" in values or values.get("failed_rounds")
    ]
    if failed:
        log(f"some figures failed: {', '.join(failed)} (details in the JSON)")
        return 1
    return 0
