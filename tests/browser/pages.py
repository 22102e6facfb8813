"""Every page of the site, in one list: the accessibility and layout test (test_pages.py) and
``make screenshots`` (scripts/screenshots.py) both walk it. Add a page here and both cover it.

``login``: the page needs a logged-in user (the demo user). ``how``: ``"goto"`` opens the
path; ``"submit"`` opens it and submits its form empty; ``"menu"`` opens it and the
phone menu (its button is there below 640 px only); ``"csrf"`` posts a form without its
token to the path (Django's 403 CSRF page);
``"render"`` shows a template that the server renders only when something fails (400, 413,
500, 503), rendered in this process with ``context`` and shown on a page of the live site.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Page:
    name: str
    path: str = "/"
    login: bool = False
    how: str = "goto"
    template: str = ""
    context: dict = field(default_factory=dict)


DEMO_USERNAME = "alice"
DEMO_ROOM = "general"

PAGES = [
    Page("home", "/"),
    Page("home-logged-in", "/", login=True),
    Page("menu-open", "/", login=True, how="menu"),
    Page("login", "/accounts/login/"),
    Page("register", "/accounts/register/"),
    Page("register-errors", "/accounts/register/", how="submit"),
    Page("profile", "/accounts/profile/", login=True),
    Page("profile-edit", "/accounts/profile/edit/", login=True),
    Page("password-change", "/accounts/password_change/", login=True),
    Page("password-change-errors", "/accounts/password_change/", login=True, how="submit"),
    Page("password-change-done", "/accounts/password_change/done/", login=True),
    Page("password-reset", "/accounts/password_reset/"),
    Page("password-reset-done", "/accounts/password_reset/done/"),
    Page("password-reset-invalid-link", "/accounts/reset/MQ/set-password/"),
    Page("password-reset-complete", "/accounts/reset/done/"),
    Page("account-delete", "/accounts/delete/", login=True),
    Page("logout", "/accounts/logout/", login=True),
    Page("chat-lobby", "/chat/", login=True),
    Page("chat-room", f"/chat/{DEMO_ROOM}/", login=True),
    Page("echo", "/echo/"),
    Page("session", "/session/"),
    Page("stats", "/stats/"),
    Page("error-403", "/accounts/login/", how="csrf"),
    Page("error-404", "/no-such-page/"),
    Page("error-400", how="render", template="400.html"),
    Page("error-413", how="render", template="413.html", context={"limit": 2_621_440}),
    Page("error-500", how="render", template="500.html"),
    Page("error-503", how="render", template="503.html", context={"service": "database"}),
]

# Django's own admin, pictured by `make screenshots` (the demo user is a superuser there) but not
# checked by axe: its markup is Django's.
ADMIN_PAGES = [
    Page("admin-index", "/admin/", login=True),
    Page("admin-users", "/admin/auth/user/", login=True),
]


def show(page, base_url, spec, language="en"):
    """Bring ``spec`` up in the Playwright ``page`` of the live site at ``base_url``."""
    if spec.how in ("goto", "submit", "menu"):
        page.goto(base_url + spec.path)
        if spec.how == "submit":
            with page.expect_navigation():
                page.locator("main form button[type=submit]").click()
        elif spec.how == "menu" and page.locator(".nav-toggle-button").is_visible():
            page.locator(".nav-toggle-button").click()
    elif spec.how == "csrf":
        page.goto(base_url + "/")
        with page.expect_navigation():
            page.evaluate(
                """path => { const form = document.createElement("form");
                form.method = "post"; form.action = path; document.body.append(form);
                form.submit(); }""",
                spec.path,
            )
    else:
        from django.template.loader import render_to_string
        from django.utils import translation

        with translation.override("zh-hans" if language == "zh" else "en"):
            html = render_to_string(spec.template, spec.context)
        # On a page of the site, so that the stylesheet and icon resolve as they would.
        page.goto(base_url + "/stats/")
        page.set_content(html)
    page.wait_for_load_state("load")


WIDTHS = {"1280": {"width": 1280, "height": 800}, "375": {"width": 375, "height": 740}}
LANGUAGES = {"en": "en-US", "zh": "zh-CN"}
