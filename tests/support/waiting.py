"""Waiting on conditions with a deadline (tests never sleep a fixed time)."""

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
