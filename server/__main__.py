"""``python -m server [daphne|uvicorn|granian] [--host H] [--port P] [server options]``: serve the
project with one of the supported servers, by the command line server/commands.py gives it
(``make run`` runs this, with ``SERVER``, ``HOST`` and ``PORT``)."""

import argparse
import os

from server.commands import SERVERS, command


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0].strip("`"))
    parser.add_argument("server", nargs="?", default="daphne", choices=SERVERS)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args, server_options = parser.parse_known_args(argv)
    argv = command(args.server, host=args.host, port=args.port, extra_args=server_options)
    # The server replaces this process: signals (systemd's, a terminal's) reach it directly.
    os.execv(argv[0], argv)  # noqa: S606 - our own launcher, no shell


if __name__ == "__main__":
    main()
