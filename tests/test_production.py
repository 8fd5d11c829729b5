"""The production recipe (issue 17 part 5): production settings refuse insecure starts and pass
`check --deploy`; `/ready` checks the database and the broker; `scripts/start_production.sh`
(gunicorn + Celery worker + beat) bills a tenant end to end over HTTP.

Every server a test needs (a Redis, the recipe itself) is private, on a free port, and stopped
by the test; the machine's shared services are never touched.
"""

import json
import os
import re
import runpy
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

import environ
import psycopg
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.utils import load_backend
from django.test import override_settings
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parent.parent
GOOD_KEY = "prod-test-key-" + "k3Y9xQ" * 8
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "billing_project.settings.production",
    "SECRET_KEY": GOOD_KEY,
    "ALLOWED_HOSTS": "billing.example.com",
    "DEBUG": "false",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """A redis-server of our own on a free port (no persistence), stopped by `stop()`."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no", "--daemonize", "no", "--logfile", ""],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def private_redis():
    server = PrivateRedis()
    yield server
    server.stop()


# --- production settings ----------------------------------------------------------------------


def load_production(monkeypatch, **env) -> dict:
    for name, value in {**PRODUCTION_ENV, **env}.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    return runpy.run_module("billing_project.settings.production")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "true"}, "DEBUG is on"),
        ({"DEBUG": "1"}, "DEBUG is on"),
        ({"SECRET_KEY": None}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": ""}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": "short-but-random-Zq81"}, "too weak"),
        ({"SECRET_KEY": "ab" * 40}, "too weak"),
        ({"SECRET_KEY": "dev-only-insecure-key-change-me-please-0123456789"}, "default"),
        ({"SECRET_KEY": "django-insecure-" + "x9Yq2" * 10}, "default"),
        ({"SECRET_KEY": "test-secret-key-not-for-production-0123456789abcdef"}, "default"),
    ],
)
def test_production_settings_refuse_insecure_starts(monkeypatch, env, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        load_production(monkeypatch, **env)


def test_production_settings_with_a_strong_key(monkeypatch):
    loaded = load_production(monkeypatch)
    assert loaded["DEBUG"] is False and loaded["SECRET_KEY"] == GOOD_KEY
    assert loaded["ALLOWED_HOSTS"] == ["billing.example.com"]
    middleware = loaded["MIDDLEWARE"]
    security = middleware.index("django.middleware.security.SecurityMiddleware")
    assert middleware[security + 1] == "whitenoise.middleware.WhiteNoiseMiddleware"
    assert loaded["LOGGING"]["handlers"]["console"]["formatter"] == "json"
    # Probes reach /health and /ready over plain HTTP.
    assert loaded["SECURE_REDIRECT_EXEMPT"] == [r"^health$", r"^ready$", r"^metrics$"]


def test_production_settings_require_allowed_hosts(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="ALLOWED_HOSTS"):
        load_production(monkeypatch, ALLOWED_HOSTS=None)


def run_manage(*args, env: dict, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_check_deploy_is_clean_under_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_manage_py_refuses_to_start_with_debug_on():
    result = run_manage("check", env={**PRODUCTION_ENV, "DEBUG": "true"})
    assert result.returncode != 0
    assert "DEBUG is on" in result.stderr


# --- /ready ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_ready_checks_the_broker(client, private_redis):
    with override_settings(CELERY_BROKER_URL=private_redis.url):
        response = client.get("/ready")
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}
        private_redis.stop()
        response = client.get("/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("down: ")


@pytest.mark.django_db
def test_ready_without_a_broker_is_in_process(client):
    with override_settings(CELERY_BROKER_URL=""):
        response = client.get("/ready")
    assert response.status_code == 200
    assert response.json()["checks"]["broker"] == "in-process"


def test_ready_is_503_when_the_database_does_not_answer(client, django_db_blocker, private_redis):
    """`default` replaced by a connection to a port where nothing listens (the shared server is
    never stopped); the broker answers, the database does not: 503."""
    broken_settings = {**connections.settings["default"], "PORT": str(free_port())}
    broken_settings["OPTIONS"] = {**broken_settings.get("OPTIONS", {}), "connect_timeout": 2}
    broken = load_backend(broken_settings["ENGINE"]).DatabaseWrapper(broken_settings, "default")
    original = connections["default"]
    connections["default"] = broken
    try:
        with django_db_blocker.unblock(), override_settings(CELERY_BROKER_URL=private_redis.url):
            response = client.get("/ready")
    finally:
        connections["default"] = original
        broken.close()
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"].startswith("down: ") and checks["broker"] == "ok"


# --- the recipe, end to end --------------------------------------------------------------------


def base_database() -> dict:
    url = os.environ.get("DATABASE_URL", "postgres://root@127.0.0.1:5432/leanvibe_billing")
    return environ.Env.db_url_config(url)


class Api:
    def __init__(self, base: str, token: str):
        self.base = base
        self.token = token

    def call(self, method: str, path: str, body=None, *, auth: bool = True):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.base}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if auth:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def json(self, method: str, path: str, body=None, expect: int = 200):
        status, content = self.call(method, f"/api/v1/billing/{path}", body)
        assert status == expect, (method, path, status, content[:2000])
        return json.loads(content)


@pytest.fixture
def recipe_database(django_db_setup):
    """A database of its own, cloned from the suite's migrated template, dropped afterwards."""
    import conftest

    db = base_database()
    template = f"{db['NAME']}_tmpl_{conftest._migrations_hash()}"
    name = f"{db['NAME']}_recipe_{os.getpid()}"
    admin = {"dbname": "postgres", "user": db.get("USER") or None}
    admin.update({"host": db.get("HOST") or None, "port": db.get("PORT") or None})
    if db.get("PASSWORD"):
        admin["password"] = db["PASSWORD"]
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    user = db.get("USER") or "root"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    yield f"postgres://{user}{password}@{host}:{db.get('PORT') or 5432}/{name}"
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Output:
    """Collects a process's output lines on a thread, so the test can wait for one."""

    def __init__(self, proc):
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(proc.stdout,), daemon=True)
        self.thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, proc, pattern: str, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            while seen < len(self.lines):
                if match := re.search(pattern, self.lines[seen]):
                    return match
                seen += 1
            if proc.poll() is not None and not self.thread.is_alive():
                break
            time.sleep(0.1)
        tail = "\n".join(self.lines[-60:])
        raise AssertionError(f"no {pattern!r} within {timeout} s:\n{tail}")

    def close(self) -> list[str]:
        self.thread.join(timeout=30)
        return self.lines


