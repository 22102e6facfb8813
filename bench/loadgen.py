"""The load generator: a separate process that drives one server over loopback.

Run by the harness as ``python -m bench.loadgen``. It talks to the harness over its standard
streams, one JSON object per line:

* the spec, first line on stdin (not argv: it can hold session keys, which ``ps`` would show).

* ``{"checkpoint": NAME}`` on stdout, then it blocks until the harness answers with a line on
  stdin. The harness reads the server's CPU time, RSS and database counters at each checkpoint,
  so a figure covers exactly the measured phase (connections and handshakes happen before
  ``start``).
* ``{"result": {...}}`` on stdout at the end.

Scenarios: ``http`` (session round trip, database page), ``ws_echo``, ``ws_idle``, ``fanout``.
"""

import asyncio
import json
import math
import re
import resource
import sys
import time

from bench.protocols import HttpClient, ProtocolError, open_websocket
from rfc6455.frames import Opcode


def percentile(sorted_values, fraction):
    """Nearest-rank percentile of an ascending list (None when empty)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def latency_summary(latencies_s):
    """p50, p99 and mean, in milliseconds."""
    values = sorted(latencies_s)
    return {
        "p50_ms": None if not values else percentile(values, 0.50) * 1000,
        "p99_ms": None if not values else percentile(values, 0.99) * 1000,
        "mean_ms": None if not values else sum(values) / len(values) * 1000,
    }


def raise_fd_limit():
    """Thousands of sockets need more descriptors than the usual 1,024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else max(soft, min(65536, hard))
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, max(wanted, hard)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Harness:
    """The stdin/stdout conversation with the harness process."""

    def __init__(self):
        self.checkpoints = {}

    async def checkpoint(self, name):
        """Tell the harness, wait for its go-ahead, and remember when it was given."""
        print(json.dumps({"checkpoint": name}), flush=True)
        line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        if not line:
            raise SystemExit("the harness went away")
        self.checkpoints[name] = time.perf_counter()


def _error_name(exc):
    return type(exc).__name__ + (f": {exc}" if str(exc) else "")


def _count(counter, key):
    counter[key] = counter.get(key, 0) + 1


# ----------------------------------------------------------------------------------------------
# HTTP: each client keeps one connection and its cookies; clients share a request budget
# ----------------------------------------------------------------------------------------------
async def run_http(spec, harness):
    host, port = spec["host"], spec["port"]
    paths = spec["paths"]
    total = spec["requests"]
    concurrency = spec["concurrency"]
    expected = set(spec.get("expect_status", [200]))
    session_cookie = spec.get("session_cookie")
    client_cookies = spec.get("cookies") or [None] * concurrency
    method = spec.get("method", "GET")
    body = (spec.get("body") or "").encode()
    headers = [("Content-Type", spec["content_type"])] if spec.get("content_type") else []
    expect_body = (spec.get("expect_body") or "").encode()
    clients = [HttpClient(host, port, cookies=client_cookies[i]) for i in range(concurrency)]
    await asyncio.gather(*(client.connect() for client in clients))
    bodies = [body] * concurrency
    if spec.get("csrf"):
        try:
            tokens = await asyncio.gather(
                *(_csrf_token(client, spec["csrf"]) for client in clients)
            )
        except (TimeoutError, OSError, ConnectionError, ValueError, ProtocolError) as exc:
            for client in clients:
                client.close()
            return {"failed": f"could not fetch the CSRF token: {_error_name(exc)[:300]}"}
        # The token first, as a browser sends the form's hidden input.
        field = spec["csrf"]["field"]
        bodies = [f"{field}={token}&".encode() + body for token in tokens]

    latencies = []
    errors = {}
    statuses = {}
    sessions_seen = set()
    error_samples = []
    issued = 0

    async def worker(client, client_body):
        nonlocal issued
        step = 0
        while issued < total:
            issued += 1
            path = paths[step % len(paths)]
            step += 1
            started = time.perf_counter()
            try:
                response = await client.request(method, path, client_body, headers)
            except (TimeoutError, OSError, ConnectionError, ValueError) as exc:
                _count(errors, _error_name(exc)[:120])
                client.close()
                continue
            latencies.append(time.perf_counter() - started)
            _count(statuses, str(response.status))
            if response.status not in expected:
                _count(errors, f"HTTP {response.status}")
                if len(error_samples) < 3:
                    error_samples.append(f"{path}: {response.body[:300].decode(errors='replace')}")
            elif expect_body and expect_body not in response.body:
                # Counted as an error, not a success: the page did not do the work measured.
                _count(errors, f"HTTP {response.status} without {expect_body.decode()!r}")
                _count(statuses, "unexpected body")
                if len(error_samples) < 3:
                    error_samples.append(f"{path}: {response.body[:300].decode(errors='replace')}")
            if session_cookie and session_cookie in client.cookies:
                sessions_seen.add(client.cookies[session_cookie])

    await harness.checkpoint("start")
    started = time.perf_counter()
    await asyncio.gather(*(worker(client, bodies[i]) for i, client in enumerate(clients)))
    elapsed = time.perf_counter() - started
    await harness.checkpoint("end")
    for client in clients:
        client.close()
    ok = sum(
        count for status, count in statuses.items() if status.isdigit() and int(status) in expected
    )
    return {
        "units": total,
        "ok": ok,
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "error_samples": error_samples,
        "statuses": statuses,
        "elapsed_s": elapsed,
        "rate": ok / elapsed if elapsed else None,
        "distinct_sessions": len(sessions_seen) if session_cookie else None,
        "connections_opened": sum(client.connections_opened for client in clients),
        **latency_summary(latencies),
    }


