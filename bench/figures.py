"""The six figures: what each drives, on which target, and how its numbers are computed.

Every figure runs the load generator (``bench.loadgen``) as a separate process and reads the
server's /proc counters at the load generator's checkpoints, so CPU time covers exactly the
measured phase.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

from bench.mariadb import ConnectionCounters, OpenConnectionsPoller
from bench.servers import cpu_between, cpu_seconds, http_get, service_pids
from bench.targets import PROJECT_DIR

# Redis and MariaDB serve every server under test (and whatever else shares them): their CPU
# time during a figure is recorded as a diagnostic, not charged to the server.
SERVICE_PIDS = service_pids()


class FigureFailed(RuntimeError):
    """The load generator could not complete a figure (the message says why)."""


def _machine_cpu_ticks():
    with open("/proc/stat") as stat:
        return [int(value) for value in stat.readline().split()[1:]]


def machine_busy_seconds():
    """CPU seconds spent by everything on the machine (all cores), from /proc/stat; time stolen
    by the hypervisor is not included."""
    fields = _machine_cpu_ticks()
    steal = fields[7] if len(fields) > 7 else 0
    ticks_busy = sum(fields[:8]) - fields[3] - fields[4] - steal  # minus idle, iowait, steal
    return ticks_busy / os.sysconf("SC_CLK_TCK")


def machine_steal_seconds():
    """CPU seconds the hypervisor gave to other virtual machines while ours wanted them."""
    fields = _machine_cpu_ticks()
    return (fields[7] if len(fields) > 7 else 0) / os.sysconf("SC_CLK_TCK")


def _process_cpu(pid):
    try:
        return cpu_seconds(pid)
    except OSError:
        return None


def drive(spec, server, extra_snapshot=None, before_reply=None, timeout=900):
    """Run one load-generator process against ``server``; (result, snapshots by checkpoint).

    At each checkpoint the server's CPU time and RSS, the load generator's own CPU time and the
    whole machine's busy time are read (plus ``extra_snapshot()``, e.g. MariaDB's counters).
    ``before_reply[name]()``, when given, runs before the load generator may go on.
    """
    with tempfile.TemporaryFile("w+") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.loadgen"],
            cwd=PROJECT_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        # Bounded in time whatever happens: a hung server must not hang the run.
        watchdog = threading.Timer(timeout, process.kill)
        watchdog.start()
        process.stdin.write(json.dumps(spec) + "\n")
        process.stdin.flush()
        snapshots = {}
        result = None
        try:
            for line in process.stdout:
                message = json.loads(line)
                if "checkpoint" in message:
                    if before_reply and message["checkpoint"] in before_reply:
                        before_reply[message["checkpoint"]]()
                    snapshot = {
                        "server_threads": server.thread_run_times(),
                        "time": time.monotonic(),
                        "server_cpu_s": server.cpu_seconds(),
                        "server_rss_bytes": server.rss_bytes(),
                        "loadgen_cpu_s": _process_cpu(process.pid),
                        "machine_busy_s": machine_busy_seconds(),
                        "machine_steal_s": machine_steal_seconds(),
                        "services_cpu_s": {
                            name: _process_cpu(pid) for name, pid in SERVICE_PIDS.items()
                        },
                    }
                    if extra_snapshot is not None:
                        snapshot.update(extra_snapshot())
                    snapshots[message["checkpoint"]] = snapshot
                    process.stdin.write("go\n")
                    process.stdin.flush()
                elif "result" in message:
                    result = message["result"]
            process.wait(timeout=30)
        finally:
            watchdog.cancel()
            if process.poll() is None:
                process.kill()
                process.wait()
        if result is None:
            stderr.seek(0)
            raise FigureFailed(
                f"the load generator exited with code {process.returncode} and no result:\n"
                + stderr.read()[-2000:]
            )
    if "failed" in result:
        raise FigureFailed(result["failed"])
    if server.process.poll() is not None:
        raise FigureFailed(
            f"{server.name} died during the figure (exit code {server.process.returncode}):\n"
            + server.log_tail()
        )
    return result, snapshots


def per_unit_figures(result, snapshots, units_key="ok"):
    """CPU per unit of the server and of the load generator, and what else used the CPU."""
    start, end = snapshots["start"], snapshots["end"]
    units = result.get(units_key) or 0
    server_cpu, source = cpu_between(start, end)
    figures = {
        "server_cpu_s": server_cpu,
        "server_cpu_source": source,
        "server_cpu_per_unit_ms": server_cpu / units * 1000 if units else None,
        "server_rss_mib": end["server_rss_bytes"] / 2**20,
        "wall_s": end["time"] - start["time"],
    }
    if start["loadgen_cpu_s"] is not None and end["loadgen_cpu_s"] is not None:
        loadgen_cpu = end["loadgen_cpu_s"] - start["loadgen_cpu_s"]
        figures["loadgen_cpu_per_unit_ms"] = loadgen_cpu / units * 1000 if units else None
        for name, before in start["services_cpu_s"].items():
            after = end["services_cpu_s"].get(name)
            if before is not None and after is not None and units:
                figures[f"{name}_cpu_per_unit_ms"] = (after - before) / units * 1000
        busy = end["machine_busy_s"] - start["machine_busy_s"]
        # CPU used by the rest of the machine meanwhile (MariaDB, Redis, anything else):
        # a noise indicator for this figure.
        figures["others_cpu_share"] = max(0.0, busy - server_cpu - loadgen_cpu) / (
            figures["wall_s"] * (os.cpu_count() or 1)
        )
        # Time the hypervisor took away (other virtual machines on the host): while it is high,
        # everything runs slower, CPU per unit included, so the figure is not comparable.
        figures["steal_share"] = (end["machine_steal_s"] - start["machine_steal_s"]) / (
            figures["wall_s"] * (os.cpu_count() or 1)
        )
        figures["steal_percent"] = figures["steal_share"] * 100
    return figures


def summarise(result, snapshots):
    """The numbers kept for a figure: the load generator's and the /proc-derived ones."""
    keep = {
        key: result.get(key)
        for key in (
            "rate",
            "p50_ms",
            "p99_ms",
            "mean_ms",
            "ok",
            "units",
            "errors",
            "error_kinds",
            "error_samples",
            "statuses",
            "distinct_sessions",
            "connections_opened",
            "sample_mismatch",
            "loop",
        )
        if key in result
    }
    keep.update(per_unit_figures(result, snapshots))
    return keep


