#!/usr/bin/env python3
"""Render the nginx site of the chat project from deploy/nginx/chat.conf.template.

    python3 deploy/render_nginx.py --server-name chat.example.com \\
        --backend 127.0.0.1:8001 --backend 127.0.0.1:8002 \\
        --static-root /srv/chat/static \\
        --tls-certificate /etc/letsencrypt/live/chat.example.com/fullchain.pem \\
        --tls-certificate-key /etc/letsencrypt/live/chat.example.com/privkey.pem \\
        > /etc/nginx/sites-available/chat

Standard library only: it runs with the system's python3 before the project's virtualenv exists.
The deployment test (tests/deploy) runs this same script on the same template, so what the docs
show is what is tested. Every value is checked before it lands in the configuration: nginx reads
``;``, ``{``, ``}``, quotes and white space as syntax, and a value carrying them could add
directives.
"""

import argparse
import re
import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "nginx" / "chat.conf.template"
# --pages-backend: the pages on granian's WSGI interface, the WebSockets on daphne (the split).
SPLIT_TEMPLATE = Path(__file__).resolve().parent / "nginx" / "chat-split.conf.template"
PLACEHOLDER = re.compile(r"\{\{([A-Z_]+)\}\}")
# Characters nginx would read as syntax or variables rather than as part of a plain value.
UNSAFE = re.compile(r"[\s;{}'\"$#\\]")
LISTEN = re.compile(r"^(?:\d{1,5}|[0-9.]+:\d{1,5}|\[[0-9a-fA-F:]+\]:\d{1,5})$")
BACKEND = re.compile(r"^(?:[0-9.]+|\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$")

# A failed process is skipped for fail_timeout after max_fails failures, then tried again.
UPSTREAM_SERVER = "    server {address} max_fails=1 fail_timeout=10s;"


class TemplateError(ValueError):
    """A value nginx could misread, or a template placeholder left without a value."""


def render(template, values):
    """``template`` with every ``{{NAME}}`` replaced by ``values[NAME]``.

    Raises :class:`TemplateError` when a placeholder has no value or a value has no placeholder.
    """
    wanted = set(PLACEHOLDER.findall(template))
    missing = wanted - values.keys()
    unused = values.keys() - wanted
    if missing or unused:
        raise TemplateError(
            f"template placeholders without a value: {sorted(missing)}; "
            f"values without a placeholder: {sorted(unused)}"
        )
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


def plain(name, value):
    if not value or UNSAFE.search(value):
        raise TemplateError(
            f"{name} {value!r} must be non-empty, without white space, quotes, ; {{ }} $ # or \\"
        )
    return value


def absolute_path(name, value):
    plain(name, value)
    if not value.startswith("/"):
        raise TemplateError(f"{name} must be an absolute path, got {value!r}")
    return value


def listen_address(name, value):
    if not LISTEN.match(value):
        raise TemplateError(f"{name} must be PORT, IPV4:PORT or [IPV6]:PORT, got {value!r}")
    return value


def backend_address(value):
    """``PORT`` alone means 127.0.0.1:PORT, where the systemd unit binds daphne."""
    if value.isdigit():
        value = f"127.0.0.1:{value}"
    if not BACKEND.match(value):
        raise TemplateError(f"--backend must be HOST:PORT or PORT, got {value!r}")
    return value


def site_values(
    *,
    server_name,
    backends,
    static_root,
    tls_certificate,
    tls_certificate_key,
    http_listen="80",
    https_listen="443",
    pages_backends=(),
):
    """The template's values, each checked; ``backends`` are ``HOST:PORT`` or ``PORT``.
    With ``pages_backends`` (granian's WSGI processes: the split template) ``backends`` are
    the daphne processes of the WebSockets only."""
    if not backends:
        raise TemplateError("at least one --backend is needed")
    addresses = [backend_address(backend) for backend in backends]
    if len(set(addresses)) != len(addresses):
        raise TemplateError(f"a backend is listed twice: {addresses}")
    values = {}
    if pages_backends:
        pages = [backend_address(backend) for backend in pages_backends]
        if len(set(pages)) != len(pages) or set(pages) & set(addresses):
            raise TemplateError(f"a backend is listed twice: {pages} {addresses}")
        values["PAGES_UPSTREAM_SERVERS"] = "\n".join(
            UPSTREAM_SERVER.format(address=a) for a in pages
        )
    return values | {
        "SERVER_NAME": " ".join(plain("--server-name", name) for name in server_name.split()),
        "UPSTREAM_SERVERS": "\n".join(UPSTREAM_SERVER.format(address=a) for a in addresses),
        # alias needs exactly one trailing slash; the template adds it.
        "STATIC_ROOT": absolute_path("--static-root", static_root.rstrip("/") or "/"),
        "TLS_CERTIFICATE": absolute_path("--tls-certificate", tls_certificate),
        "TLS_CERTIFICATE_KEY": absolute_path("--tls-certificate-key", tls_certificate_key),
        "HTTP_LISTEN": listen_address("--http-listen", http_listen),
        "HTTPS_LISTEN": listen_address("--https-listen", https_listen),
    }


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Render the chat project's nginx site (deploy/nginx/chat.conf.template).",
    )
    parser.add_argument(
        "--server-name",
        required=True,
        help="the site's host name(s), space-separated, e.g. chat.example.com",
    )
    parser.add_argument(
        "--backend",
        action="append",
        dest="backends",
        required=True,
        metavar="HOST:PORT",
        help="a daphne process; repeat once per process (a bare PORT means 127.0.0.1:PORT)",
    )
    parser.add_argument(
        "--pages-backend",
        action="append",
        dest="pages_backends",
        default=[],
        metavar="HOST:PORT",
        help="a granian WSGI process serving the pages (deploy/systemd/chat-granian@.service); "
        "with it, the split site: --backend processes serve /ws only",
    )
    parser.add_argument("--static-root", required=True, help="STATIC_ROOT, where collectstatic")
    parser.add_argument("--tls-certificate", required=True, help="certificate chain (PEM)")
    parser.add_argument("--tls-certificate-key", required=True, help="its private key (PEM)")
    parser.add_argument("--http-listen", default="80", help="PORT or ADDRESS:PORT (default 80)")
    parser.add_argument("--https-listen", default="443", help="PORT or ADDRESS:PORT (default 443)")
    parser.add_argument("--template", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument(
        "--output", "-o", type=Path, help="write here instead of to standard output"
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        values = site_values(
            server_name=args.server_name,
            backends=args.backends,
            static_root=args.static_root,
            tls_certificate=args.tls_certificate,
            tls_certificate_key=args.tls_certificate_key,
            http_listen=args.http_listen,
            https_listen=args.https_listen,
            pages_backends=args.pages_backends,
        )
        template = args.template or (SPLIT_TEMPLATE if args.pages_backends else TEMPLATE)
        site = render(template.read_text(), values)
    except TemplateError as error:
        print(f"render_nginx: {error}", file=sys.stderr)
        return 2
    if args.output is None:
        sys.stdout.write(site)
    else:
        args.output.write_text(site)
    return 0


if __name__ == "__main__":
    sys.exit(main())