CSRF_INPUT = re.compile(rb'name="(?P<field>[^"]+)" value="(?P<token>[^"]+)"')


async def _csrf_token(client, csrf):
    """GET the form's page (the client stores the CSRF cookie) and return the form's token."""
    response = await client.request("GET", csrf["page"])
    if response.status != 200:
        raise ValueError(f"GET {csrf['page']} answered {response.status}")
    for match in CSRF_INPUT.finditer(response.body):
        if match.group("field").decode() == csrf["field"]:
            return match.group("token").decode()
    raise ValueError(f"no {csrf['field']} input in {csrf['page']}")


# ----------------------------------------------------------------------------------------------
# WebSocket echo: every client sends one message and waits for it back, again and again
# ----------------------------------------------------------------------------------------------
def _payload(size, seed):
    """ASCII text of exactly ``size`` bytes, different per client."""
    pattern = f"{seed:06d}-abcdefghijklmnopqrstuvwxyz0123456789-".encode()
    return (pattern * (size // len(pattern) + 1))[:size]


async def _open_many(spec, count, cookies=None, parallel=64):
    """Open ``count`` WebSockets, ``parallel`` handshakes at a time; (connections, errors)."""
    semaphore = asyncio.Semaphore(parallel)
    errors = {}

    async def one(index):
        async with semaphore:
            try:
                return await open_websocket(
                    spec["host"],
                    spec["port"],
                    spec["path"],
                    origin=spec.get("origin"),
                    cookies=cookies[index] if cookies else None,
                    timeout=spec.get("connect_timeout", 15.0),
                )
            except (TimeoutError, OSError, ConnectionError, ValueError, ProtocolError) as exc:
                _count(errors, _error_name(exc)[:120])
                return None

    connections = await asyncio.gather(*(one(i) for i in range(count)))
    return connections, errors


async def run_ws_echo(spec, harness):
    clients = spec["clients"]
    messages = spec["messages"]
    size = spec["size"]
    timeout = spec.get("message_timeout", 30.0)
    connections, open_errors = await _open_many(spec, clients)
    if open_errors:
        for connection in connections:
            if connection is not None:
                connection.abort()
        return {"failed": f"could not open every WebSocket: {open_errors}"}

    latencies = []
    errors = {}
    sample_mismatch = None

    async def echo_once(connection, payload):
        nonlocal sample_mismatch
        started = time.perf_counter()
        connection.send(payload)
        opcode, reply = await asyncio.wait_for(connection.recv(), timeout)
        elapsed = time.perf_counter() - started
        if opcode != Opcode.TEXT or reply != payload:
            _count(errors, "reply differs from the message sent")
            if sample_mismatch is None:
                sample_mismatch = repr(reply[:120])
            return None
        return elapsed

    async def client(connection, index, count, record):
        payload = _payload(size, index)
        for _ in range(count):
            try:
                elapsed = await echo_once(connection, payload)
            except (TimeoutError, OSError, ConnectionError) as exc:
                _count(errors, _error_name(exc)[:120])
                return
            if elapsed is not None and record:
                latencies.append(elapsed)

    # One unmeasured echo per client: the route works and every connection is warm.
    await asyncio.gather(*(client(c, i, 1, False) for i, c in enumerate(connections)))
    if errors:
        for connection in connections:
            connection.abort()
        return {"failed": f"warm-up echo failed: {errors} {sample_mismatch or ''}".strip()}

    await harness.checkpoint("start")
    started = time.perf_counter()
    await asyncio.gather(*(client(c, i, messages, True) for i, c in enumerate(connections)))
    elapsed = time.perf_counter() - started
    await harness.checkpoint("end")
    for connection in connections:
        connection.close()
    return {
        "units": clients * messages,
        "ok": len(latencies),
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "sample_mismatch": sample_mismatch,
        "elapsed_s": elapsed,
        "rate": len(latencies) / elapsed if elapsed else None,
        **latency_summary(latencies),
    }


# ----------------------------------------------------------------------------------------------
# Idle connections: open many, hold them, then check each still echoes
# ----------------------------------------------------------------------------------------------
async def run_ws_idle(spec, harness):
    count = spec["connections"]
    hold = spec["hold_s"]
    await harness.checkpoint("before")
    opened_at = time.perf_counter()
    connections, open_errors = await _open_many(spec, count, parallel=spec.get("parallel", 64))
    open_elapsed = time.perf_counter() - opened_at
    live = [connection for connection in connections if connection is not None]
    await asyncio.sleep(hold)
    closed_while_idle = sum(1 for connection in live if connection.closed)
    await harness.checkpoint("held")

    payload = b"still-there?"

    async def check(connection):
        try:
            connection.send(payload)
            opcode, reply = await asyncio.wait_for(connection.recv(), spec.get("echo_timeout", 20))
            return opcode == Opcode.TEXT and reply == payload
        except (TimeoutError, OSError, ConnectionError):
            return False

    results = await asyncio.gather(*(check(connection) for connection in live))
    held = sum(results)
    for connection in live:
        connection.close()
    await asyncio.sleep(0.5)
    return {
        "units": count,
        "opened": len(live),
        "open_errors": open_errors,
        "open_elapsed_s": open_elapsed,
        "closed_while_idle": closed_while_idle,
        "held": held,
        "lost": count - held,
        "errors": count - held,
    }


# ----------------------------------------------------------------------------------------------
# Chat fan-out: one sender, every client in the room receives; latency measured per delivery
# ----------------------------------------------------------------------------------------------
MARKER = re.compile(rb"bench-fanout-([0-9a-f]+)-(\d+)-end")


async def run_fanout(spec, harness):
    count = spec["clients"]
    rate = spec["rate"]
    duration = spec["duration_s"]
    template = spec["payload_template"]
    cookies = spec.get("cookies")
    # The room's stream comes from one sending loop, spread over several users in turn so
    # that no user exceeds a per-user message rate limit.
    senders = max(1, min(spec.get("senders", 1), count))
    nonce = spec["nonce"].encode()
    opening = time.perf_counter()
    connections, open_errors = await _open_many(
        spec, count, cookies=cookies, parallel=spec.get("parallel", 16)
    )
    open_elapsed = time.perf_counter() - opening
    # A refused handshake is a result (reported), not a reason to drop the figure.
    connections = [connection for connection in connections if connection is not None]
    refused = count - len(connections)
    count = len(connections)
    if count < 2:
        return {"failed": f"fewer than two WebSockets opened: {open_errors}"}
    senders = min(senders, count)

    sent_at = {}
    latencies = []
    received = [set() for _ in range(count)]
    other_messages = 0
    error_events = 0
    samples = []

    def receiver(index):
        def on_message(message):
            nonlocal other_messages, error_events
            found = False
            for match in MARKER.finditer(message[1]):
                if match.group(1) != nonce:
                    continue
                sequence = int(match.group(2))
                if sequence in sent_at and sequence not in received[index]:
                    received[index].add(sequence)
                    latencies.append(time.perf_counter() - sent_at[sequence])
                found = True
            if not found:
                # History and presence events are expected; error events are counted apart.
                other_messages += 1
                if b'"error"' in message[1]:
                    error_events += 1
                    if len(samples) < 3:
                        samples.append(message[1][:200].decode(errors="replace"))

        return on_message

    # Let every consumer join its group and the server finish the presence broadcasts of the
    # joins (the harness waits for its CPU to settle) before the first message.
    await asyncio.sleep(spec.get("settle_s", 1.0))
    await harness.checkpoint("connected")
    for index, connection in enumerate(connections):
        connection.messages.clear()
        connection.on_message = receiver(index)

    total = int(rate * duration)
    send_failures = 0
    await harness.checkpoint("start")
    started = time.perf_counter()
    for sequence in range(total):
        delay = started + sequence / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        marker = f"bench-fanout-{spec['nonce']}-{sequence}-end"
        sender = connections[sequence % senders]
        if sender.closed:
            send_failures += 1
            continue
        sent_at[sequence] = time.perf_counter()
        sender.send(template.replace("{marker}", marker).encode())
    # A saturated server delivers late rather than never: wait while deliveries still arrive
    # (until none came for grace_s, at most max_drain_s), so "missing" means missing.
    expected = len(sent_at) * count
    sending_ended = time.perf_counter()
    last_count, last_progress = -1, time.perf_counter()
    while True:
        delivered = sum(len(seen) for seen in received)
        now = time.perf_counter()
        if delivered != last_count:
            last_count, last_progress = delivered, now
        if delivered >= expected or now - last_progress >= spec.get("grace_s", 2.0):
            break
        if now - sending_ended >= spec.get("max_drain_s", 60.0):
            break
        await asyncio.sleep(0.05)
    drain_s = time.perf_counter() - sending_ended
    await harness.checkpoint("end")
    closed = sum(1 for connection in connections if connection.closed)
    close_codes = {}
    for connection in connections:
        if connection.closed:
            _count(close_codes, str(connection.close_code))
    for connection in connections:
        connection.close()
    expected = total * count
    delivered = sum(len(seen) for seen in received)
    return {
        "drain_s": drain_s,
        "handshakes_refused": refused,
        "open_errors": open_errors,
        "open_elapsed_s": open_elapsed,
        "units": total,
        "receivers": count,
        "senders": senders,
        "expected_deliveries": expected,
        "delivered": delivered,
        "missing": expected - delivered,
        "other_messages": other_messages,
        "error_events": error_events,
        "error_samples": samples,
        "closed_during_run": closed,
        "close_codes": close_codes,
        "send_failures": send_failures,
        "errors": expected - delivered,
        **latency_summary(latencies),
    }


SCENARIOS = {"http": run_http, "ws_echo": run_ws_echo, "ws_idle": run_ws_idle, "fanout": run_fanout}


async def main_async(spec):
    harness = Harness()
    result = await SCENARIOS[spec["scenario"]](spec, harness)
    result["loadgen_fd_limit"] = spec.get("_fd_limit")
    return result


def main():
    spec = json.loads(sys.stdin.readline())
    spec["_fd_limit"] = raise_fd_limit()
    if spec.get("loop", "uvloop") == "uvloop":
        try:
            import uvloop
        except ImportError:
            runner = asyncio.run
        else:
            runner = uvloop.run
    else:
        runner = asyncio.run
    result = runner(main_async(spec))
    result["loop"] = "uvloop" if runner is not asyncio.run else "asyncio"
    print(json.dumps({"result": result}), flush=True)


if __name__ == "__main__":
    main()
