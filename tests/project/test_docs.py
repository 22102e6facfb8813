"""The porting guide and the README name files that exist."""

import re

import pytest

from tests.support.servers import PROJECT_DIR

DOCUMENTS = ["docs/flask-to-django.md", "README.md"]
CODE_SPAN = re.compile(r"`([^`\s]+)`")
# Made at run time (and git-ignored): named as defaults, not shipped.
GENERATED = {
    "sessions/",
    "staticfiles/",
    "test-artifacts/",
    "test-artifacts/conformance/",
    ".venv/",
    ".venv-conformance/",
    "bench/results/",
}


def named_paths(document):
    """Project-relative file paths written as code spans in ``document``."""
    text = (PROJECT_DIR / document).read_text(encoding="utf-8")
    for token in CODE_SPAN.findall(text):
        token = token.rstrip(".,:;")
        if token.startswith(("/", "../", "http", "ws:", "wss:")) or "://" in token:
            continue  # URLs, absolute paths and the seeds outside the project
        # Bare file names (``reg.html``, ``sqlhelper.py``) are the seeds' own files.
        if token in GENERATED:
            continue
        if "/" in token and re.fullmatch(r"[\w.@-]+(/[\w.@-]*)*", token):
            yield token


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_file_path_the_document_names_exists(document):
    paths = sorted(set(named_paths(document)))
    missing = [path for path in paths if not (PROJECT_DIR / path).exists()]

    assert len(paths) >= 5
    assert missing == []


def test_the_guide_covers_every_snippet_of_both_seeds():
    guide = (PROJECT_DIR / "docs/flask-to-django.md").read_text(encoding="utf-8")

    assert re.findall(r"^\| (A\d+) \|", guide, re.MULTILINE) == [f"A{n}" for n in range(1, 20)]
    assert re.findall(r"^\| (B\d+) \|", guide, re.MULTILINE) == [f"B{n}" for n in range(1, 22)]


def test_readme_documents_every_environment_variable_the_settings_read():
    settings_source = (PROJECT_DIR / "project/settings.py").read_text(encoding="utf-8")
    readme = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    variables = set(re.findall(r'env\.\w+\(\s*"([A-Z][A-Z0-9_]*)"', settings_source))

    undocumented = sorted(name for name in variables if f"`{name}`" not in readme)

    assert len(variables) > 20
    assert undocumented == []
