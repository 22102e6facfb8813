"""The checks `make test` runs before the suite are wired in, and the pre-commit hooks agree.

`make check` (ruff's lint, ruff's formatting, mypy) is the first step of `make test`, so of CI;
the suite itself runs under coverage with a floor. These tests prove the wiring and that the
configured rules bite where they should, on the project's own configuration.
"""

import re
import subprocess
import sys
import tomllib

import pytest
import yaml

from tests.support.servers import PROJECT_DIR

VENV_BIN = PROJECT_DIR / ".venv" / "bin"
PYPROJECT = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())
APPS = ["accounts", "chat", "core", "project", "server", "rfc6455"]


def constraint_pins():
    pins = {}
    for line in (PROJECT_DIR / "constraints.txt").read_text().splitlines():
        name, sep, version = line.split("#", 1)[0].strip().partition("==")
        if sep:
            pins[name.lower()] = version
    return pins


def make_dry_run(target):
    """The commands `make TARGET` would run, in order, without running them."""
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", target],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.splitlines()


def ruff_check_stdin(path, source):
    """ruff's verdict on SOURCE as if it were the project's file PATH (its per-file rules)."""
    return subprocess.run(
        [
            str(VENV_BIN / "ruff"),
            "check",
            "--no-cache",
            "--output-format=concise",
            "--stdin-filename",
            path,
            "-",
        ],
        cwd=PROJECT_DIR,
        input=source,
        capture_output=True,
        text=True,
    )


def index_of(lines, pattern):
    return next(i for i, line in enumerate(lines) if re.search(pattern, line))


def test_make_test_runs_lint_format_and_types_before_the_suite_under_coverage():
    commands = make_dry_run("test")
    pytest_at = index_of(commands, r"-m pytest")
    assert index_of(commands, r"ruff check \.") < pytest_at
    assert index_of(commands, r"ruff format --check \.") < pytest_at
    assert index_of(commands, r"/mypy$") < pytest_at
    assert "--cov" in commands[pytest_at].split()


def test_ci_runs_make_test_and_nothing_else():
    script = (PROJECT_DIR / ".ci" / "run").read_text()
    commands = [
        line for line in script.splitlines() if line and not line.startswith(("#", "set ", "cd "))
    ]
    assert commands == ["exec make test"]


def test_the_coverage_floor_is_set_and_covers_every_app():
    assert PYPROJECT["tool"]["coverage"]["report"]["fail_under"] > 0
    assert sorted(PYPROJECT["tool"]["coverage"]["run"]["source"]) == sorted(APPS)


def test_mypy_checks_every_app():
    assert sorted(PYPROJECT["tool"]["mypy"]["files"]) == sorted(APPS)
    assert PYPROJECT["tool"]["mypy"]["plugins"] == ["mypy_django_plugin.main"]


def test_pre_commit_hooks_pin_the_versions_of_constraints_txt():
    config = yaml.safe_load((PROJECT_DIR / ".pre-commit-config.yaml").read_text())
    pins = constraint_pins()
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    assert {hook["id"] for hook in hooks} == {"ruff-check", "ruff-format", "mypy"}
    for hook in hooks:
        for requirement in hook.get("additional_dependencies", []):
            name, _, version = requirement.partition("==")
            assert pins[name.lower()] == version, requirement
        if hook["language"] == "system":
            # Not installed by pre-commit: it must be the venv's, which constraints.txt pins.
            assert ".venv/bin/" in hook["entry"]


@pytest.mark.parametrize("app", APPS)
def test_an_unannotated_public_function_in_an_app_fails_the_lint(app):
    result = ruff_check_stdin(f"{app}/example.py", "def public(value):\n    return value\n")
    assert result.returncode == 1
    assert "ANN001" in result.stdout
    assert "ANN201" in result.stdout


@pytest.mark.parametrize("folder", ["tests", "bench", "conformance", "scripts"])
def test_annotations_are_not_required_outside_the_apps(folder):
    result = ruff_check_stdin(f"{folder}/example.py", "def public(value):\n    return value\n")
    assert result.returncode == 0, result.stdout


def test_mypy_reports_a_type_error_with_the_project_configuration(tmp_path):
    module = tmp_path / "example.py"
    module.write_text("def length(text: str) -> int:\n    return text\n")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache"), str(module)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "DEBUG": "1", "HOME": str(tmp_path)},
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "[return-value]" in result.stdout
