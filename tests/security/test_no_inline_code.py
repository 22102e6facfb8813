"""The pages hold nothing the Content-Security-Policy would refuse: no inline ``<script>``, no
``on...=`` handler attribute, no ``style=`` attribute, no ``javascript:`` URL, and the scripts set
no style attribute or markup. Read from the templates and static files, so a page that would
break under the policy fails here before a browser test runs. Needs no services."""

import re

import pytest

from tests.support.servers import PROJECT_DIR

TEMPLATES = sorted((PROJECT_DIR / "templates").rglob("*.html"))
# The project's own scripts; a vendored library (static/vendor/) is judged by the browser test.
SCRIPTS = sorted(
    path for path in (PROJECT_DIR / "static").rglob("*.js") if "vendor" not in path.parts
)

INLINE_IN_MARKUP = {
    "inline <script>": re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I),
    "on...= handler": re.compile(r"<[^>]*\son[a-z]+\s*=", re.I),
    "style= attribute": re.compile(r"<[^>]*\sstyle\s*=", re.I),
    "javascript: URL": re.compile(r"""=\s*["']?\s*javascript:""", re.I),
    "<style> block": re.compile(r"<style\b", re.I),
}
INLINE_FROM_SCRIPT = {
    "a style attribute": re.compile(
        r"""setAttribute\(\s*["']style["']|\.style\.cssText|\.cssText\s*="""
    ),
    "markup from a string": re.compile(
        r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write"
    ),
    "code from a string": re.compile(r"\beval\(|new Function\(|setTimeout\(\s*[\"'`]"),
}


def test_there_are_pages_and_scripts_to_check():
    assert len(TEMPLATES) >= 10
    assert len(SCRIPTS) >= 3


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda path: str(path.relative_to(PROJECT_DIR)))
def test_page_has_no_inline_script_or_style(path):
    text = path.read_text(encoding="utf-8")

    found = {name for name, pattern in INLINE_IN_MARKUP.items() if pattern.search(text)}

    assert found == set()


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda path: str(path.relative_to(PROJECT_DIR)))
def test_script_writes_no_style_attribute_markup_or_code_from_strings(path):
    text = path.read_text(encoding="utf-8")

    found = {name for name, pattern in INLINE_FROM_SCRIPT.items() if pattern.search(text)}

    assert found == set()
