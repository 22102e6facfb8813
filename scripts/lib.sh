# Shared helpers for the project's scripts (sourced, not run).

# Run a command as root: directly when we are root, through sudo otherwise.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

APT_UPDATED=""
apt_install() {
  echo ">> installing Debian packages: $*" >&2
  if [ -z "$APT_UPDATED" ]; then as_root apt-get update -qq; APT_UPDATED=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Wait up to $2 seconds for port $1 to accept connections.
wait_for_port() {
  local port=$1 seconds=${2:-30} i
  for ((i = 0; i < seconds * 10; i++)); do
    port_open "$port" && return 0
    sleep 0.1
  done
  echo "!! nothing answers on 127.0.0.1:$port after ${seconds}s" >&2
  return 1
}

# Install Debian packages without starting the services they bring (the tests run their own
# instances on free loopback ports, and a default instance could take a port someone uses). A
# policy-rc.d answering 101 ("action forbidden") makes invoke-rc.d and deb-systemd-invoke skip
# the start; one already in place is left alone.
apt_install_not_started() {
  local policy=/usr/sbin/policy-rc.d status=0
  if [ -e "$policy" ]; then
    apt_install "$@"
    return
  fi
  printf '#!/bin/sh\n# Temporary, from scripts/lib.sh: do not start services.\nexit 101\n' |
    as_root tee "$policy" >/dev/null
  as_root chmod 755 "$policy"
  apt_install "$@" || status=$?
  as_root rm -f "$policy"
  return "$status"
}
