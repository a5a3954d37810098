"""The embedded PostgreSQL+PostGIS cluster: system binaries, data under var/, loopback only."""

from __future__ import annotations

import contextlib
import hashlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gis.errors import DatabaseUnavailable

PG_VERSIONS = ("17", "16", "15", "14")
APT_PACKAGES = "postgresql postgresql-{v}-postgis-3"
# PostgreSQL refuses to run as root: as root the cluster runs as this unprivileged user.
SYSTEM_USER = "postgres"
FALLBACK_ROOT = Path("/var/lib/gis-embedded")


def find_pg_bin() -> Path:
    """The newest PostgreSQL bin directory that has PostGIS installed next to it."""
    for v in PG_VERSIONS:
        bindir = Path(f"/usr/lib/postgresql/{v}/bin")
        if (bindir / "initdb").exists() and Path(f"/usr/share/postgresql/{v}/extension/postgis.control").exists():
            return bindir
    found = [v for v in PG_VERSIONS if Path(f"/usr/lib/postgresql/{v}/bin/initdb").exists()]
    v = found[0] if found else "15"
    raise DatabaseUnavailable(
        "PostgreSQL with PostGIS is not installed. Install the packages: "
        + APT_PACKAGES.format(v=v)
        + " (sudo apt-get install ...), or set DATABASE_URL to an existing PostGIS server."
    )


def pg_ctl_start(
    run: Callable[..., subprocess.CompletedProcess], bindir: Path, data: Path, log: Path, timeout: float, what: str
) -> None:
    """`pg_ctl start` a data directory; DatabaseUnavailable with the server log's tail when it fails."""
    r = run(
        str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", str(int(timeout)), "start", check=False
    )
    if r.returncode != 0:
        tail = ""
        with contextlib.suppress(OSError):
            tail = log.read_text()[-600:]
        raise DatabaseUnavailable(f"{what} did not start: {r.stderr.strip()} {tail}")


def _free_port(preferred: int) -> int:
    """The preferred loopback port if free, else any free one."""
    for port in (preferred, 0):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return s.getsockname()[1]
            except OSError:
                continue
    raise DatabaseUnavailable("no free loopback port for the embedded database")


