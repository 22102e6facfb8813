#!/usr/bin/env bash
# Make sure nginx is installed: the deployment test (tests/deploy) runs the shipped nginx site in
# front of several daphne processes. Installed from Debian's packages when absent; quick otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

if command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then
  exit 0
fi

echo ">> nginx is missing (tests/deploy run the shipped nginx site); installing it" >&2
# Debian's package starts its default site on port 80 as it installs. The test needs no system
# nginx (it runs its own on free loopback ports), and when port 80 is taken that start fails
# and fails the install with it. A policy-rc.d answering 101 ("action forbidden") makes
# invoke-rc.d and deb-systemd-invoke skip the start. A policy already in place is left alone.
policy=/usr/sbin/policy-rc.d
if [ -e "$policy" ]; then
  apt_install nginx
else
  trap 'as_root rm -f "$policy"' EXIT
  printf '#!/bin/sh\n# Temporary, from scripts/ensure-nginx.sh: do not start services.\nexit 101\n' |
    as_root tee "$policy" >/dev/null
  as_root chmod 755 "$policy"
  apt_install nginx
fi
echo ">> nginx $(/usr/sbin/nginx -v 2>&1 | sed 's/.*nginx\///') installed (not started)" >&2
