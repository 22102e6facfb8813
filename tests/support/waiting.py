"""Waiting on conditions with a deadline (tests never sleep a fixed time)."""

import socket
import time


class WaitTimeout(AssertionError):
    """The condition did not hold before the deadline."""


def wait_until(condition, timeout=10.0, interval=0.02, message="condition"):
    """Poll ``condition()`` until it returns a truthy value; return that value.

    Raises :class:`WaitTimeout` after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"{message} did not hold within {timeout}s")
        time.sleep(interval)


def port_accepts(port, host="127.0.0.1"):
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
