"""Run a group of server processes as one: ``python -m server`` (``make run``) for every server,
and the three processes of ``python -m server split``.

The children are started in a process group of their own, so a terminal's Ctrl+C reaches only
this process, which forwards SIGTERM to each child once (a second signal from a terminal cannot
interrupt a child's graceful shutdown half-way). When any child exits, the others are stopped:
a split whose granian died must not keep nginx answering 502 forever. Every child is reaped.
When every address the group serves on accepts connections, it prints
``Serving on http://HOST:PORT/ (Ctrl+C to stop)``, after the servers' own start-up lines.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from typing import TextIO, TypeAlias

from server.commands import port_accepts

# Signals that stop the group. SIGCHLD says a child exited. All four are blocked and taken with
# sigtimedwait, so none is lost between two checks and no handler runs in the middle of Popen.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
WATCHED = {*STOP_SIGNALS, signal.SIGCHLD}
START_TIMEOUT = 60

Address: TypeAlias = tuple[str, int]
# A process to start: its name (in messages), its argv, and the address it serves on once ready.
Member: TypeAlias = tuple[str, Sequence[str], Address]
Stage: TypeAlias = list[Member]


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    # Each child leads a group of its own (process_group=0): its pid is the group's id.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


def _unblock_signals() -> None:
    # Runs in each child before exec: the child gets the default signal mask back.
    signal.pthread_sigmask(signal.SIG_SETMASK, set())


class ProcessGroup:
    """Child processes started together, stopped together, and reaped.

    ``stages`` is a list of stages, each a list of ``(name, argv, (host, port))``: a stage's
    processes start together, and the next stage starts once every address of this one accepts
    connections (the split's nginx starts after granian and daphne listen, so its port never
    answers 502 at start-up). The group announces ``url`` when the last stage listens.
    """

    def __init__(
        self,
        stages: Sequence[Stage],
        url: str,
        env: Mapping[str, str] | None = None,
        out: TextIO = sys.stderr,
    ) -> None:
        self.stages = stages
        self.url = url
        self.env = env
        self.out = out
        self.processes: list[tuple[str, subprocess.Popen[bytes]]] = []

    def run(self) -> int:
        """Start, announce, wait for a stop signal or a child's exit, stop all; the exit code:
        0 after a stop signal, else the code of the child that exited first (1 if it was 0)."""
        signal.pthread_sigmask(signal.SIG_BLOCK, WATCHED)
        try:
            outcome: int | None = None
            for stage in self.stages:
                for name, argv, _address in stage:
                    self.processes.append(
                        (
                            name,
                            # Our own command lines (server/commands.py), no shell.
                            subprocess.Popen(  # noqa: S603
                                argv, env=self.env, process_group=0, preexec_fn=_unblock_signals
                            ),
                        )
                    )
                outcome = self._wait_until_ready([address for _, _, address in stage])
                if outcome is not None:
                    break
            if outcome is None:
                print(f"Serving on {self.url} (Ctrl+C to stop)", file=self.out, flush=True)
                outcome = self._wait_for_the_end()
            return outcome
        finally:
            self.stop()
            signal.pthread_sigmask(signal.SIG_UNBLOCK, WATCHED)

    def _exited(self) -> int | None:
        """The exit status of the first child that has exited, or None."""
        for name, process in self.processes:
            code = process.poll()
            if code is not None:
                print(f"{name} exited with status {code}; stopping the others", file=self.out)
                return code or 1
        return None

    def _wait_until_ready(self, addresses: Sequence[Address]) -> int | None:
        deadline = time.monotonic() + START_TIMEOUT
        pending = list(addresses)
        while pending:
            code = self._exited()
            if code is not None:
                return code
            pending = [address for address in pending if not port_accepts(address[1], address[0])]
            if not pending:
                return None
            if time.monotonic() > deadline:
                print(f"not listening after {START_TIMEOUT} s: {pending}", file=self.out)
                return 1
            received = signal.sigtimedwait(WATCHED, 0.1)
            if received is not None and received.si_signo in STOP_SIGNALS:
                return 0
        return None

    def _wait_for_the_end(self) -> int:
        while True:
            code = self._exited()
            if code is not None:
                return code
            received = signal.sigwaitinfo(WATCHED)
            if received.si_signo in STOP_SIGNALS:
                return 0

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM to each child's process group, SIGKILL to the groups of the children left
        after ``timeout``; reap. A group, not a pid: the processes a child forked (nginx's and
        granian's workers) are in it, and outlive a child that died abruptly (a SIGKILLed nginx
        master leaves its worker serving)."""
        for _name, process in self.processes:
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for _name, process in self.processes:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()
