"""The Autobahn|Testsuite's ``wstest``, in a Python 2.7 virtualenv of its own.

``autobahntestsuite`` (25.10.1, the newest on PyPI) is still Python 2 code: its sources have
``print`` statements and implicit relative imports, and it pins autobahn 0.10.9 and Twisted
19.10. On Python 3.11 pip installs it (its requirements file is missing from the sdist, so
without a single dependency) and ``wstest`` dies importing ``_version``. So it runs on a
CPython 2.7: Debian 12 packages none, so the one pyenv built on this machine image
(``~/.pyenv/versions/2.7.18``) is used, or the interpreter named by ``CONFORMANCE_PYTHON2``.
virtualenv 20.15.1 (the last release that runs on Python 2) makes ``.venv-conformance/`` with
it, bootstrapped from a temporary directory so that the interpreter's own site-packages stay
untouched.
"""

import glob
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from conformance.launchers import PROJECT_DIR

VENV_DIR = PROJECT_DIR / ".venv-conformance"
REQUIREMENTS = Path(__file__).with_name("requirements-wstest.txt")
VIRTUALENV = "virtualenv==20.15.1"
# pip's output is shown only on failure (pyenv's 2.7.18 has pip 19.2, which lacks
# --no-python-version-warning).
PIP_QUIET = ["-q", "--disable-pip-version-check"]


class InstallError(RuntimeError):
    """wstest could not be installed (no Python 2.7, or pip failed)."""


def wstest_path(venv=VENV_DIR):
    return Path(venv) / "bin" / "wstest"


def _wanted_stamp():
    return hashlib.sha256(REQUIREMENTS.read_bytes() + VIRTUALENV.encode()).hexdigest()


def _stamp_path(venv):
    return Path(venv) / ".installed-wstest"


def is_installed(venv=VENV_DIR):
    """True when ``venv`` has wstest, installed from the current requirements file."""
    stamp = _stamp_path(venv)
    return (
        wstest_path(venv).exists()
        and stamp.exists()
        and stamp.read_text().strip() == _wanted_stamp()
    )


def _is_python27(executable):
    try:
        result = subprocess.run(  # noqa: S603 - a candidate interpreter, no shell
            [executable, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    # pyenv's shims exist for every version it has and fail unless that version is selected.
    return result.returncode == 0 and result.stdout.strip() == "2.7"


def python27_candidates():
    """Interpreters to try, in order: ``CONFORMANCE_PYTHON2``, ``python2.7`` and ``python2`` on
    the PATH, then pyenv's 2.7 builds, newest first."""
    pyenv_root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    pyenv_builds = sorted(glob.glob(f"{pyenv_root}/versions/2.7*/bin/python2.7"), reverse=True)
    candidates = [
        os.environ.get("CONFORMANCE_PYTHON2"),
        shutil.which("python2.7"),
        shutil.which("python2"),
        *pyenv_builds,
    ]
    return [candidate for candidate in candidates if candidate]


def find_python27():
    """The first CPython 2.7 of :func:`python27_candidates` that runs."""
    for candidate in python27_candidates():
        if _is_python27(candidate):
            return candidate
    raise InstallError(
        "wstest needs a CPython 2.7 and none was found (tried CONFORMANCE_PYTHON2, python2.7 "
        "and python2 on the PATH, and ~/.pyenv/versions/2.7*); Debian 12 packages none. "
        "Set CONFORMANCE_PYTHON2 to one."
    )


def _run(command, log, **kwargs):
    log(f">> {' '.join(str(part) for part in command)}")
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)  # noqa: S603
    if result.returncode != 0:
        raise InstallError(
            f"{command[0]} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
        )


def ensure_installed(venv=VENV_DIR, log=print):
    """Install wstest into ``venv`` unless it is there already; return wstest's path.

    Quick when installed: a stamp in the venv holds the hash of the requirements last installed.
    """
    venv = Path(venv)
    if is_installed(venv):
        return wstest_path(venv)
    python27 = find_python27()
    log(f">> installing the Autobahn|Testsuite into {venv} with {python27} (a few minutes)")
    if not (venv / "bin" / "python").exists():
        with tempfile.TemporaryDirectory(prefix="virtualenv-py27-") as bootstrap:
            _run(
                [python27, "-m", "pip", "install", *PIP_QUIET, "--target", bootstrap, VIRTUALENV],
                log,
                timeout=600,
            )
            _run(
                [python27, "-m", "virtualenv", "-q", str(venv)],
                log,
                timeout=600,
                env={**os.environ, "PYTHONPATH": bootstrap},
            )
    _run(
        [str(venv / "bin" / "pip"), "install", *PIP_QUIET, "-r", str(REQUIREMENTS)],
        log,
        timeout=1800,
    )
    if not wstest_path(venv).exists():
        raise InstallError(f"pip installed the requirements but {wstest_path(venv)} is missing")
    _stamp_path(venv).write_text(_wanted_stamp() + "\n")
    return wstest_path(venv)


def fuzzingclient_spec(servers, cases, outdir, exclude_agent_cases=None):
    """wstest's ``fuzzingclient`` spec: every case of ``cases`` against every server.

    ``servers`` are ``(agent, url, origin)``: the agent names the server in the report; the
    origin is sent as the handshake's ``Origin``, which the project's origin check requires.
    ``exclude_agent_cases`` maps an agent to case patterns not to run against it.
    """
    return {
        "outdir": str(outdir),
        "servers": [
            {"agent": agent, "url": url, "origin": origin} for agent, url, origin in servers
        ],
        "cases": list(cases),
        "exclude-cases": [],
        "exclude-agent-cases": {
            agent: list(patterns) for agent, patterns in (exclude_agent_cases or {}).items()
        },
    }


def run_fuzzingclient(spec, workdir, timeout, wstest=None):
    """Run ``wstest -m fuzzingclient`` on ``spec`` (written to ``workdir``) until it ends.

    wstest's output goes to ``workdir/wstest.log``. Returns the report's ``index.json`` path.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    spec_path = workdir / "fuzzingclient.json"
    spec_path.write_text(json.dumps(spec, indent=2) + "\n")
    log_path = workdir / "wstest.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - the venv's wstest, no shell
            [str(wstest or wstest_path()), "-m", "fuzzingclient", "-s", str(spec_path)],
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"wstest did not finish within {timeout}s; see {log_path}") from None
        finally:
            # Also when interrupted: wstest must not outlive the run that started it.
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
    index = Path(spec["outdir"]) / "index.json"
    if returncode != 0 or not index.exists():
        raise RuntimeError(f"wstest exited with {returncode} without a report; see {log_path}")
    return index
