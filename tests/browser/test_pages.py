"""Every page of tests/browser/pages.py, at 1280 and 375 px: axe-core finds no serious or
critical accessibility violation, and nothing scrolls sideways on a phone."""

from pathlib import Path

import pytest

from tests.browser.pages import PAGES, WIDTHS, show
from tests.support.accounts import STRONG_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"


@pytest.fixture
def demo_user(django_user_model):
    from tests.browser.pages import DEMO_USERNAME

    return django_user_model.objects.create_user(DEMO_USERNAME, password=STRONG_PASSWORD)


def log_in(page, base_url, user):
    page.goto(base_url + "/accounts/login/")
    page.locator("#id_username").fill(user.username)
    page.locator("#id_password").fill(STRONG_PASSWORD)
    with page.expect_navigation():
        page.locator("form.account-form button[type=submit]").click()


def serious_violations(page):
    """axe-core's serious and critical violations on the page, as "rule: target" lines."""
    # Injected by Playwright (the context bypasses the CSP for it, not the page's own code).
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{violation['id']} ({violation['impact']}): {node['target']}"
        for violation in results["violations"]
        if violation["impact"] in ("serious", "critical")
        for node in violation["nodes"]
    ]


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("spec", PAGES, ids=[spec.name for spec in PAGES])
def test_page_has_no_serious_accessibility_violation_and_no_sideways_scroll(
    site, open_page, demo_user, spec, width
):
    page = open_page(
        f"{spec.name}-{width}", locale="en-US", viewport=WIDTHS[width], bypass_csp=True
    )
    if spec.login:
        log_in(page, site.url, demo_user)
    show(page, site.url, spec)

    assert serious_violations(page) == []
    scroll_width, inner_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width


def test_favicon_ico_is_served(site, page):
    response = page.goto(site.url + "/favicon.ico")
    assert response.ok
    assert response.headers["content-type"].startswith("image/svg+xml")


def test_phone_menu_opens_with_its_button_and_shows_the_account_links(site, open_page):
    page = open_page(locale="en-US", viewport=WIDTHS["375"])
    page.goto(site.url + "/")
    login_link = page.locator(".site-header a[href='/accounts/login/']")
    assert not login_link.is_visible()
    # Folded, the header is one line: the site's name and the menu button.
    assert page.locator(".site-header").bounding_box()["height"] <= 64
    page.locator(".nav-toggle-button").click()
    assert login_link.is_visible()
    box = login_link.bounding_box()
    assert box["height"] >= 44


@pytest.mark.parametrize("width", list(WIDTHS))
def test_logged_in_as_name_stays_on_one_line(site, open_page, demo_user, width):
    page = open_page(locale="en-US", viewport=WIDTHS[width])
    log_in(page, site.url, demo_user)
    if page.locator(".nav-toggle-button").is_visible():
        page.locator(".nav-toggle-button").click()
    # The lines the text's boxes sit on (a wrapped text has boxes at two heights).
    lines = page.locator(".nav-user").evaluate(
        """e => { const range = document.createRange(); range.selectNodeContents(e);
        return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size; }"""
    )
    assert lines == 1


def test_focus_moves_to_the_first_field_in_error_after_a_failed_submit(site, page):
    page.goto(site.url + "/accounts/register/")
    with page.expect_navigation():
        page.locator("form.account-form button[type=submit]").click()
    focused = page.evaluate("document.activeElement.getAttribute('aria-invalid')")
    assert focused == "true"


@pytest.mark.parametrize("spec", PAGES, ids=[spec.name for spec in PAGES])
def test_page_in_dark_mode_has_no_serious_accessibility_violation(site, open_page, demo_user, spec):
    page = open_page(
        f"{spec.name}-dark",
        locale="en-US",
        viewport=WIDTHS["375"],
        color_scheme="dark",
        bypass_csp=True,
    )
    if spec.login:
        log_in(page, site.url, demo_user)
    show(page, site.url, spec)

    assert serious_violations(page) == []
