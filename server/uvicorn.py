"""Serve the project with uvicorn (uvloop, httptools): the documented alternative to daphne.

``python -m server.uvicorn [--host H] [--port P] [--proxy-headers]``, or
``SERVER=uvicorn make run``. daphne stays the default (server/daphne.py); docs/performance.md says
when to choose which. uvicorn needs none of server/daphne.py's WebSocket fixes: it sends empty
messages and closes oversize ones with 1009 by itself; the size limit is the same setting,
``WEBSOCKET_MAX_MESSAGE_BYTES``.
"""

import os

from server.commands import launcher_arguments


def main(argv=None):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    parser = launcher_arguments(__doc__.splitlines()[0])
    args = parser.parse_args(argv)

    import uvicorn
    from django.conf import settings

    uvicorn.run(
        "project.asgi:application",
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        ws="websockets",
        ws_max_size=settings.WEBSOCKET_MAX_MESSAGE_BYTES,
        lifespan="off",
        proxy_headers=args.proxy_headers,
        forwarded_allow_ips=args.forwarded_allow_ips,
        access_log=settings.ACCESS_LOG if args.access_log is None else args.access_log,
        server_header=False,
        log_level=settings.LOG_LEVEL.lower(),
    )


if __name__ == "__main__":
    main()
