#!/usr/bin/env bash
# Create .venv and install the requirements; `install.sh dev` adds the test tools.
# Versions come from constraints.txt (exact pins), so a fresh install gets what was tested.
# Quick when nothing changed: a stamp holds the hash of the requirement and constraint files last
# installed, so editing a pin reinstalls.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
files=(requirements.txt)
[ "${1:-}" = dev ] && files+=(requirements-dev.txt)
stamp="$VENV/.installed-${1:-runtime}"
constraints=constraints.txt
wanted=$(cat "${files[@]}" "$constraints" | sha256sum | cut -d' ' -f1)

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ] && [ -x "$VENV/bin/python" ]; then
  exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo ">> creating $VENV with $($PYTHON --version)" >&2
  "$PYTHON" -m venv "$VENV"
fi

# mysqlclient compiles against the MariaDB client library, found through pkg-config.
if ! "$VENV/bin/python" -c "import MySQLdb" 2>/dev/null; then
  if ! pkg-config --exists libmariadb 2>/dev/null && ! pkg-config --exists mysqlclient 2>/dev/null; then
    echo ">> mysqlclient needs libmariadb-dev and pkg-config to build; installing them" >&2
    apt_install libmariadb-dev pkg-config
  fi
fi

started=$SECONDS
echo ">> [1/2] upgrading pip in $VENV" >&2
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >&2
count=$(cat "${files[@]}" | grep -cv '^\s*\(#\|-\|$\)' || true)
echo ">> [2/2] installing ${files[*]} ($count packages, pinned by $constraints; about a minute on a fresh clone)" >&2
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -c "$constraints" \
  "${files[@]/#/-r}" >&2
echo "$wanted" >"$stamp"
echo ">> installed in $((SECONDS - started)) s" >&2