def test_gunicorn_preloads_the_app_and_spreads_worker_recycling(monkeypatch):
    # Each worker importing Django itself when recycled, all at about the same request count,
    # stalled `ab -n 1000 -c 50` for seconds (bench/README.md, issue 17).
    monkeypatch.delenv("GUNICORN_PRELOAD", raising=False)
    monkeypatch.delenv("GUNICORN_MAX_REQUESTS", raising=False)
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert config["preload_app"] is True
    assert config["max_requests"] == 1000 and config["max_requests_jitter"] == 500
    monkeypatch.setenv("GUNICORN_PRELOAD", "false")
    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["preload_app"] is False
    # The master loads the app before forking: it must hold no connection its workers would
    # share (database, cache, broker).
    probe = (
        "import os, billing_project.wsgi\n"
        "sockets = []\n"
        "for fd in os.listdir('/proc/self/fd'):\n"
        "    try:\n"
        "        target = os.readlink(f'/proc/self/fd/{fd}')\n"
        "    except FileNotFoundError:\n"
        "        continue  # listdir's own descriptor\n"
        "    if target.startswith('socket:'):\n"
        "        sockets.append(target)\n"
        "print(sockets)\n"
    )
    result = run_manage("shell", "--no-imports", "-c", probe, env=PRODUCTION_ENV)
    assert result.stdout.strip() == "[]", result.stderr


