"""The command line of each server the project supports, in one place: the tests, the benchmark
and the conformance run start servers exactly as ``make run`` does."""

import sys

APPLICATION = "project.asgi:application"
SERVERS = ("daphne", "uvicorn", "granian")


def command(server, *, host="127.0.0.1", port=8000, extra_args=(), python=sys.executable):
    """The argv that serves the project with ``server`` (one of :data:`SERVERS`) on host:port.

    ``extra_args`` are the server's own options (daphne's, :mod:`server.uvicorn`'s or
    :mod:`server.granian`'s).
    """
    if server == "daphne":
        # daphne's command line, with the project's WebSocket fixes (server/daphne.py).
        options = ["-b", host, "-p", str(port), *extra_args]
        return [python, "-m", "server.daphne", *options, APPLICATION]
    if server == "uvicorn":
        return [python, "-m", "server.uvicorn", "--host", host, "--port", str(port), *extra_args]
    if server == "granian":
        return [python, "-m", "server.granian", "--host", host, "--port", str(port), *extra_args]
    raise ValueError(f"unknown server {server!r}; the project serves with {', '.join(SERVERS)}")
