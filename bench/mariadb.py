"""MariaDB's connection counters, read as the administrator while a server is under load.

Other clients (test suites, other services) may share this MariaDB while the benchmark runs, so
the global ``Connections`` and ``Threads_connected`` counters (recorded too, for reference) count
their connections as well. Each server under test therefore connects as its own MariaDB user (the
peer as ``bench``, the project as the harness's bench user), and the figures come from that
user's rows: ``information_schema.USER_STATISTICS.TOTAL_CONNECTIONS`` (``userstat`` is switched
on, as the peer's setup.sh does) for new connections and ``information_schema.PROCESSLIST`` for
connections open at one time.
"""

import threading
import time

import MySQLdb

SOCKET_PATHS = ("/run/mysqld/mysqld.sock", "/var/run/mysqld/mysqld.sock")


def admin_connection():
    """Connect as root: over the local socket (Debian's unix_socket auth), else TCP without a
    password (the machine's default), as scripts/services.sh does."""
    errors = []
    for socket_path in SOCKET_PATHS:
        try:
            return MySQLdb.connect(unix_socket=socket_path, user="root", connect_timeout=3)
        except MySQLdb.Error as exc:
            errors.append(f"{socket_path}: {exc}")
    try:
        return MySQLdb.connect(
            host="127.0.0.1", port=3306, user="root", password="", connect_timeout=3
        )
    except MySQLdb.Error as exc:
        errors.append(f"127.0.0.1:3306: {exc}")
    raise RuntimeError("cannot connect to MariaDB as root: " + "; ".join(errors))


class ConnectionCounters:
    """Reads of one MariaDB user's connections (and the global counters, for reference)."""

    def __init__(self):
        self.connection = admin_connection()
        self.connection.autocommit(True)
        cursor = self.connection.cursor()
        # Per-user statistics are what tell the server's connections apart from other clients'.
        cursor.execute("SET GLOBAL userstat = 1")

    def _scalar(self, sql, args=()):
        cursor = self.connection.cursor()
        cursor.execute(sql, args)
        row = cursor.fetchone()
        return row[0] if row else None

    def total_connections(self, user):
        """Connections ``user`` has made since statistics began (0 when it made none)."""
        value = self._scalar(
            "SELECT TOTAL_CONNECTIONS FROM information_schema.USER_STATISTICS WHERE USER = %s",
            (user,),
        )
        return int(value or 0)

    def open_connections(self, user):
        """Connections ``user`` has open right now."""
        return int(
            self._scalar(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = %s", (user,)
            )
        )

    def global_status(self):
        cursor = self.connection.cursor()
        cursor.execute(
            "SHOW GLOBAL STATUS WHERE Variable_name IN ('Connections', 'Threads_connected')"
        )
        return {name: int(value) for name, value in cursor.fetchall()}

    def snapshot(self, user):
        status = self.global_status()
        return {
            "user_total_connections": self.total_connections(user),
            "user_open_connections": self.open_connections(user),
            "global_connections": status["Connections"],
            "global_threads_connected": status["Threads_connected"],
        }

    def close(self):
        self.connection.close()


class OpenConnectionsPoller(threading.Thread):
    """Samples a user's open connections every ``interval`` seconds; keeps the maximum."""

    def __init__(self, user, interval=0.01):
        super().__init__(name=f"poll-{user}", daemon=True)
        self.user = user
        self.interval = interval
        self.maximum = 0
        self.global_maximum = 0
        self.samples = 0
        self._stop_event = threading.Event()
        # Its own connection: MySQLdb connections must not be shared between threads.
        self.counters = ConnectionCounters()

    def run(self):
        try:
            while not self._stop_event.is_set():
                self.maximum = max(self.maximum, self.counters.open_connections(self.user))
                status = self.counters.global_status()
                self.global_maximum = max(self.global_maximum, status["Threads_connected"])
                self.samples += 1
                time.sleep(self.interval)
        finally:
            self.counters.close()

    def stop(self):
        self._stop_event.set()
        self.join(timeout=5)
