"""A local streaming hot-standby replica of the embedded cluster: pg_basebackup, its own loopback port.

The replica lives next to the primary's home (`var/pg-replica/`, or `<hash>-replica` beside a system-dir primary),
runs as the same OS user, follows the primary over its private unix socket (local `trust`, replication included)
through a physical replication slot, and serves read-only queries on 127.0.0.1. Roles replicate physically, so the
public role logs in there with the primary's public password.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from gis.db.embedded import EmbeddedPostgres, _free_port, find_pg_bin, pg_ctl_start
from gis.errors import DatabaseUnavailable

SLOT = "gis_replica"
APP_NAME = "gis_replica"  # the walreceiver's application_name, how pg_stat_replication names this replica
# A stopped replica keeps its slot's WAL on the primary; past this much the slot is given up (and rebuilt on start).
SLOT_WAL_LIMIT = "1GB"
# Settings the copied primary configuration must not keep: the replica has its own port and socket.
OWN_SETTINGS = (
    "port",
    "unix_socket_directories",
    "listen_addresses",
    "hot_standby",
    "primary_conninfo",
    "primary_slot_name",
)


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass
class EmbeddedReplica:
    """A hot standby of an EmbeddedPostgres: `start()`, `stop()`, `status()`, `url()`, `destroy()`."""

    primary: EmbeddedPostgres
    preferred_port: int = 54341
    home: Path = field(init=False)

    def __post_init__(self) -> None:
        self.home = self.primary.home.with_name(self.primary.home.name + "-replica")
        self.data = self.home / "data"
        self.run = self.home / "run"
        self.log = self.home / "server.log"

    # -- state ---------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        """The replica's port (chosen again on each start when the old one is taken)."""
        return int((self.home / "port").read_text())

    def exists(self) -> bool:
        """True once a base backup has been taken."""
        return (self.data / "standby.signal").exists() and (self.home / "system_id").exists()

    def is_running(self) -> bool:
        """True when the replica's postmaster is up."""
        if not (self.data / "PG_VERSION").exists():
            return False
        r = self.primary._run(str(find_pg_bin() / "pg_ctl"), "-D", str(self.data), "status", check=False)
        return r.returncode == 0

    def url(self, user: str, password: str) -> str:
        """Connection URL on the replica (TCP, loopback) for a role of the primary."""
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{self.primary.dbname}"

    def public_url(self) -> str:
        """The read URL for public requests: the primary's public role and password, the replica's port."""
        return self.url(self.primary.public_role, self.primary.public_password)

    def psql(self, db: str, sql: str) -> str:
        """Run SQL as the superuser over the replica's private socket (read-only, plus replay control)."""
        return _psql(self.primary, self.run, self.port, db, sql)

    def status(self) -> dict[str, object]:
        """Running or not, port, data dir, and how far replay is behind the primary."""
        running = self.is_running()
        info: dict[str, object] = {
            "running": running,
            "port": self.port if (self.home / "port").exists() else None,
            "data_dir": str(self.data),
        }
        if running:
            row = self.psql(
                "postgres",
                "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn(), pg_is_wal_replay_paused(), "
                "coalesce(round(extract(epoch FROM now() - pg_last_xact_replay_timestamp()))::text, '')",
            ).strip()
            recovery, replayed, paused, last = (row.split("|") + ["", "", "", ""])[:4]
            info.update(hot_standby=recovery == "t", replayed_lsn=replayed, replay_paused=paused == "t")
            info["last_replayed_commit_s_ago"] = int(last) if last else None
        if self.primary.is_running():
            row = self.primary.psql(
                "postgres",
                "SELECT state, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint, "
                "coalesce(extract(epoch FROM replay_lag)::text, '0') "
                f"FROM pg_stat_replication WHERE application_name = '{APP_NAME}'",
            ).strip()
            if row:
                state, lag_bytes, lag_s = row.split("\n")[0].split("|")
                info.update(streaming=state, lag_bytes=int(lag_bytes or 0), replay_lag_s=float(lag_s or 0))
            else:
                info["streaming"] = "not connected"
        return info

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self, timeout: float = 120) -> bool:
        """Base-backup when needed, then start the standby; returns True when this call started it."""
        primary = self.primary
        if not primary.initialized() or not primary.is_running():
            raise DatabaseUnavailable("the embedded primary is not running: start it with `gis db start`")
        bindir = find_pg_bin()
        self._prepare_primary()
        if self.is_running():
            return False
        if not self._usable():
            self._basebackup(bindir)
        (self.home / "port").write_text(str(_free_port(self._saved_port())))
        self._configure()
        pg_ctl_start(primary._run, bindir, self.data, self.log, timeout, "the replica")
        self._wait_streaming(timeout)
        return True

    def stop(self) -> bool:
        """Fast shutdown; returns True when a running replica was stopped (its slot keeps WAL for a restart)."""
        if not self.is_running():
            return False
        self.primary._run(str(find_pg_bin() / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)
        return True

    def destroy(self) -> None:
        """Stop, drop the slot on the primary (so it stops keeping WAL) and delete the replica's files."""
        self.stop()
        if self.primary.is_running():
            self._drop_slot()
        shutil.rmtree(self.home, ignore_errors=True)

    # -- internals -------------------------------------------------------------------------------
    def _saved_port(self) -> int:
        with contextlib.suppress(OSError, ValueError):
            return self.port
        return self.preferred_port

    def _prepare_primary(self) -> None:
        """The primary must stream WAL to a local replication login and bound what a stopped replica's slot keeps."""
        p = self.primary
        settings = p.psql("postgres", "SELECT current_setting('wal_level'), current_setting('max_slot_wal_keep_size')")
        wal_level, keep = settings.strip().split("|")
        if wal_level not in ("replica", "logical"):
            raise DatabaseUnavailable(f"the primary runs with wal_level={wal_level}: set it to replica and restart")
        rules = p.psql(
            "postgres",
            "SELECT count(*) FROM pg_hba_file_rules WHERE type = 'local' AND auth_method = 'trust' "
            "AND database && ARRAY['replication'] AND user_name && ARRAY['all', 'postgres']",
        )
        reload = False
        if int(rules.strip() or 0) == 0:
            with (p.data / "pg_hba.conf").open("a") as f:
                f.write("\n# added by gis.db.replica: the local replica streams over the private socket\n")
                f.write("local   replication     postgres                                trust\n")
            reload = True
        if keep.strip() == "-1":
            p.psql("postgres", f"ALTER SYSTEM SET max_slot_wal_keep_size = {_quote(SLOT_WAL_LIMIT)}")
            reload = True
        if reload:
            p.psql("postgres", "SELECT pg_reload_conf()")

    def _system_id(self) -> str:
        return self.primary.psql("postgres", "SELECT system_identifier FROM pg_control_system()").strip()

    def _usable(self) -> bool:
        """A base backup exists, of this primary, and its slot still holds the WAL it needs."""
        if not self.exists() or (self.home / "system_id").read_text().strip() != self._system_id():
            return False
        state = self.primary.psql(
            "postgres", f"SELECT wal_status FROM pg_replication_slots WHERE slot_name = '{SLOT}'"
        ).strip()
        return state not in ("", "lost")

    def _drop_slot(self) -> None:
        with contextlib.suppress(DatabaseUnavailable):
            self.primary.psql(
                "postgres",
                f"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                f"WHERE slot_name = '{SLOT}' AND NOT active",
            )

    def _basebackup(self, bindir: Path) -> None:
        p = self.primary
        shutil.rmtree(self.home, ignore_errors=True)
        self.home.mkdir(parents=True)
        p._chown(self.home)
        self.home.chmod(0o700)
        self.run.mkdir()
        p._chown(self.run)
        self.run.chmod(0o700)  # only the owner reaches the socket, where the superuser logs in without a password
        self._drop_slot()
        system_id = self._system_id()
        r = p._run(
            str(bindir / "pg_basebackup"),
            "-D",
            str(self.data),
            "-h",
            str(p.run),
            "-p",
            str(p.port),
            "-U",
            "postgres",
            "-w",
            "-X",
            "stream",
            "-c",
            "fast",
            "-C",
            "-S",
            SLOT,
            check=False,
        )
        if r.returncode != 0:
            raise DatabaseUnavailable(f"pg_basebackup failed: {r.stderr.strip()[-400:]}")
        (self.home / "system_id").write_text(system_id + "\n")

    def _configure(self) -> None:
        """The copied primary settings (a hot standby needs at least the primary's limits), own port and socket."""
        conf = self.data / "postgresql.auto.conf"
        kept = [
            line
            for line in conf.read_text().splitlines()
            if line.split("=", 1)[0].strip() not in OWN_SETTINGS and not line.startswith("#")
        ]
        primary = f"host={self.primary.run} port={self.primary.port} user=postgres application_name={APP_NAME}"
        own = [
            "# written by gis.db.replica",
            *kept,
            "listen_addresses = '127.0.0.1'",
            f"port = {self.port}",
            f"unix_socket_directories = {_quote(str(self.run))}",
            "hot_standby = on",
            f"primary_conninfo = {_quote(primary)}",
            f"primary_slot_name = {_quote(SLOT)}",
        ]
        conf.write_text("\n".join(own) + "\n")
        self.primary._chown(conf)
        signal = self.data / "standby.signal"
        signal.touch()
        self.primary._chown(signal)

    def _wait_streaming(self, timeout: float) -> None:
        """Wait until the primary sees the replica's walreceiver (reads then follow the primary)."""
        deadline = time.monotonic() + timeout
        sql = f"SELECT count(*) FROM pg_stat_replication WHERE application_name = '{APP_NAME}' AND state = 'streaming'"
        while time.monotonic() < deadline:
            if self.primary.psql("postgres", sql).strip() not in ("", "0"):
                return
            time.sleep(0.1)
        raise DatabaseUnavailable(f"the replica started but does not stream from the primary (see {self.log})")


def _psql(primary: EmbeddedPostgres, socket_dir: Path, port: int, db: str, sql: str) -> str:
    """psql as the superuser over a socket of this OS user's clusters."""
    r = primary._run(
        str(find_pg_bin() / "psql"),
        "-X",
        "-q",
        "-t",
        "-A",
        "-v",
        "ON_ERROR_STOP=1",
        "-h",
        str(socket_dir),
        "-p",
        str(port),
        "-U",
        "postgres",
        "-d",
        db,
        check=False,
        input=sql,
    )
    if r.returncode != 0:
        raise DatabaseUnavailable(f"replica query failed: {r.stderr.strip()[-400:]}")
    return r.stdout