@dataclass
class EmbeddedPostgres:
    """A private cluster: `start()`, `stop()`, `status()`, `url()`; database `gis`, user `gis`."""

    root: Path
    preferred_port: int = 54340
    dbname: str = "gis"
    user: str = "gis"
    # Public requests log in as this role with a password of their own (never SET ROLE on the owner's session).
    public_role: str = "gis_public"

    def __post_init__(self) -> None:
        self.root = Path(self.root).resolve()
        self.as_root = os.geteuid() == 0
        self.home = self._home()
        self.data = self.home / "data"
        self.run = self.home / "run"
        self.log = self.home / "server.log"

    # -- location and identity -------------------------------------------------------------------
    def _home(self) -> Path:
        """Where the cluster lives: root/pg, or a system dir when the unprivileged user can't reach it."""
        home = self.root / "pg"
        if not self.as_root or self._reachable(self.root):
            return home
        digest = hashlib.sha1(str(home).encode()).hexdigest()[:12]
        return FALLBACK_ROOT / digest

    def _reachable(self, path: Path) -> bool:
        """Whether the unprivileged system user can traverse every parent of path."""
        try:
            pw = pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            return False
        for parent in [path, *path.parents]:
            if not parent.exists():
                continue
            st = parent.stat()
            if st.st_uid == pw.pw_uid:
                continue
            if not st.st_mode & 0o001:
                return False
        return True

    def _cmd(self, *args: str) -> list[str]:
        """A command line run as the cluster's owner."""
        if self.as_root:
            return ["runuser", "-u", SYSTEM_USER, "--", *args]
        return list(args)

    def _chown(self, path: Path) -> None:
        if self.as_root:
            pw = pwd.getpwnam(SYSTEM_USER)
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def _run(self, *args: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(self._cmd(*args), capture_output=True, text=True, check=check, input=input)

    # -- state ---------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        """The cluster's port (fixed at init)."""
        return int((self.home / "port").read_text())

    @property
    def password(self) -> str:
        """The application user's password (var/, mode 600)."""
        return (self.home / "password").read_text().strip()

    @property
    def public_password(self) -> str:
        """The public role's password (var/, mode 600)."""
        return (self.home / "public_password").read_text().strip()

    def public_url(self) -> str:
        """Connection URL for the read-only public role (TCP, loopback)."""
        return f"postgresql://{self.public_role}:{self.public_password}@127.0.0.1:{self.port}/{self.dbname}"

    def initialized(self) -> bool:
        """True once initdb and the bootstrap have run."""
        return (self.home / "bootstrapped").exists()

    def is_running(self) -> bool:
        """True when the postmaster of this data directory is up."""
        if not (self.data / "PG_VERSION").exists():
            return False
        r = self._run(str(find_pg_bin() / "pg_ctl"), "-D", str(self.data), "status", check=False)
        return r.returncode == 0

    def url(self) -> str:
        """Connection URL for the application user (TCP, loopback)."""
        if not self.initialized():
            raise DatabaseUnavailable("the embedded database is not initialised: run `gis db start`")
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{self.dbname}"

    def status(self) -> dict[str, object]:
        """A short status for `gis db status` and /health."""
        return {
            "initialized": self.initialized(),
            "running": self.is_running(),
            "data_dir": str(self.data),
            "port": self.port if (self.home / "port").exists() else None,
        }

    # -- lifecycle -------------------------------------------------------------------------------
    def _initdb(self, bindir: Path) -> None:
        if self.as_root:
            try:
                pwd.getpwnam(SYSTEM_USER)
            except KeyError as e:
                raise DatabaseUnavailable(
                    f"running as root needs the unprivileged OS user '{SYSTEM_USER}' "
                    "(it comes with the postgresql-common package)"
                ) from e
        for d in (self.home.parent, self.home):
            d.mkdir(parents=True, exist_ok=True)
        self._chown(self.home)
        self.home.chmod(0o700)
        (self.home / "port").write_text(str(_free_port(self.preferred_port)))
        pw_file = self.home / "password"
        pw_file.write_text(secrets.token_urlsafe(24))
        pw_file.chmod(0o600)
        if self.data.exists() and not (self.data / "PG_VERSION").exists():
            shutil.rmtree(self.data)
        if not (self.data / "PG_VERSION").exists():
            r = self._run(
                str(bindir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                check=False,
            )
            if r.returncode != 0:
                raise DatabaseUnavailable(f"initdb failed: {r.stderr.strip()[-400:]}")
        self.run.mkdir(exist_ok=True)
        self._chown(self.run)
        self.run.chmod(0o700)  # only the owner reaches the socket, so local trust auth stays private
        conf = self.data / "postgresql.auto.conf"
        conf.write_text(
            "# written by gis.db.embedded\n"
            "listen_addresses = '127.0.0.1'\n"
            f"port = {self.port}\n"
            f"unix_socket_directories = '{self.run}'\n"
            "shared_buffers = 256MB\n"
            "work_mem = 16MB\n"
            "max_connections = 100\n"
            "jit = off\n"
            "random_page_cost = 1.1\n"
        )
        self._chown(conf)

    def _bootstrap(self, bindir: Path) -> None:
        """Create the application role, database, PostGIS and the public read role."""
        sql = f"""
        DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{self.user}') THEN
            CREATE ROLE {self.user} LOGIN CREATEROLE;
          END IF;
        END $$;
        ALTER ROLE {self.user} PASSWORD '{self.password}';
        """
        self.psql("postgres", sql)
        self._public_login()
        r = self.psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{self.dbname}'")
        if "1" not in r:
            self.psql("postgres", f"CREATE DATABASE {self.dbname} OWNER {self.user}")
        self.psql(self.dbname, "CREATE EXTENSION IF NOT EXISTS postgis")
        (self.home / "bootstrapped").write_text("ok\n")

    def _public_login(self) -> None:
        """The public role logs in with its own password; clusters made before it existed get it here."""
        pw_file = self.home / "public_password"
        if not pw_file.exists():
            pw_file.write_text(secrets.token_urlsafe(24))
            pw_file.chmod(0o600)
        role = self.public_role
        self.psql(
            "postgres",
            f"""
            DO $$ BEGIN
              IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
                CREATE ROLE {role} LOGIN;
              END IF;
            END $$;
            ALTER ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD '{self.public_password}';
            GRANT {role} TO {self.user};
            """,
        )
        (self.home / "public_login").write_text(role + "\n")

    def psql(self, db: str, sql: str) -> str:
        """Run SQL as the superuser over the private socket; returns stdout."""
        bindir = find_pg_bin()
        r = self._run(
            str(bindir / "psql"),
            "-X",
            "-q",
            "-t",
            "-A",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            str(self.run),
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            db,
            check=False,
            input=sql,
        )
        if r.returncode != 0:
            raise DatabaseUnavailable(f"embedded database setup failed: {r.stderr.strip()[-400:]}")
        return r.stdout

    def start(self, timeout: float = 60) -> bool:
        """Initialise if needed and start; returns True when this call started the server."""
        bindir = find_pg_bin()
        if not (self.data / "PG_VERSION").exists() or not (self.home / "port").exists():
            self._initdb(bindir)
        if self.is_running():
            if not self.initialized():
                self._bootstrap(bindir)
            self._check_public_login()
            return False
        pg_ctl_start(self._run, bindir, self.data, self.log, timeout, "the embedded database")
        self._wait(timeout)
        if not self.initialized():
            self._bootstrap(bindir)
        self._check_public_login()
        return True

    def _check_public_login(self) -> None:
        marker = self.home / "public_login"
        if not marker.exists() or marker.read_text().strip() != self.public_role:
            self._public_login()

    def _wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise DatabaseUnavailable("the embedded database did not accept connections in time")

    def stop(self) -> bool:
        """Fast shutdown; returns True when a running server was stopped."""
        if not self.is_running():
            return False
        self._run(str(find_pg_bin() / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)
        return True

    def destroy(self) -> None:
        """Stop and delete the cluster (tests)."""
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)
