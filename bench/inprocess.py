"""CPU per request of the project's pages without a server: Django's WSGI handler called directly.

    python -m bench.inprocess [--requests 500] [--profile] [--top 25]

What a page costs in Django itself (rendering, session, middleware), apart from what a server
adds; the measure to develop against on a loaded machine (a server's figures need a quiet one).
It runs on the settings of the environment (``DATABASE_URL``, ``REDIS_URL``; the embedded
defaults without them), with ``DEBUG`` off unless set. Two figures, as ``make bench``'s 1a and 6:

* ``login``: ``GET /accounts/login/`` of a client with a session and CSRF cookies;
* ``home+echo``: ``GET /`` then ``GET /echo/`` of a client with a session.

``--profile`` prints the functions that took the most CPU (cProfile, cumulative).
"""

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from http.cookies import SimpleCookie


def _environ(path, cookies):
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_ACCEPT_LANGUAGE": "en",
        "HTTP_COOKIE": "; ".join(f"{name}={value}" for name, value in cookies.items()),
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }


class Client:
    """A browser's cookies across WSGI calls."""

    def __init__(self, application):
        self.application = application
        self.cookies = {}

    def get(self, path):
        status_holder = {}

        def start_response(status, headers, exc_info=None):
            status_holder["status"] = int(status.split()[0])
            for name, value in headers:
                if name.lower() == "set-cookie":
                    for morsel in SimpleCookie(value).values():
                        self.cookies[morsel.key] = morsel.value

        body = b"".join(self.application(_environ(path, self.cookies), start_response))
        if status_holder["status"] != 200:
            raise SystemExit(f"GET {path} answered {status_holder['status']}: {body[:300]!r}")
        return body


def measure(label, requests, run_once, profile):
    for _ in range(20):  # warm the caches (templates, URL resolver, translations, connections)
        run_once()
    profiler = cProfile.Profile() if profile else None
    started = time.process_time()
    if profiler:
        profiler.enable()
    for _ in range(requests):
        run_once()
    if profiler:
        profiler.disable()
    spent = time.process_time() - started
    print(f"{label:<10} {spent / requests * 1000:7.3f} ms CPU per round ({requests} rounds)")
    return profiler


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--profile", action="store_true", help="cProfile each figure")
    parser.add_argument("--top", type=int, default=25, help="functions shown with --profile")
    parser.add_argument("--only", default="login,home+echo")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    os.environ.setdefault("DEBUG", "0")
    if os.environ["DEBUG"] in ("0", ""):
        os.environ.setdefault("SECRET_KEY", "bench-inprocess-" + "k" * 40)
        os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
        os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
        os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
        os.environ.setdefault("CSRF_COOKIE_SECURE", "0")
    os.environ.setdefault("ACCESS_LOG", "0")
    from project.wsgi import application

    login_client = Client(application)
    login_client.get("/")
    page_client = Client(application)
    page_client.get("/")
    figures = {
        "login": lambda: login_client.get("/accounts/login/"),
        "home+echo": lambda: (page_client.get("/"), page_client.get("/echo/")),
    }
    for name in args.only.split(","):
        profiler = measure(name, args.requests, figures[name], args.profile)
        if profiler:
            stream = io.StringIO()
            pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(args.top)
            print(stream.getvalue())


if __name__ == "__main__":
    main()
