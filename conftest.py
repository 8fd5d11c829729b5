"""Test database set-up: migrate once into a template database, then clone it per worker.

dj-stripe's migrations take ~35 s; `CREATE DATABASE ... TEMPLATE` takes ~0.1 s. The template is
named after a hash of every migration file, so a change of schema builds a new one.
"""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent


def _migrations_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted(ROOT.glob("*/migrations/*.py")) + sorted(
        ROOT.glob("billing_project/*/migrations/*.py")
    ):
        digest.update(path.read_bytes())
    digest.update((ROOT / "requirements.txt").read_bytes())
    return digest.hexdigest()[:12]


def _admin_connection(db_settings):
    return psycopg.connect(
        dbname="postgres",
        user=db_settings.get("USER") or None,
        password=db_settings.get("PASSWORD") or None,
        host=db_settings.get("HOST") or None,
        port=db_settings.get("PORT") or None,
        autocommit=True,
    )


def _database_url(db_settings, name: str) -> str:
    user = db_settings.get("USER") or "root"
    password = f":{db_settings['PASSWORD']}" if db_settings.get("PASSWORD") else ""
    host = db_settings.get("HOST") or "127.0.0.1"
    port = db_settings.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{name}"


def _ensure_template(db_settings, template: str) -> None:
    with _admin_connection(db_settings) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext('leanvibe-billing-template'))")
        try:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [template]
            ).fetchone()
            if exists:
                return
            building = f"{template}_building"
            conn.execute(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{building}"')
            env = {
                **os.environ,
                "DATABASE_URL": _database_url(db_settings, building),
                "DJANGO_SETTINGS_MODULE": "billing_project.settings.test",
            }
            subprocess.run(
                [sys.executable, str(ROOT / "manage.py"), "migrate", "-v0", "--no-input"],
                check=True,
                env=env,
                cwd=ROOT,
            )
            conn.execute(f'ALTER DATABASE "{building}" RENAME TO "{template}"')
            # Templates of older schemas are dead weight now.
            prefix = template.rsplit("_tmpl_", 1)[0] + "_tmpl_"
            stale = conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s AND datname <> %s",
                [prefix.replace("_", r"\_") + "%", template],
            ).fetchall()
            for (name,) in stale:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext('leanvibe-billing-template'))")


@pytest.fixture(scope="session")
def django_db_template(django_db_blocker):
    """The migrated template database (built once for every worker and session of a schema)."""
    from django.conf import settings

    db_settings = settings.DATABASES["default"]
    template = f"{db_settings['NAME']}_tmpl_{_migrations_hash()}"
    with django_db_blocker.unblock():
        _ensure_template(db_settings, template)
    return template


@pytest.fixture(scope="session")
def django_db_clone(django_db_template):
    """`create(name)` makes database `name` a fresh copy of the template, `drop(name)` removes
    it: a database of a test's own that a live server can share with it (tests/browser)."""
    from django.conf import settings

    db_settings = dict(settings.DATABASES["default"])

    def create(name: str) -> None:
        with _admin_connection(db_settings) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{django_db_template}"')

    def drop(name: str) -> None:
        with _admin_connection(db_settings) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return create, drop


@pytest.fixture(scope="session")
def django_db_setup(django_db_blocker, django_db_template, worker_id):
    from django.conf import settings
    from django.db import connections

    db_settings = settings.DATABASES["default"]
    base = db_settings["NAME"]
    template = django_db_template
    test_name = f"test_{base}_{worker_id}_{os.getpid()}"
    with django_db_blocker.unblock():
        with _admin_connection(db_settings) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{test_name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{test_name}" TEMPLATE "{template}"')
        for alias in connections:
            connections[alias].close()
        settings.DATABASES["default"]["NAME"] = test_name
        connections["default"].settings_dict["NAME"] = test_name
    yield
    with django_db_blocker.unblock():
        for alias in connections:
            connections[alias].close()
        with _admin_connection(db_settings) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{test_name}" WITH (FORCE)')


def _is_transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    if marker is not None and marker.kwargs.get("transaction", False):
        return True
    return bool({"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """Transactional tests flush every table; put the default catalog back after the flush."""
    result = yield
    # The session's last test tears the database down with it: nothing to put back then.
    if _is_transactional(item) and nextitem is not None:
        from pytest_django.plugin import blocking_manager_key

        from ledger.chart import chart_ensure
        from ledger.models import Account
        from subscriptions.catalog_defaults import load_default_catalog

        with item.config.stash[blocking_manager_key].unblock():
            load_default_catalog()
            chart_ensure(Account)
    return result


@pytest.fixture(autouse=True)
def _fresh_metric_catalog():
    """Metric ids change when a transactional test reloads the catalog (the
    root teardown hook above does): never reuse a cache."""
    from usage.catalog import metric_catalog_clear

    metric_catalog_clear()
    yield
    metric_catalog_clear()


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield


# --- API fixtures shared by every app's tests -------------------------------------------------


class BillingClient:
    """A thin JSON client around DRF's APIClient with a bearer token."""

    def __init__(self, token: str | None = None):
        from rest_framework.test import APIClient

        self.raw = APIClient()
        self.token = token
        if token:
            self.raw.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    def _url(self, path: str) -> str:
        return path if path.startswith("/") else f"/api/v1/billing/{path}"

    def get(self, path, params=None, **extra):
        return self.raw.get(self._url(path), params or {}, **extra)

    def post(self, path, data=None, **extra):
        return self.raw.post(
            self._url(path), data if data is not None else {}, format="json", **extra
        )

    def patch(self, path, data=None, **extra):
        return self.raw.patch(self._url(path), data or {}, format="json", **extra)

    def put(self, path, data=None, **extra):
        return self.raw.put(self._url(path), data or {}, format="json", **extra)

    def delete(self, path, **extra):
        return self.raw.delete(self._url(path), **extra)


@pytest.fixture
def make_tenant(db):
    from subscriptions.tests.factories import TenantFactory

    return TenantFactory


@pytest.fixture
def tenant(make_tenant):
    return make_tenant()


@pytest.fixture
def other_tenant(make_tenant):
    return make_tenant(name="Other Corp")


@pytest.fixture
def token_for(db):
    from billing_project.shared.clock import utcnow
    from subscriptions.services.tokens import api_token_create, staff_user_get_or_create

    def make(role: str, tenant=None, username: str = "finance"):
        if role == "staff":
            user = staff_user_get_or_create(username=username)
            return api_token_create(role="staff", user=user, now=utcnow())[1]
        return api_token_create(role=role, tenant=tenant, now=utcnow())[1]

    return make


@pytest.fixture
def anon_client():
    return BillingClient()


@pytest.fixture
def staff_client(token_for):
    return BillingClient(token_for("staff"))


@pytest.fixture
def admin_client_for(token_for):
    return lambda tenant: BillingClient(token_for("tenant_admin", tenant))


@pytest.fixture
def member_client_for(token_for):
    return lambda tenant: BillingClient(token_for("tenant_member", tenant))


@pytest.fixture
def tenant_admin_client(admin_client_for, tenant):
    return admin_client_for(tenant)


@pytest.fixture
def tenant_member_client(member_client_for, tenant):
    return member_client_for(tenant)


# --- Stripe emulator: `localstripe_url`, `stripe_enabled`, `stripe_down` ----------------------
pytest_plugins = ["billing_project.shared.testing.localstripe"]
