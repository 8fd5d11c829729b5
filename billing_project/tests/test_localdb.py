"""make run's database bootstrap: create-if-missing on a server, and the embedded PostgreSQL's
start, reuse, stop and restart on the same data."""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from django.conf import settings

from billing_project import localdb
from billing_project.localdb import ROOT, LocalDbError


def _server_url(name: str, password: str | None = None) -> str:
    db = settings.DATABASES["default"]
    password = password or db.get("PASSWORD")
    secret = f":{password}" if password else ""
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{db['USER'] or 'root'}{secret}@{host}/{name}"


def _with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.username}:{password}@{parts.hostname}:{parts.port}"
    return parts._replace(netloc=netloc).geturl()


def _drop(url: str, name: str) -> None:
    params = localdb._connect_params(url)
    params.pop("dbname")
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_ensure_database_creates_a_missing_database_once():
    name = f"lvb_localdb_{uuid.uuid4().hex[:10]}"
    url = _server_url(name)
    try:
        assert localdb.ensure_database(url) is True
        assert localdb.ensure_database(url) is False
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == (name,)
    finally:
        _drop(url, name)


def test_ensure_command_prints_the_database_without_its_password(capsys, monkeypatch):
    name = f"lvb_localdb_{uuid.uuid4().hex[:10]}"
    url = _server_url(name)
    # A trusting server (the machine's) ignores a password it did not ask for.
    if not settings.DATABASES["default"].get("PASSWORD"):
        url = _with_password(url, "secret")
    monkeypatch.setenv("DATABASE_URL", url)
    try:
        assert localdb.main(["localdb", "ensure"]) == 0
    finally:
        _drop(url, name)
    err = capsys.readouterr().err
    assert f"/{name} (created)" in err
    assert "secret" not in err or settings.DATABASES["default"].get("PASSWORD")


def test_ensure_database_errors_are_one_line():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    with pytest.raises(LocalDbError, match="cannot reach the server"):
        localdb.ensure_database(f"postgres://root@127.0.0.1:{closed}/x")
    with pytest.raises(LocalDbError, match="PostgreSQL"):
        localdb.ensure_database("sqlite:////tmp/x.sqlite3")
    with pytest.raises(LocalDbError, match="no database"):
        localdb.ensure_database("postgres://root@127.0.0.1:5432/")


def test_redact_hides_only_the_password():
    assert localdb.redact("postgres://u:pw@h:1/d") == "postgres://u:***@h:1/d"
    assert localdb.redact("postgres://u@h:1/d") == "postgres://u@h:1/d"


def test_embedded_url_reads_the_url_file(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBEDDED_PG_DIR", str(tmp_path / "pg"))
    assert localdb.embedded_url() is None
    (tmp_path / "pg").mkdir()
    (tmp_path / "pg" / "url").write_text("postgres://leanvibe:x@127.0.0.1:5999/leanvibe_billing\n")
    assert localdb.embedded_url() == "postgres://leanvibe:x@127.0.0.1:5999/leanvibe_billing"


@pytest.mark.slow
def test_embedded_server_starts_is_reused_stops_and_keeps_its_data(tmp_path, monkeypatch):
    root = tmp_path / "pg"
    monkeypatch.delenv("EMBEDDED_PG_PORT", raising=False)
    first = localdb.start(root)
    try:
        assert first.started
        assert (root / "data" / "PG_VERSION").read_text().strip() == "18"
        if os.geteuid() == 0:  # PostgreSQL refuses root: the cluster belongs to another user
            assert (root / "data").stat().st_uid != 0
        with psycopg.connect(first.url, autocommit=True) as conn:
            assert conn.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
            conn.execute("CREATE TABLE kept (n int)")
            conn.execute("INSERT INTO kept VALUES (42)")
        again = localdb.start(root)
        assert not again.started
        assert again.url == first.url
        assert (root / "url").read_text().strip() == first.url
        assert (root / "url").stat().st_mode & 0o077 == 0
    finally:
        assert localdb.stop(root) is True
    assert localdb.running_port(root / "data") is None
    assert localdb.stop(root) is False
    restarted = localdb.start(root)
    try:
        assert restarted.started
        assert restarted.port == first.port  # the last port, still free
        with psycopg.connect(restarted.url) as conn:
            assert conn.execute("SELECT n FROM kept").fetchone() == (42,)
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(_with_password(restarted.url, "wrong"))
    finally:
        localdb.stop(root)


@pytest.mark.slow
def test_embedded_server_takes_the_configured_port_and_says_when_it_is_taken(tmp_path, monkeypatch):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        monkeypatch.setenv("EMBEDDED_PG_PORT", str(busy.getsockname()[1]))
        with pytest.raises(LocalDbError, match="in use: set EMBEDDED_PG_PORT"):
            localdb.start(tmp_path / "pg")
    port = localdb.free_port()
    monkeypatch.setenv("EMBEDDED_PG_PORT", str(port))
    try:
        assert localdb.start(tmp_path / "pg").port == port
    finally:
        localdb.stop(tmp_path / "pg")


def test_settings_default_to_the_embedded_url_and_production_requires_database_url(tmp_path):
    (tmp_path / "url").write_text("postgres://leanvibe:pw@127.0.0.1:5999/leanvibe_billing\n")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        EMBEDDED_PG_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="billing_project.settings.local"
    )
    code = (
        "from django.conf import settings as s; "
        "d = s.DATABASES['default']; print(d['PORT'], d['NAME'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["5999", "leanvibe_billing"]
    env.update(
        DJANGO_SETTINGS_MODULE="billing_project.settings.production",
        SECRET_KEY="localdb-test-key-" + "q7Wz3" * 8,  # strong enough for production
        ALLOWED_HOSTS="billing.example",
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode != 0
    assert "Set the DATABASE_URL environment variable" in out.stderr


@pytest.mark.slow
def test_embedded_server_as_an_ordinary_user():
    """The non-root path (initdb and pg_ctl run directly), as `nobody` when the suite is root."""
    if os.geteuid() != 0:
        pytest.skip("already covered: the suite runs as an ordinary user")
    as_nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]
    reach = subprocess.run([*as_nobody, sys.executable, "-c", "import billing_project"],
                           cwd=ROOT, capture_output=True)  # fmt: skip
    if reach.returncode != 0:
        pytest.skip("nobody cannot reach this checkout (e.g. under /root)")
    # pytest's tmp_path sits under a folder only root may enter.
    home = Path(tempfile.mkdtemp(prefix="lvb-localdb-nobody-"))
    os.chown(home, *_uid_gid("nobody"))
    env = {**os.environ, "EMBEDDED_PG_DIR": str(home / "pg"), "HOME": str(home)}
    env.pop("EMBEDDED_PG_PORT", None)

    def localdb_cli(command: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*as_nobody, sys.executable, "-m", "billing_project.localdb", command],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    started = localdb_cli("start")
    assert started.returncode == 0, started.stderr
    try:
        assert (home / "pg" / "data").stat().st_uid == _uid_gid("nobody")[0]
        with psycopg.connect(started.stdout.strip()) as conn:
            assert conn.execute("SELECT current_user").fetchone() == ("leanvibe",)
    finally:
        stopped = localdb_cli("stop")
        shutil.rmtree(home, ignore_errors=True)
    assert stopped.returncode == 0, stopped.stderr
    assert "stopped" in stopped.stderr


def _uid_gid(name: str) -> tuple[int, int]:
    import pwd

    entry = pwd.getpwnam(name)
    return entry.pw_uid, entry.pw_gid
