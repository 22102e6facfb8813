"""Throwaway Redis, Sentinel, memcached and MariaDB servers for fault tests: own data, free port,
stopped by pid.

Fault tests stop and start these, never the machine's own services.
"""

import contextlib
import os
import shutil
import signal
import subprocess
from pathlib import Path

from server.commands import free_port, port_accepts, stop_process
from tests.support.servers import ARTIFACTS_DIR, ProcessHandle
from tests.support.waiting import wait_until


class _ServerProcess(ProcessHandle):
    """A server process on a fixed loopback port that can be stopped and started again."""

    name = "server"

    def __init__(self, workdir):
        self.port = free_port()
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = None
        ARTIFACTS_DIR.mkdir(exist_ok=True)
        self.log_path = ARTIFACTS_DIR / f"{self.name}-{self.port}.log"

    def command(self):
        raise NotImplementedError

    def start(self, timeout=60):
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(), cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT
            )
        wait_until(
            lambda: self.process.poll() is not None or port_accepts(self.port),
            timeout=timeout,
            message=f"{self.name} listening on port {self.port}",
        )
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited at start-up: see {self.log_path}")
        return self

    @contextlib.contextmanager
    def paused(self):
        """Freeze the server (SIGSTOP, by pid) for the block: connections stay open and
        unanswered, as under a stalled machine; SIGCONT after, whatever happens."""
        self.process.send_signal(signal.SIGSTOP)
        try:
            yield self
        finally:
            self.process.send_signal(signal.SIGCONT)

    def stop(self, timeout=30):
        if self.process is None or self.process.poll() is not None:
            return
        stop_process(self.process, timeout)
        wait_until(lambda: not port_accepts(self.port), timeout=10, message=f"{self.name} down")


class RedisInstance(_ServerProcess):
    """A Redis server of the test's own, in memory only; a replica of ``replica_of`` if given."""

    name = "redis"

    def __init__(self, workdir, replica_of=None):
        super().__init__(workdir)
        self.replica_of = replica_of

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self):
        command = [
            shutil.which("redis-server") or "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.workdir),
            # A replica's full sync starts at once instead of after Redis's 5 s default wait
            # for more replicas to share it.
            "--repl-diskless-sync-delay",
            "0",
        ]
        if self.replica_of is not None:
            command += ["--replicaof", "127.0.0.1", str(self.replica_of.port)]
        return command


class SentinelInstance(_ServerProcess):
    """A Redis Sentinel of the test's own, monitoring ``master`` under ``master_name``.

    ``down_after_ms`` is how long the master may be silent before this Sentinel deems it down;
    a failover then needs ``quorum`` Sentinels to agree.
    """

    name = "sentinel"

    def __init__(self, workdir, master, master_name, quorum=2, down_after_ms=1000):
        super().__init__(workdir)
        self.config = self.workdir / f"sentinel-{self.port}.conf"
        # Sentinel rewrites its configuration file as it learns the replicas, the other
        # Sentinels and the current master: it must be a file of its own, writable.
        self.config.write_text(
            "\n".join(
                [
                    "bind 127.0.0.1",
                    f"port {self.port}",
                    f"dir {self.workdir}",
                    f"sentinel monitor {master_name} 127.0.0.1 {master.port} {quorum}",
                    f"sentinel down-after-milliseconds {master_name} {down_after_ms}",
                    # The least Sentinel accepts; also the wait before a second try when the
                    # first election failed (two Sentinels started theirs at once).
                    f"sentinel failover-timeout {master_name} {max(1000, 3 * down_after_ms)}",
                    f"sentinel parallel-syncs {master_name} 1",
                    "",
                ]
            )
        )

    def command(self):
        return [shutil.which("redis-sentinel") or "redis-sentinel", str(self.config)]


class MemcachedInstance(_ServerProcess):
    """A memcached of the test's own (16 MB, TCP on loopback only)."""

    name = "memcached"

    @property
    def url(self):
        return f"memcached://127.0.0.1:{self.port}"

    def command(self):
        # memcached refuses to run as root unless told which user to become.
        user = ["-u", "nobody"] if os.geteuid() == 0 else []
        return [
            shutil.which("memcached") or "/usr/bin/memcached",
            "-l",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "0",
            "-m",
            "16",
            *user,
        ]


class MariaDBInstance(_ServerProcess):
    """A MariaDB server of the test's own: its own data directory, socket and port.

    It runs without grant tables, so any user name connects; it is only reachable on loopback
    for as long as the test runs.
    """

    name = "mariadb"

    def __init__(self, workdir):
        super().__init__(workdir)
        self.datadir = self.workdir / "data"
        self.socket = self.workdir / "mariadb.sock"

    def url(self, database):
        return f"mysql://root@127.0.0.1:{self.port}/{database}"

    def install(self):
        if self.datadir.exists():
            return
        user = ["--user=root"] if os.geteuid() == 0 else []
        subprocess.run(
            [
                shutil.which("mariadb-install-db") or "mariadb-install-db",
                "--no-defaults",  # the machine's my.cnf names its own user, logs and paths
                f"--datadir={self.datadir}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                *user,
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def command(self):
        user = ["--user=root"] if os.geteuid() == 0 else []
        return [
            "/usr/sbin/mariadbd",
            "--no-defaults",
            f"--datadir={self.datadir}",
            f"--socket={self.socket}",
            f"--pid-file={self.workdir / 'mariadb.pid'}",
            "--bind-address=127.0.0.1",
            f"--port={self.port}",
            "--skip-grant-tables",
            "--skip-name-resolve",
            "--innodb-buffer-pool-size=32M",
            "--character-set-server=utf8mb4",
            *user,
        ]

    def create_database(self, database):
        subprocess.run(
            [
                shutil.which("mariadb") or "mariadb",
                f"--socket={self.socket}",
                "-uroot",
                "-e",
                f"CREATE DATABASE IF NOT EXISTS `{database}` CHARACTER SET utf8mb4",
            ],
            check=True,
            capture_output=True,
            timeout=30,
        )