@pytest.mark.slow
def test_start_production_bills_a_tenant_end_to_end(recipe_database, private_redis, tmp_path):
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))},
        "DATABASE_URL": recipe_database,
        "REDIS_URL": private_redis.url,
        "PORT": str(port),
        "SECRET_KEY": GOOD_KEY,
        "STATIC_ROOT": str(tmp_path / "static"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "RUN_DIR": str(tmp_path / "run"),
        "WEB_CONCURRENCY": "2",
        "CELERY_CONCURRENCY": "1",
        "EMAIL_URL": "consolemail://",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
        # Workers recycled every 4-6 requests, forked from the preloaded master: the counters
        # below still sum every worker that ever served, and nothing answers an error meanwhile.
        "GUNICORN_MAX_REQUESTS": "4",
    }
    for name in ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET"):
        env.pop(name, None)
    proc = subprocess.Popen(
        ["scripts/start_production.sh"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output = Output(proc)
    try:
        # migrate + collectstatic + three processes: minutes on a loaded 2-core machine.
        match = output.wait_for(proc, r"^READY (http://\S+)$", timeout=600)
        base = match.group(1)
        assert base == f"http://127.0.0.1:{port}"
        token = run_manage(
            "create_api_token",
            "--staff",
            "ops",
            env={
                "DJANGO_SETTINGS_MODULE": "billing_project.settings.production",
                "DATABASE_URL": recipe_database,
                "REDIS_URL": private_redis.url,
                "SECRET_KEY": GOOD_KEY,
                "ALLOWED_HOSTS": "127.0.0.1",
            },
        )
        assert token.returncode == 0, token.stderr
        api = Api(base, token.stdout.strip())

        assert api.call("GET", "/ready", auth=False)[0] == 200
        assert api.call("GET", "/api/v1/billing/plans", auth=False)[0] == 401
        tenant = api.json(
            "POST",
            "tenants",
            {"name": "Recipe Corp", "email": "ap@recipe.example", "country": "US", "state": "OR"},
            expect=201,
        )
        sub = api.json(
            "POST", "subscriptions", {"tenant_id": tenant["id"], "plan_id": "developer"}, 201
        )
        api.json(
            "POST",
            "usage",
            {"tenant_id": tenant["id"], "metric_type": "api_calls", "quantity": 10500},
            expect=201,
        )
        current = api.json("GET", f"usage/current?tenant_id={tenant['id']}")
        assert current["usage_metrics"]["api_calls"]["current"] == 10500
        # /metrics under gunicorn's two workers (multiprocess mode): whichever worker answers a
        # scrape (loopback: no token), the counter is the sum of both workers' events.
        for _ in range(6):
            api.json(
                "POST",
                "usage",
                {"tenant_id": tenant["id"], "metric_type": "storage_gb", "quantity": 1},
                expect=201,
            )
        for _ in range(4):
            status, body = api.call("GET", "/metrics", auth=False)
            assert status == 200
            ingested = {
                sample.labels["source"]: sample.value
                for family in text_string_to_metric_families(body.decode())
                if family.name == "billing_usage_events_ingested"
                for sample in family.samples
                if sample.name.endswith("_total")
            }
            assert ingested.get("single") == 7, ingested
        assert current["projected_overage_cost"] == 500
        first = api.json("GET", f"invoices?tenant_id={tenant['id']}")["results"]
        assert [(i["kind"], i["total"]) for i in first] == [("subscription", 5000)]

        # The period boundary, run by the recipe's Celery worker (the task beat sends).
        period_end = datetime.fromisoformat(sub["current_period_end"].replace("Z", "+00:00"))
        as_of = (period_end + timedelta(hours=1)).isoformat()
        from celery import current_app

        with current_app.connection_for_write(private_redis.url) as conn:
            current_app.send_task(
                "invoicing.run_billing_cycle", kwargs={"now": as_of}, connection=conn
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            invoices = api.json("GET", f"invoices?tenant_id={tenant['id']}")["results"]
            if len(invoices) == 2:
                break
            time.sleep(0.5)
        assert len(invoices) == 2, invoices
        second = next(i for i in invoices if i["id"] != first[0]["id"])
        detail = api.json("GET", f"invoices/{second['id']}")
        assert detail["status"] == "open" and detail["number"]
        assert detail["period_start"] == sub["current_period_end"]
        assert sorted((line["kind"], line["amount"]) for line in detail["lines"]) == [
            ("overage", 500),
            ("plan_fee", 5000),
        ]
        assert (detail["subtotal"], detail["tax"], detail["total"]) == (5500, 0, 5500)
        status, pdf = api.call("GET", f"/api/v1/billing/invoices/{second['id']}/pdf")
        assert status == 200 and pdf.startswith(b"%PDF")

        # The admin's and the API docs' assets, served by whitenoise from collectstatic's output.
        status, page = api.call("GET", "/admin/login/", auth=False)
        assert status == 200
        css = re.search(rb'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', page)  # the console theme's
        assert css and api.call("GET", css.group(1).decode(), auth=False)[0] == 200
        status, docs = api.call("GET", "/api/v1/billing/docs/", auth=False)
        assert status == 200
        bundle = re.search(rb'src="(/static/drf_spectacular_sidecar/[^"]+\.js)"', docs)
        assert bundle and api.call("GET", bundle.group(1).decode(), auth=False)[0] == 200
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    log = output.close()
    # Everything the script started is gone (its session has no process left).
    survivors = subprocess.run(
        ["ps", "-o", "pid=", "-s", str(proc.pid)], capture_output=True, text=True
    ).stdout.split()
    assert survivors == [], survivors
    # The logs are JSON lines, gunicorn's access log included, and never show the token.
    access = [json.loads(line) for line in log if '"logger": "gunicorn.access"' in line]
    assert any(a["path"] == "/api/v1/billing/usage" and a["status"] == 201 for a in access)
    assert all({"time", "level", "method", "status", "duration_ms"} <= a.keys() for a in access)
    assert api.token not in "\n".join(log)
    assert any("Autorestarting worker" in line for line in log)