# ----------------------------------------------------------------------------------------------
# Probes: which of the project's routes exist yet
# ----------------------------------------------------------------------------------------------
def websocket_handshake_status(port, path, origin, cookie=None, timeout=5.0):
    """The HTTP status a WebSocket opening handshake gets (101 when the route accepts)."""
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        f"Sec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n"
        + (f"Cookie: {cookie}\r\n" if cookie else "")
        + "\r\n"
    )
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(request.encode())
            data = b""
            while b"\r\n" not in data:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
    except OSError:
        return None
    parts = data.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


def route_exists(port, path):
    status, _ = http_get(port, path)
    return status is not None and status != 404, status


# ----------------------------------------------------------------------------------------------
# The figures
# ----------------------------------------------------------------------------------------------
class Context:
    """What the figures share in one run: options, sizes, logged-in sessions, the log."""

    def __init__(self, options, sizes, log):
        self.options = options
        self.sizes = sizes
        self.log = log
        self.sessions = None  # {"cookie_name", "session_keys"} once made
        self.sessions_error = None
        self.server_commands = {}


def _origin(server):
    return f"http://127.0.0.1:{server.port}"


def _http_spec(server, target, paths, requests, concurrency, cookies=None):
    """A load of GETs of ``paths`` in turn; the login figure adds a POST body and CSRF."""
    return {
        "scenario": "http",
        "host": "127.0.0.1",
        "port": server.port,
        "paths": paths,
        "requests": requests,
        "concurrency": concurrency,
        "session_cookie": target.session_cookie,
        "cookies": cookies,
        "loop": "uvloop",
    }


