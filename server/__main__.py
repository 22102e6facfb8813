"""``python -m server [daphne|uvicorn|granian|split] [--host H] [--port P] [server options]``:
serve the project with one of the supported servers, by the command line server/commands.py
gives it (``make run`` runs this, with ``SERVER``, ``HOST`` and ``PORT``).

``split`` is nginx on H:P in front of granian's WSGI interface for the pages and daphne for the
WebSockets (server/split.py). Every choice runs under server/supervise.py: the server's
processes start and stop together, and ``Serving on http://H:P/ (Ctrl+C to stop)`` is printed
once they all accept connections.
"""

import argparse
import os
import shutil
from typing import NoReturn

from server.commands import SERVERS, command
from server.supervise import ProcessGroup


def main(argv: list[str] | None = None) -> NoReturn:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0].strip("`"))
    parser.add_argument("server", nargs="?", default="daphne", choices=(*SERVERS, "split"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args, server_options = parser.parse_known_args(argv)
    shown_host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{shown_host}:{args.port}/"
    if args.server != "split":
        argv = command(args.server, host=args.host, port=args.port, extra_args=server_options)
        group = ProcessGroup([[(args.server, argv, (args.host, args.port))]], url)
        raise SystemExit(group.run())

    from server.split import default_workdir, split_env, split_stages

    if server_options:
        parser.error(f"split takes no server options, got {' '.join(server_options)}")
    workdir = default_workdir()
    try:
        stages = split_stages(host=args.host, port=args.port, workdir=workdir)
        group = ProcessGroup(stages, url, env=split_env(os.environ))
        code = group.run()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    raise SystemExit(code)


if __name__ == "__main__":
    main()
