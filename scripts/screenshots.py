"""``make screenshots``: PNGs of every page (tests/browser/pages.py) at 1280 and 375 px, in
English and Simplified Chinese, into docs/screenshots/ (``<page>-<en|zh>-<width>.png``).

It starts a production-mode daphne (DEBUG off, static files served by it) on the embedded
defaults (a throwaway SQLite file, local memory), creates a demo user with a profile and a few
chat messages, drives Debian's chromium with Playwright, and stops the server by pid.
Usage: python scripts/screenshots.py [--only NAME ...] [--dark] [--out DIR]
"""

import argparse
import os
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from tests.support.accounts import STRONG_PASSWORD as PASSWORD  # noqa: E402  (the password rules)
from tests.support.servers import DaphneServer, production_env  # noqa: E402


def seed_demo_data():
    """The demo user (with a profile), a second user, and a conversation in the demo room."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from accounts.models import Hobby, Profile
    from chat.models import Message
    from tests.browser.pages import DEMO_ROOM, DEMO_USERNAME

    user_model = get_user_model()
    # A superuser, so that the admin's pages can be pictured too.
    alice = user_model.objects.create_superuser(
        DEMO_USERNAME, email="alice@example.com", password=PASSWORD
    )
    bob = user_model.objects.create_user("bob", password=PASSWORD)
    profile = Profile.objects.create(user=alice, gender=Profile.Gender.FEMALE)
    profile.hobbies.set(Hobby.objects.order_by("id")[:2])
    now = timezone.now()
    lines = [
        (bob, "Morning! Is the deploy done?"),
        (alice, "Yes, since 9:40. Sessions survived the restart."),
        (bob, "早上好，中文也可以。"),  # noqa: RUF001 (Chinese punctuation)
        (alice, "Great, I'll tell the others."),
    ]
    for minutes, (user, text) in enumerate(lines):
        Message.objects.create(
            room=DEMO_ROOM, user=user, text=text, created_at=now - timedelta(minutes=10 - minutes)
        )
    Message.objects.create(room="random", user=bob, text="Anyone here?", created_at=now)


def log_in(context, base_url):
    from tests.browser.pages import DEMO_USERNAME

    page = context.new_page()
    page.goto(base_url + "/accounts/login/")
    page.locator("#id_username").fill(DEMO_USERNAME)
    page.locator("#id_password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("form.account-form button[type=submit]").click()
    if "/accounts/login/" in page.url:
        raise SystemExit(f"the demo user could not log in: {page.url}")
    page.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="page names (tests/browser/pages.py)")
    parser.add_argument("--dark", action="store_true", help="dark colour scheme (names get -dark)")
    parser.add_argument("--out", default=str(PROJECT_DIR / "docs" / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    workdir = tempfile.mkdtemp(prefix="screenshots-")
    env = production_env(SERVE_STATIC="1", SQLITE_PATH=os.path.join(workdir, "db.sqlite3"))
    for name in ("DATABASE_URL", "REDIS_URL", "REDIS_SENTINELS", "SESSION_BACKEND"):
        os.environ.pop(name, None)
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    from tests.browser.pages import ADMIN_PAGES, LANGUAGES, PAGES, WIDTHS, show

    call_command("migrate", verbosity=0, interactive=False)
    seed_demo_data()
    pages = [p for p in PAGES + ADMIN_PAGES if not args.only or p.name in args.only]
    server = DaphneServer(env=env, name="daphne-screenshots")
    server.start()
    written = 0
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--headless", "--no-sandbox", "--disable-gpu"],
            )
            for language, locale in LANGUAGES.items():
                for width, viewport in WIDTHS.items():
                    options = {
                        "locale": locale,
                        "viewport": viewport,
                        "color_scheme": "dark" if args.dark else "light",
                    }
                    logged_out = browser.new_context(**options)
                    logged_in = browser.new_context(**options)
                    log_in(logged_in, server.url)
                    for spec in pages:
                        page = (logged_in if spec.login else logged_out).new_page()
                        show(page, server.url, spec, language)
                        if spec.name.startswith("chat"):
                            # The connected state, when it comes; the picture is taken anyway.
                            try:
                                page.locator(".ws-state[data-state=open]").wait_for(timeout=5000)
                            except PlaywrightTimeout:
                                print(f"{spec.name}: not connected", file=sys.stderr)
                        suffix = "-dark" if args.dark else ""
                        path = out / f"{spec.name}-{language}-{width}{suffix}.png"
                        page.screenshot(path=path, full_page=True)
                        page.close()
                        written += 1
                    logged_out.close()
                    logged_in.close()
            browser.close()
    finally:
        server.stop()
    print(f"{written} screenshots in {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