def figure_session(ctx, target, server):
    """Figure 1: session round trip, c=32 and c=1; each client keeps its cookie."""
    sizes = ctx.sizes
    results = {}
    for key, requests, concurrency in (
        ("session_c32", sizes["session_requests"], 32),
        ("session_c1", sizes["session_requests_c1"], 1),
    ):
        server.wait_quiet()
        spec = _http_spec(server, target, target.session_paths, requests, concurrency)
        results[key] = summarise(*drive(spec, server))
    if target.session_pair_paths:
        # Like for like with the peer's "/" and "/whoami": the peer's own figure above is that.
        server.wait_quiet()
        spec = _http_spec(server, target, target.session_pair_paths, sizes["session_requests"], 32)
        summary = summarise(*drive(spec, server))
        summary["paths"] = target.session_pair_paths
        results["session_pair_c32"] = summary
    if target.kind == "project":
        results.update(_logged_in_session(ctx, target, server))
    return results


def figure_login(ctx, target, server):
    """Figure 6: the login form at c=32, each client with its cookies: its page (GET), and a
    POST that fails validation and re-renders the form with its errors.

    Before the measured phase each client GETs the page once, and for the project takes the CSRF
    cookie and the form's token from it (the peer's form has no CSRF protection).
    """
    if target.login_path is None:
        return {"login_get_c32": {"na": "n/a (no login form)"}}
    exists, status = route_exists(server.port, target.login_path)
    if not exists:
        reason = f"n/a (no login form yet: {target.login_path} answers {status})"
        return {"login_get_c32": {"na": reason}, "login_post_c32": {"na": reason}}
    requests = ctx.sizes["login_requests"]
    results = {}
    server.wait_quiet()
    spec = _http_spec(server, target, [target.login_path], requests, 32)
    spec["session_cookie"] = None
    results["login_get_c32"] = summarise(*drive(spec, server))
    server.wait_quiet()
    spec = _http_spec(server, target, [target.login_path], requests, 32)
    spec.update(
        {
            "session_cookie": None,
            "method": "POST",
            "body": target.login_invalid_body,
            "content_type": "application/x-www-form-urlencoded",
            "csrf": (
                {"page": target.login_path, "field": "csrfmiddlewaretoken"}
                if target.login_csrf
                else None
            ),
            "expect_body": target.login_error_marker,
        }
    )
    results["login_post_c32"] = summarise(*drive(spec, server))
    return results


def _logged_in_session(ctx, target, server):
    options = ctx.options
    exists, status = route_exists(server.port, options.project_login_path)
    if not exists:
        reason = f"n/a (accounts not available yet: {options.project_login_path} answers {status})"
        return {"session_login_c32": {"na": reason}, "session_login_c1": {"na": reason}}
    sessions = _sessions(ctx, 32)
    if sessions is None:
        reason = f"n/a (could not make logged-in sessions: {ctx.sessions_error})"
        return {"session_login_c32": {"na": reason}, "session_login_c1": {"na": reason}}
    name = sessions["cookie_name"]
    results = {}
    for key, requests, concurrency in (
        ("session_login_c32", ctx.sizes["session_requests"], 32),
        ("session_login_c1", ctx.sizes["session_requests_c1"], 1),
    ):
        cookies = [{name: value} for value in sessions["session_keys"][:concurrency]]
        server.wait_quiet()
        spec = _http_spec(
            server, target, [options.project_logged_in_page], requests, concurrency, cookies
        )
        summary = summarise(*drive(spec, server))
        summary["page"] = options.project_logged_in_page
        results[key] = summary
    return results


def _sessions(ctx, count):
    from bench.targets import logged_in_sessions

    if ctx.sessions is None and ctx.sessions_error is None:
        wanted = max(count, ctx.sizes["fanout_clients"])
        try:
            ctx.sessions = logged_in_sessions(ctx.options, wanted)
        except (RuntimeError, subprocess.SubprocessError, ValueError) as exc:
            ctx.sessions_error = str(exc).splitlines()[-1] if str(exc) else type(exc).__name__
    if ctx.sessions is None or len(ctx.sessions["session_keys"]) < count:
        return None
    return ctx.sessions


