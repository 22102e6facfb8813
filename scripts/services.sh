#!/usr/bin/env bash
# Make sure MariaDB (127.0.0.1:3306) and Redis (127.0.0.1:6379) answer: start them when installed
# but stopped, install them from Debian's packages when absent. Then create the project's
# database and MariaDB user (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

DB_NAME=${DB_NAME:-chatdb}
DB_USER=${DB_USER:-chat}
DB_PASSWORD=${DB_PASSWORD:-chat}

ensure_redis() {
  port_open 6379 && return 0
  command -v redis-server >/dev/null || apt_install redis-server
  echo ">> starting Redis on 127.0.0.1:6379" >&2
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/project.log
  wait_for_port 6379 30
}

ensure_mariadb() {
  port_open 3306 && return 0
  [ -x /usr/sbin/mariadbd ] || apt_install mariadb-server mariadb-client
  echo ">> starting MariaDB on 127.0.0.1:3306" >&2
  as_root mkdir -p /run/mysqld
  as_root chown mysql:mysql /run/mysqld 2>/dev/null || true
  as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- \
    --user=mysql --bind-address=127.0.0.1 --port=3306
  wait_for_port 3306 60
}

# Run SQL as MariaDB's administrator: root over the local socket (Debian's default
# unix_socket authentication), or root over TCP with an empty password.
mariadb_admin() {
  if as_root mariadb -uroot -e "SELECT 1" >/dev/null 2>&1; then
    as_root mariadb -uroot "$@"
  else
    mariadb -h127.0.0.1 -P3306 -uroot "$@"
  fi
}

# The project's user, and a second one for the server processes that tests start, so that the
# tests can count and kill exactly that server's connections (PROCESS, CONNECTION ADMIN and the
# per-user counters of userstat are for that).
ensure_database() {
  command -v mariadb >/dev/null || apt_install mariadb-client
  local user
  {
    echo "CREATE DATABASE IF NOT EXISTS \`$DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
    for user in "$DB_USER" "${DB_USER}_live"; do
      for host in localhost 127.0.0.1; do
        echo "CREATE USER IF NOT EXISTS '$user'@'$host' IDENTIFIED BY '$DB_PASSWORD';"
        echo "GRANT ALL PRIVILEGES ON \`$DB_NAME\`.* TO '$user'@'$host';"
        echo "GRANT ALL PRIVILEGES ON \`test\\_$DB_NAME%\`.* TO '$user'@'$host';"
      done
    done
    echo "GRANT PROCESS, CONNECTION ADMIN ON *.* TO '$DB_USER'@'localhost', '$DB_USER'@'127.0.0.1';"
    echo "SET GLOBAL userstat = 1;"
    echo "FLUSH PRIVILEGES;"
  } | mariadb_admin
}

ensure_redis
ensure_mariadb
ensure_database
echo ">> MariaDB and Redis are up; database $DB_NAME and user $DB_USER are ready" >&2
