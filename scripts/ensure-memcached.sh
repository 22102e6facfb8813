#!/usr/bin/env bash
# Make sure memcached is installed: the SESSION_BACKEND=memcached tests run a memcached of their
# own on a free loopback port. Installed from Debian's packages when absent, and not started;
# quick otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

if command -v memcached >/dev/null || [ -x /usr/bin/memcached ]; then
  exit 0
fi
echo ">> memcached is missing (the memcached session tests run one of their own); installing it" >&2
apt_install_not_started memcached
echo ">> $(/usr/bin/memcached -V) installed (not started)" >&2