def _echo_available(target, server):
    if target.echo_path is None:
        return "n/a (no echo route)"
    status = websocket_handshake_status(server.port, target.echo_path, _origin(server))
    if status != 101:
        return f"n/a (no WebSocket echo yet: {target.echo_path} answers {status})"
    return None


def figure_echo(ctx, target, server):
    """Figure 2: WebSocket echo, 32 clients x 32 B and 8 clients x 65,535 / 70,000 B."""
    sizes = ctx.sizes
    cases = (
        ("echo_32", 32, sizes["echo_small_clients"], sizes["echo_small_messages"]),
        ("echo_65535", 65535, sizes["echo_large_clients"], sizes["echo_large_messages"]),
        ("echo_70000", 70000, sizes["echo_large_clients"], sizes["echo_large_messages"]),
    )
    missing = _echo_available(target, server)
    if missing:
        return {key: {"na": missing} for key, *_ in cases}
    results = {}
    for key, size, clients, messages in cases:
        server.wait_quiet()
        spec = {
            "scenario": "ws_echo",
            "host": "127.0.0.1",
            "port": server.port,
            "path": target.echo_path,
            "origin": _origin(server),
            "clients": clients,
            "messages": messages,
            "size": size,
        }
        results[key] = summarise(*drive(spec, server))
    return results


def figure_idle(ctx, target, server):
    """Figure 3: many idle WebSockets held, then each echoes once; RSS per connection."""
    missing = _echo_available(target, server)
    if missing:
        return {"idle": {"na": missing}}
    server.wait_quiet()
    spec = {
        "scenario": "ws_idle",
        "host": "127.0.0.1",
        "port": server.port,
        "path": target.echo_path,
        "origin": _origin(server),
        "connections": ctx.sizes["idle_connections"],
        "hold_s": ctx.sizes["idle_hold_s"],
    }
    result, snapshots = drive(spec, server)
    before, held = snapshots["before"], snapshots["held"]
    opened = result["opened"]
    grown = held["server_rss_bytes"] - before["server_rss_bytes"]
    return {
        "idle": {
            "connections": result["units"],
            "opened": opened,
            "held": result["held"],
            "lost": result["lost"],
            "closed_while_idle": result["closed_while_idle"],
            "open_errors": result["open_errors"],
            "open_elapsed_s": result["open_elapsed_s"],
            "rss_before_mib": before["server_rss_bytes"] / 2**20,
            "rss_held_mib": held["server_rss_bytes"] / 2**20,
            "rss_per_connection_kib": grown / opened / 1024 if opened else None,
            "server_fd_limit": server.fd_limit(),
            "loadgen_fd_limit": result.get("loadgen_fd_limit"),
        }
    }


def figure_db(ctx, target, server):
    """Figure 5: new MySQL connections per request and most open at once, on a DB page."""
    server.wait_quiet()
    counters = ConnectionCounters()
    poller = OpenConnectionsPoller(target.db_user)
    try:

        def snapshot():
            return {"db": counters.snapshot(target.db_user)}

        poller.start()
        spec = _http_spec(server, target, [target.db_path], ctx.sizes["db_requests"], 32)
        spec["session_cookie"] = None
        result, snapshots = drive(spec, server, extra_snapshot=snapshot)
    finally:
        poller.stop()
        counters.close()
    summary = summarise(result, snapshots)
    start, end = snapshots["start"]["db"], snapshots["end"]["db"]
    new_connections = end["user_total_connections"] - start["user_total_connections"]
    summary.update(
        {
            "page": target.db_path,
            "db_user": target.db_user,
            "new_connections": new_connections,
            "new_connections_per_request": new_connections / result["units"],
            "max_open_connections": poller.maximum,
            "open_connections_after": end["user_open_connections"],
            "global_new_connections": end["global_connections"] - start["global_connections"],
            "global_max_threads_connected": poller.global_maximum,
            "poller_samples": poller.samples,
        }
    )
    return {"db": summary}


