#!/usr/bin/env bash
# Make sure Debian's chromium is installed: the browser tests (tests/browser) drive it with
# Playwright for Python at /usr/bin/chromium. Playwright's own browser download is not used
# (`playwright install` is never run). Installed from Debian's packages when absent; quick otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

if [ -x /usr/bin/chromium ]; then
  exit 0
fi

echo ">> chromium is missing (tests/browser drive it with Playwright); installing it" >&2
# fonts-noto-cjk: the Chinese pages' screenshots show characters, not boxes.
apt_install chromium fonts-noto-cjk
echo ">> $(/usr/bin/chromium --version 2>/dev/null || echo chromium) installed" >&2
