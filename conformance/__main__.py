"""``python -m conformance``: the Autobahn|Testsuite against the project's servers.

Installs wstest into ``.venv-conformance/`` when it is not there (conformance/wstest.py), then
for each server: starts it with the project's launcher on a free loopback port, runs every case
(or ``--cases``) against both echo endpoints, writes the report to
``test-artifacts/conformance/<server>/`` and stops the server. Exits 1 when a case FAILED.
"""

import argparse
import sys

from conformance import runner, wstest
from conformance.launchers import LAUNCHERS
from conformance.summary import write_markdown


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m conformance", description=__doc__)
    parser.add_argument(
        "--server",
        action="append",
        choices=sorted(LAUNCHERS),
        help="server to test (repeatable; default: all of them)",
    )
    parser.add_argument(
        "--cases",
        nargs="+",
        default=list(runner.ALL_CASES),
        help="wstest case patterns (default: groups 1-7, 9, 10, 12, 13: every case)",
    )
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="ENDPOINT:PATTERN",
        help="do not run the cases of PATTERN on ENDPOINT, e.g. /ws:13.* (repeatable)",
    )
    parser.add_argument(
        "--timeout", type=float, default=runner.DEFAULT_TIMEOUT, help="seconds per server"
    )
    parser.add_argument(
        "--summary", metavar="FILE", help="also write a markdown summary of the results to FILE"
    )
    parser.add_argument(
        "--install-only", action="store_true", help="install wstest if needed, then stop"
    )
    parser.add_argument(
        "--from-reports",
        action="store_true",
        help="run nothing: read the reports the last runs left in test-artifacts/conformance/",
    )
    args = parser.parse_args(argv)
    servers = args.server or list(LAUNCHERS)

    if args.from_reports:
        runs = [runner.load_run(server) for server in servers]
        for run in runs:
            print("\n".join(runner.format_run(run)))
        return finish(runs, args.summary)

    try:
        wstest.ensure_installed()
    except wstest.InstallError as exc:
        print(f"conformance: {exc}", file=sys.stderr)
        return 2
    if args.install_only:
        return 0

    exclude = {}
    for item in args.exclude:
        endpoint, _, pattern = item.rpartition(":")
        if endpoint not in runner.ENDPOINTS or not pattern:
            parser.error(f"--exclude {item}: ENDPOINT:PATTERN, ENDPOINT one of {runner.ENDPOINTS}")
        exclude.setdefault(endpoint, []).append(pattern)

    runs = []
    for server in servers:
        run = runner.run_server(
            server, cases=tuple(args.cases), timeout=args.timeout, exclude=exclude
        )
        print("\n".join(runner.format_run(run)), flush=True)
        runs.append(run)
    return finish(runs, args.summary)


def finish(runs, summary_path):
    """Write the summary if asked; the exit status: 1 when a case FAILED."""
    if summary_path:
        write_markdown(runs, summary_path)
        print(f">> summary written to {summary_path}")
    failed = sum(len(cases) for run in runs for cases in run.failed().values())
    if failed:
        print(f"conformance: {failed} case(s) FAILED", file=sys.stderr)
        return 1
    print("conformance: no case FAILED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