def figure_fanout(ctx, target, server):
    """Figure 4 (project only): one sender, many logged-in receivers in one chat room."""
    options = ctx.options
    # A new room each time: no history from earlier runs, nobody else in it.
    nonce = os.urandom(4).hex()
    path = options.project_chat_path.replace("{room}", f"bench-{nonce}")
    exists, status = route_exists(server.port, options.project_login_path)
    if not exists:
        return {"fanout": {"na": "n/a (accounts not available yet)"}}
    count = ctx.sizes["fanout_clients"]
    sessions = _sessions(ctx, count)
    if sessions is None:
        return {"fanout": {"na": f"n/a (no logged-in sessions: {ctx.sessions_error})"}}
    name = sessions["cookie_name"]
    cookie = f"{name}={sessions['session_keys'][0]}"
    status = websocket_handshake_status(server.port, path, _origin(server), cookie)
    if status != 101:
        return {"fanout": {"na": f"n/a (no chat route yet: {path} answers {status})"}}
    server.wait_quiet()
    spec = {
        "scenario": "fanout",
        "host": "127.0.0.1",
        "port": server.port,
        "path": path,
        "origin": _origin(server),
        "clients": count,
        "cookies": [{name: key} for key in sessions["session_keys"][:count]],
        "rate": ctx.sizes["fanout_rate"],
        "duration_s": ctx.sizes["fanout_duration_s"],
        "payload_template": options.chat_payload,
        "senders": options.chat_senders,
        "nonce": nonce,
    }
    # 200 joins make 200 x 200 presence events; let the server work through them before the
    # measured phase, or the messages queue behind them.
    result, snapshots = drive(
        spec, server, before_reply={"connected": lambda: server.wait_quiet(timeout=60)}
    )
    summary = {
        key: result.get(key)
        for key in (
            "receivers",
            "units",
            "expected_deliveries",
            "delivered",
            "missing",
            "senders",
            "other_messages",
            "error_events",
            "error_samples",
            "closed_during_run",
            "close_codes",
            "send_failures",
            "drain_s",
            "handshakes_refused",
            "open_errors",
            "open_elapsed_s",
            "p50_ms",
            "p99_ms",
            "mean_ms",
        )
    }
    summary["server_cpu_s"], summary["server_cpu_source"] = cpu_between(
        snapshots["start"], snapshots["end"]
    )
    for name, before in snapshots["start"]["services_cpu_s"].items():
        after = snapshots["end"]["services_cpu_s"].get(name)
        if before is not None and after is not None:
            summary[f"{name}_cpu_s"] = after - before
    summary["server_cpu_per_delivery_ms"] = (
        summary["server_cpu_s"] / result["delivered"] * 1000 if result["delivered"] else None
    )
    start, end = snapshots["start"], snapshots["end"]
    summary["steal_percent"] = (
        100
        * (end["machine_steal_s"] - start["machine_steal_s"])
        / ((end["time"] - start["time"]) * (os.cpu_count() or 1))
    )
    return {"fanout": summary}


# Run order on each server start: idle first, on a freshly started and warmed server, so the
# RSS baseline is not memory that earlier figures freed and the allocator kept.
FIGURES = {
    "idle": figure_idle,
    "session": figure_session,
    "login": figure_login,
    "echo": figure_echo,
    "db": figure_db,
    "fanout": figure_fanout,
}


def warm_up(target, server, requests=50):
    """A few unmeasured requests: imports, template and connection caches are done first."""
    paths = list(target.session_paths or [])
    paths += [path for path in target.session_pair_paths or [] if path not in paths]
    if target.login_path:
        paths.append(target.login_path)
    if target.db_path:
        paths.append(target.db_path)
    for index in range(requests):
        if paths:
            http_get(server.port, paths[index % len(paths)])
