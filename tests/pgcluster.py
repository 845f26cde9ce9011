"""A throwaway PostgreSQL + PostGIS cluster for the store tests, CI and ``benchmarks/store.py``.

    from pgcluster import Cluster
    with Cluster() as pg:                 # initdb + start on a free 127.0.0.1 port, in a temp dir
        url = pg.new_database("t1")      # a fresh database with PostGIS, as the superuser
        pg.create_login("alice", "secret")

PostgreSQL refuses to run as root, so when run as root the server runs as the ``postgres``
system user (created by Debian's ``postgresql`` package) in a temp dir owned by it. Host
connections need a password (scram-sha-256) except the superuser's from 127.0.0.1, so the
tests exercise libpq's ``.pgpass``. ``python tests/pgcluster.py`` starts one, prints its URL
and waits (Ctrl-C stops and removes it); ``--check`` starts, checks PostGIS and stops.
Debian packages needed: ``postgresql postgis`` (`.ci/run` installs them).
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["Cluster", "find_bindir", "unavailable_reason"]


def find_bindir() -> Path | None:
    env = os.environ.get("PG_BINDIR")
    if env and (Path(env) / "initdb").exists():
        return Path(env)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    exe = shutil.which("initdb")
    return Path(exe).resolve().parent if exe else None


def _has_postgis(bindir: Path) -> bool:
    try:
        share = subprocess.run([str(bindir / "pg_config"), "--sharedir"], capture_output=True,
                               text=True, timeout=30).stdout.strip()
    except OSError:
        share = ""
    if not share:
        ver = bindir.parent.name
        share = f"/usr/share/postgresql/{ver}"
    return bool(glob.glob(f"{share}/extension/postgis.control"))


def unavailable_reason() -> str | None:
    """Why no cluster can be started here (None if it can)."""
    bindir = find_bindir()
    if bindir is None:
        return "PostgreSQL server binaries not found (Debian: apt-get install postgresql postgis)"
    if not _has_postgis(bindir):
        return "PostGIS extension not installed (Debian: apt-get install postgis)"
    if os.geteuid() == 0:
        import pwd
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run the server"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, *, fsync: bool = True):
        reason = unavailable_reason()
        if reason:
            raise RuntimeError(reason)
        self.bindir = find_bindir()
        self.fsync = fsync
        self.dir = Path(tempfile.mkdtemp(prefix="planatlas-pg-"))
        self.data = self.dir / "data"
        self.port = _free_port()
        self.running = False
        self._uid = self._gid = None
        if os.geteuid() == 0:
            import pwd
            pw = pwd.getpwnam("postgres")
            self._uid, self._gid = pw.pw_uid, pw.pw_gid
            os.chown(self.dir, self._uid, self._gid)
        os.chmod(self.dir, 0o755)

    # ------------------------------------------------------------------ process control
    def _demote(self):
        if self._uid is not None:
            os.setgroups([])
            os.setgid(self._gid)
            os.setuid(self._uid)

    def _run(self, *args: str, timeout: int = 180) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(LC_ALL="C", HOME=str(self.dir))
        out = subprocess.run([str(self.bindir / args[0]), *args[1:]], capture_output=True, text=True,
                             timeout=timeout, preexec_fn=self._demote, env=env, cwd=str(self.dir))
        if out.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({out.returncode}): {out.stderr.strip()[-2000:]}")
        return out

    def start(self) -> "Cluster":
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")
        (self.data / "pg_hba.conf").write_text(
            "local all all trust\n"
            "host all postgres 127.0.0.1/32 trust\n"
            "host all all 127.0.0.1/32 scram-sha-256\n")
        with open(self.data / "postgresql.conf", "a") as fh:
            fh.write(f"\nlisten_addresses = '127.0.0.1'\nport = {self.port}\n"
                     f"unix_socket_directories = '{self.dir}'\nmax_connections = 120\n"
                     f"shared_buffers = 64MB\nfsync = {'on' if self.fsync else 'off'}\n"
                     "password_encryption = 'scram-sha-256'\n")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "server.log"), "-w", "-t", "120", "start")
        self.running = True
        self.sql("CREATE DATABASE planatlas_template")
        self.sql("CREATE EXTENSION postgis", db="planatlas_template")
        return self

    def stop(self) -> None:
        if self.running:
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", timeout=60)
            except (RuntimeError, subprocess.TimeoutExpired):
                pass
            self.running = False
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "Cluster":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------------ helpers
    def url(self, db: str = "postgres", user: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{db}"

    def sql(self, statement: str, db: str = "postgres", params=None) -> list:
        import psycopg

        with psycopg.connect(self.url(db), autocommit=True) as con, con.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall() if cur.description else []

    def new_database(self, name: str) -> str:
        """A fresh database with PostGIS installed (owned by the superuser); returns its URL."""
        self.sql(f'CREATE DATABASE "{name}" TEMPLATE planatlas_template')
        return self.url(name)

    def create_login(self, name: str, password: str) -> None:
        from psycopg import sql as q
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as con, con.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
            if cur.fetchone():
                cur.execute(q.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(q.Identifier(name), q.Literal(password)))
            else:
                cur.execute(q.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(q.Identifier(name), q.Literal(password)))


if __name__ == "__main__":
    if "--check" in sys.argv:
        with Cluster() as pg:
            v = pg.sql("SELECT postgis_full_version()", db="planatlas_template")[0][0]
            print(f"ok: PostgreSQL at {pg.url()} with {v.split()[0]} {v.split()[1]}")
        sys.exit(0)
    with Cluster() as pg:
        print(pg.url("planatlas_template").rsplit("/", 1)[0] + "/postgres", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


class TcpProxy:
    """A 127.0.0.1 TCP forwarder to ``port`` that can be cut and restored — a server that goes
    away and comes back, as a field team's laptop sees it."""

    def __init__(self, port: int):
        import threading

        self.target = port
        self.port = _free_port()
        self._threads: list = []
        self._conns: list = []
        self._lock = threading.Lock()
        self._server = None
        self.up()

    def up(self) -> None:
        import threading

        srv = socket.socket()
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", self.port))
        srv.listen(64)
        self._server = srv
        t = threading.Thread(target=self._accept, args=(srv,), daemon=True)
        t.start()

    def _accept(self, srv) -> None:
        import threading

        while True:
            try:
                client, _ = srv.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a, b) -> None:
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def down(self) -> None:
        """Refuse new connections and cut the open ones."""
        if self._server is not None:
            try:
                self._server.shutdown(socket.SHUT_RDWR)      # wakes the blocked accept()
            except OSError:
                pass
            self._server.close()
            self._server = None
        with self._lock:
            for c in self._conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                    c.close()
                except OSError:
                    pass
            self._conns.clear()
