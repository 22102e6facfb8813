#!/bin/sh
# manage.py with the production environment: deploy/manage.sh migrate (docs/deploy.md).
# Run it as the service user, e.g. sudo -u chat /srv/chat/app/deploy/manage.sh collectstatic.
# CHAT_ENV_FILE names another environment file (the deployment test uses its own).
set -eu
app_dir=$(cd "$(dirname "$0")/.." && pwd)
env_file=${CHAT_ENV_FILE:-/etc/chat/env}
# `.` looks a name without a slash up in PATH.
case $env_file in */*) ;; *) env_file=./$env_file ;; esac
if [ ! -r "$env_file" ]; then
  echo "deploy/manage.sh: cannot read $env_file (run as the service user, or set CHAT_ENV_FILE)" >&2
  exit 2
fi
# The file is KEY=value lines without quotes or spaces (deploy/env.example), which sh reads as
# systemd's EnvironmentFile= does; set -a exports each one.
set -a
. "$env_file"
set +a
cd "$app_dir"
exec "$app_dir/.venv/bin/python" manage.py "$@"
