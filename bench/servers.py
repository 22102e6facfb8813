"""The servers under test: started on free loopback ports, read through /proc, stopped by pid."""

import contextlib
import http.client
import os
import signal
import subprocess
import time
from pathlib import Path

from server.commands import port_accepts, stop_process

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class ServerStartError(RuntimeError):
    """A server did not come up; the message says which and shows the end of its log."""


def http_get(port, path, timeout=10.0, headers=None):
    """(status, body) of one GET on 127.0.0.1, or (None, error text)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Host": f"127.0.0.1:{port}", **(headers or {})})
        response = connection.getresponse()
        return response.status, response.read()
    except OSError as exc:
        return None, f"{type(exc).__name__}: {exc}".encode()
    finally:
        connection.close()


def process_tree(pid):
    """``pid`` and its descendants, parents first (/proc/PID/task/TID/children).

    granian serves from a worker process that its supervisor forks: the server under test is
    the whole tree, whose CPU time and memory are summed.
    """
    pids = [pid]
    for parent in pids:  # grows while it is walked
        try:
            tids = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{parent}/task/{tid}/children") as children:
                    pids.extend(int(child) for child in children.read().split())
            except OSError:
                continue
    return pids


def _start_time(pid):
    """When the process started (clock ticks after boot), or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def _summed(function, pids):
    total = 0
    for pid in pids:
        try:
            total += function(pid)
        except OSError:
            continue  # a process of the tree ended while we looked
    return total


def cpu_seconds(pid):
    """User + system CPU time of a process (all its threads, live and ended), in seconds."""
    with open(f"/proc/{pid}/stat") as stat:
        # The command name may contain spaces and parentheses: fields start after the last ')'.
        fields = stat.read().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / CLOCK_TICKS


def thread_run_times(pid):
    """``{tid: nanoseconds on the CPU}`` of the process's live threads (/proc/PID/task/*/schedstat).

    Nanosecond resolution, where /proc/PID/stat counts 10 ms ticks; but an ended thread's time
    is gone from here, so it is used only when the same threads live at both ends of a figure.
    """
    times = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as schedstat:
                times[int(tid)] = int(schedstat.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # the thread ended while we looked
    return times


def cpu_between(start, end):
    """Server CPU seconds between two snapshots, and where the number comes from.

    The schedstat sum (ns) when no thread came or went, else the /proc/PID/stat ticks.
    """
    threads_before, threads_after = start.get("server_threads"), end.get("server_threads")
    if threads_before and threads_after and threads_before.keys() == threads_after.keys():
        nanoseconds = sum(threads_after.values()) - sum(threads_before.values())
        return nanoseconds / 1e9, "schedstat"
    return end["server_cpu_s"] - start["server_cpu_s"], "stat ticks"


def service_pids(names=("redis-server", "mariadbd")):
    """``{name: pid}`` of the backing services, found by their command name in /proc."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm") as comm:
                name = comm.read().strip()
        except OSError:
            continue
        if name in names and name not in found:
            found[name] = int(entry)
    return found


def rss_bytes(pid):
    """Resident set size from /proc/PID/status (VmRSS)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def fd_limit(pid):
    """The process's soft limit on open files, from /proc/PID/limits."""
    with open(f"/proc/{pid}/limits") as limits:
        for line in limits:
            if line.startswith("Max open files"):
                return int(line.split()[3])
    return None


class ServerProcess:
    """One server process under test.

    ``argv`` is started directly (no shell), so ``pid`` is the server itself and /proc reads are
    about it alone. The harness raised its own descriptor limit first; the server inherits it.
    The process gets its own session so a Ctrl-C reaches the harness only, which then stops the
    server by pid.
    """

    def __init__(self, name, argv, port, cwd, env, log_dir, ready_path=None, ready_status=200):
        self.name = name
        self.argv = list(argv)
        self.port = port
        self.cwd = Path(cwd)
        self.env = env
        self.ready_path = ready_path
        self.ready_status = ready_status
        self.log_path = Path(log_dir) / f"{name.replace(' ', '_')}-{port}.log"
        self.process = None

    @property
    def pid(self):
        return self.process.pid

    def log_tail(self, lines=25):
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:]) or "(empty log)"

    def start(self, timeout=45.0):
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            try:
                self.process = subprocess.Popen(
                    self.argv,
                    cwd=self.cwd,
                    env=self.env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as exc:
                raise ServerStartError(f"{self.name}: cannot run {self.argv[0]}: {exc}") from exc
        deadline = time.monotonic() + timeout
        while not port_accepts(self.port):
            if self.process.poll() is not None:
                raise ServerStartError(
                    f"{self.name} exited with code {self.process.returncode} at start-up "
                    f"(log {self.log_path}):\n{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise ServerStartError(
                    f"{self.name} did not listen on port {self.port} within {timeout:.0f}s "
                    f"(log {self.log_path}):\n{self.log_tail()}"
                )
            time.sleep(0.05)
        if self.ready_path:
            status, body = http_get(self.port, self.ready_path)
            if status != self.ready_status:
                self.stop()
                raise ServerStartError(
                    f"{self.name} answered GET {self.ready_path} with {status} "
                    f"(expected {self.ready_status}): {body[:300]!r}\n"
                    f"log {self.log_path}:\n{self.log_tail()}"
                )
        return self

    # The server is its process tree (see process_tree): one process for daphne, uvicorn and
    # the peer, a supervisor and its worker for granian.
    def pids(self):
        return process_tree(self.pid)

    def cpu_seconds(self):
        return _summed(cpu_seconds, self.pids())

    def rss_bytes(self):
        return _summed(rss_bytes, self.pids())

    def thread_run_times(self):
        times = {}
        for pid in self.pids():
            try:
                times.update(thread_run_times(pid))
            except OSError:
                continue
        return times

    def fd_limit(self):
        # The process that holds the connections: the last of the tree (granian's worker).
        return fd_limit(self.pids()[-1])

    def wait_quiet(self, idle_cpu=0.02, window=0.3, timeout=8.0):
        """Wait until the server is (nearly) idle, so leftovers of the last figure don't count."""
        deadline = time.monotonic() + timeout
        before = self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(window)
            after = self.cpu_seconds()
            if after - before <= idle_cpu:
                return True
            before = after
        return False

    def stop(self, timeout=10.0):
        """SIGTERM, then SIGKILL; always waits for the pid to be gone."""
        if self.process is None or self.process.poll() is not None:
            return
        children = [(pid, _start_time(pid)) for pid in self.pids()[1:]]
        stop_process(self.process, timeout)
        # A supervisor killed before it stopped its workers leaves them serving.
        for pid, started in children:
            # The same process, not a new one that reused its pid.
            if started is not None and _start_time(pid) == started:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
