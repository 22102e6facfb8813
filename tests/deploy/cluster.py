"""The documented deployment, run for real on loopback (docs/deploy.md).

daphne processes start with the systemd unit's ExecStart on deploy/env.example's environment;
nginx runs the site that deploy/render_nginx.py renders from deploy/nginx/chat.conf.template,
behind TLS with a certificate made for the test. Only what cannot be the same on a test machine
differs: ports, paths, the secret, and which MariaDB database and Redis database are used.
"""

import datetime
import ipaddress
import os
import shlex
import shutil
import socket
import ssl
import subprocess
import sys
from pathlib import Path

from server.commands import free_port, port_accepts, stop_process
from tests.support.servers import ARTIFACTS_DIR, PROJECT_DIR, DaphneServer
from tests.support.waiting import wait_until

DEPLOY_DIR = PROJECT_DIR / "deploy"
UNIT_FILE = DEPLOY_DIR / "systemd" / "chat-daphne@.service"
ENV_EXAMPLE = DEPLOY_DIR / "env.example"
RENDERER = DEPLOY_DIR / "render_nginx.py"
MANAGE = DEPLOY_DIR / "manage.sh"
SERVED_BY = "X-Served-By"


def nginx_binary():
    """nginx's path, or None (``make test`` installs it: scripts/ensure-nginx.sh)."""
    found = shutil.which("nginx")
    if found is None and os.access("/usr/sbin/nginx", os.X_OK):
        found = "/usr/sbin/nginx"
    return found


def read_env_file(path):
    """``KEY=value`` lines as systemd's EnvironmentFile= reads deploy/env.example's format."""
    env = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        env[key.strip()] = value.strip()
    return env


def write_env_file(path, env):
    path.write_text("".join(f"{key}={value}\n" for key, value in env.items()))
    return path


def unit_exec_start(port):
    """The unit's ExecStart for instance ``port``, on this interpreter instead of /srv's venv."""
    lines = [
        line.partition("=")[2]
        for line in UNIT_FILE.read_text().splitlines()
        if line.startswith("ExecStart=")
    ]
    assert len(lines) == 1, f"{UNIT_FILE} must have exactly one ExecStart"
    argv = shlex.split(lines[0].replace("%i", str(port)))
    assert argv[0].endswith("/.venv/bin/python"), argv[0]
    return [sys.executable, *argv[1:]]


class UnitDaphne(DaphneServer):
    """A daphne process started as deploy/systemd/chat-daphne@.service starts instance ``port``."""

    def command(self):
        return unit_exec_start(self.port)

    @property
    def served_by(self):
        """What its ``X-Served-By`` header says (core.middleware.served_by)."""
        return f"{socket.gethostname()}:{self.pid}"


def make_tls_certificate(directory, host="127.0.0.1"):
    """A self-signed certificate for ``host`` (an IP address); returns (cert, key) paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / "tls.crt"
    key_path = directory / "tls.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def client_ssl_context(cert_path):
    """An SSL context that trusts exactly the test's certificate, with hostname checks on."""
    return ssl.create_default_context(cafile=str(cert_path))


def render_site(output, *, backends, static_root, cert_path, key_path, http_port, https_port):
    """Run deploy/render_nginx.py as docs/deploy.md does, for loopback ports."""
    command = [
        sys.executable,
        str(RENDERER),
        "--server-name",
        "127.0.0.1",
        *[arg for port in backends for arg in ("--backend", str(port))],
        "--static-root",
        str(static_root),
        "--tls-certificate",
        str(cert_path),
        "--tls-certificate-key",
        str(key_path),
        "--http-listen",
        f"127.0.0.1:{http_port}",
        "--https-listen",
        f"127.0.0.1:{https_port}",
        "--output",
        str(output),
    ]
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=30)
    return output


# What Debian's /etc/nginx/nginx.conf provides around the site, with every path in the prefix so
# that the test touches nothing of the system's nginx.
MAIN_CONF = """\
worker_processes 2;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{
    worker_connections 256;
}}
http {{
    sendfile on;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {site};
}}
"""


class Nginx:
    """nginx in the foreground (``daemon off``) on a rendered site, stopped by pid."""

    def __init__(self, prefix, site, ports):
        self.prefix = Path(prefix)
        self.site = Path(site)
        self.ports = ports
        self.process = None
        self.conf = self.prefix / "nginx.conf"
        self.log_path = ARTIFACTS_DIR / f"nginx-{ports[0]}.log"

    def command(self, *extra):
        return [
            nginx_binary(),
            "-p",
            str(self.prefix),
            "-e",
            str(self.prefix / "error.log"),
            "-c",
            str(self.conf),
            *extra,
        ]

    def check(self):
        """``nginx -t`` on the main configuration around the site (binds no port)."""
        self.conf.write_text(MAIN_CONF.format(prefix=self.prefix, site=self.site))
        return subprocess.run(
            self.command("-t"), capture_output=True, text=True, timeout=30, check=False
        )

    def start(self, timeout=30):
        checked = self.check()
        if checked.returncode != 0:
            raise RuntimeError(f"nginx -t refused the rendered site:\n{checked.stderr}")
        ARTIFACTS_DIR.mkdir(exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command("-g", "daemon off;"), stdout=log, stderr=subprocess.STDOUT
            )
        wait_until(
            lambda: self.process.poll() is not None or all(map(port_accepts, self.ports)),
            timeout=timeout,
            message=f"nginx listening on ports {self.ports}",
        )
        if self.process.poll() is not None:
            raise RuntimeError(f"nginx exited at start-up:\n{self.error_log()}")
        return self

    def error_log(self):
        path = self.prefix / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self, timeout=10):
        """Fast shutdown (SIGTERM: open WebSockets are cut, not waited for), then SIGKILL."""
        if self.process is None or self.process.poll() is not None:
            return
        stop_process(self.process, timeout)
        # Keep the error log beside the other servers' logs for a failed run's post-mortem.
        with self.log_path.open("a") as log:
            log.write(self.error_log())


class Cluster:
    """N daphne processes behind nginx, as docs/deploy.md sets them up."""

    def __init__(self, workdir, env, static_root, certificate, processes=2):
        self.workdir = Path(workdir)
        self.env = env
        self.static_root = static_root
        self.cert_path, self.key_path = certificate
        self.http_port = free_port()
        self.https_port = free_port()
        self.daphnes = [
            UnitDaphne(env=env, name=f"daphne-deploy-{index}") for index in range(processes)
        ]
        self.nginx = None

    @property
    def url(self):
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def ws_url(self):
        return f"wss://127.0.0.1:{self.https_port}"

    @property
    def http_url(self):
        return f"http://127.0.0.1:{self.http_port}"

    def ssl_context(self):
        return client_ssl_context(self.cert_path)

    def daphne_serving(self, served_by):
        """The process whose ``X-Served-By`` is ``served_by``."""
        for daphne in self.daphnes:
            if daphne.served_by == served_by:
                return daphne
        raise AssertionError(f"{served_by!r} names none of {[d.served_by for d in self.daphnes]}")

    def start(self):
        for daphne in self.daphnes:
            daphne.start()
        site = render_site(
            self.workdir / "chat.conf",
            backends=[daphne.port for daphne in self.daphnes],
            static_root=self.static_root,
            cert_path=self.cert_path,
            key_path=self.key_path,
            http_port=self.http_port,
            https_port=self.https_port,
        )
        self.nginx = Nginx(self.workdir, site, [self.http_port, self.https_port]).start()
        return self

    def stop(self):
        if self.nginx is not None:
            self.nginx.stop()
        for daphne in self.daphnes:
            daphne.stop()
