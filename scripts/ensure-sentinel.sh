#!/usr/bin/env bash
# Make sure redis-sentinel is installed: the failover test (tests/ha) runs a Redis primary, a
# replica and three Sentinels of its own on free loopback ports. Installed from Debian's packages
# when absent, and not started; quick otherwise. (redis-server comes from scripts/services.sh.)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

if command -v redis-sentinel >/dev/null; then
  exit 0
fi
echo ">> redis-sentinel is missing (tests/ha run Sentinels of their own); installing it" >&2
apt_install_not_started redis-sentinel
echo ">> $(redis-sentinel --version | cut -d' ' -f1-3) installed (not started)" >&2
