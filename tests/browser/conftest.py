"""Fixtures of the browser tests: Debian's chromium driven by Playwright for Python, against a
live production-mode daphne on the test's MariaDB database and Redis.

Playwright's own browser download is never used (no ``playwright install``): ``make test``
installs Debian's ``chromium`` (scripts/ensure-chromium.sh) and the browser is launched from
``/usr/bin/chromium``. Every page a test opens is saved as a screenshot of its final state in
``test-artifacts/`` (git-ignored), failed tests included.
"""

import os
import re
import warnings
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

from tests.support.servers import ARTIFACTS_DIR, live_server_class, production_env

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# Playwright's waits (expect, locators, navigation) give up after this many milliseconds.
TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def allow_django_beside_playwright():
    """Let this process's Django code run while Playwright's sync API is active.

    The sync API keeps an asyncio event loop registered as running in the main thread (it
    switches into it with greenlets), so Django's guard against database access from async code
    would refuse every ORM call of the test, and pytest-django's flush. Nothing here is async:
    the guard is lifted for the browser modules only, and restored after them.
    """
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="module")
def browser(allow_django_beside_playwright):
    """Headless chromium, one per test module (the sync API's event loop lives no longer)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run the suite with `make test`, which installs Debian's "
            "chromium (scripts/ensure-chromium.sh)",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Site:
    """The live server of a browser test; it can be started again on the same port (a restart,
    as a deployment does one), and whichever process runs last is stopped by pid at the end."""

    def __init__(self, env, name="daphne-browser"):
        self.server = self._new(env=env, name=name)

    @staticmethod
    def _new(**kwargs):
        server = live_server_class()(**kwargs)
        # The server keeps Django's async guard (see allow_django_beside_playwright).
        server.env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        return server

    def __getattr__(self, name):
        return getattr(self.server, name)

    def start_again_on_the_same_port(self):
        """A new process on the port of the stopped one."""
        assert self.server.process.poll() is not None, "stop() the running process first"
        self.server = self._new(
            env=self.server.env, port=self.server.port, name=f"{self.server.name}-again"
        )
        self.server.start()


@pytest.fixture
def site(live_server_env, default_hobbies, clean_login_throttle):
    """A production-mode daphne (``DEBUG=0``; plain HTTP, as behind nginx) on the test database
    and Redis, stopped by pid afterwards. It serves /static/ itself (``SERVE_STATIC=1``), as
    nginx does in a deployment, so that the pages get their CSS and JavaScript."""
    live = Site(env=production_env(**live_server_env, SERVE_STATIC="1"))
    live.start()
    yield live
    live.stop()


def artifact_name(nodeid, label):
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::", 1)[-1]).strip("_")
    return f"{name}-{label}.png" if label else f"{name}.png"


@pytest.fixture
def open_page(browser, request):
    """``open_page(label, **context_options)``: a page in a browser context of its own (its own
    cookies: another person), screenshotted when the test ends."""
    opened = []

    def open_(label="", **context_options):
        context = browser.new_context(**context_options)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        opened.append((label, context, page))
        return page

    yield open_
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    for label, context, page in opened:
        try:
            page.screenshot(path=ARTIFACTS_DIR / artifact_name(request.node.nodeid, label))
        except PlaywrightError as exc:
            warnings.warn(f"no screenshot of {label or 'the page'}: {exc}", stacklevel=1)
        context.close()


@pytest.fixture
def page(open_page):
    """One page in a fresh browser context, in English."""
    return open_page(locale="en-US")
