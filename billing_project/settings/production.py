"""Production: everything from the environment, no insecure defaults.

Refuses to start (ImproperlyConfigured at import, so gunicorn, Celery and manage.py all stop)
with DEBUG on, or with a SECRET_KEY that is missing, short, repetitive or one of the dev/test
keys. `manage.py check --deploy` is clean under these settings (tests/test_production.py).
Static files (admin, API docs) are served by whitenoise from STATIC_ROOT after `collectstatic`;
logs are JSON lines on stderr (python-json-logger). README "Production".
"""

from django.core.exceptions import ImproperlyConfigured

from billing_project.settings.base import *
from billing_project.settings.base import LOGGING, MIDDLEWARE, env

# Keys that have been in this repository (local.py, test.py, bench): never valid in production.
KNOWN_INSECURE_KEYS = (
    "dev-only-insecure-key-change-me-please-0123456789",
    "test-secret-key-not-for-production-0123456789abcdef",
)
MIN_SECRET_KEY_LENGTH = 50  # Django's own deploy check (security.W009): >= 50 chars, >= 5 unique


def secret_key_problem(key: str) -> str:
    """Why `key` may not sign production sessions and tokens, or "" when it may."""
    if not key:
        return "SECRET_KEY is not set"
    if key in KNOWN_INSECURE_KEYS or key.startswith("django-insecure-"):
        return "SECRET_KEY is a development default"
    if len(key) < MIN_SECRET_KEY_LENGTH or len(set(key)) < 5:
        return (
            f"SECRET_KEY is too weak (at least {MIN_SECRET_KEY_LENGTH} characters, "
            "5 of them different)"
        )
    return ""


DEBUG = env.bool("DEBUG", default=False)
if DEBUG:
    raise ImproperlyConfigured("DEBUG is on: production settings refuse to start with DEBUG=true.")
SECRET_KEY = env("SECRET_KEY", default="")
if problem := secret_key_problem(SECRET_KEY):
    raise ImproperlyConfigured(
        f"{problem}. Generate one with: "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A database that does not answer fails /ready in seconds instead of hanging the worker.
DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
    "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5)
)

if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db("DATABASE_REPLICA_URL")

# HTTPS: TLS ends at the proxy in front (nginx, a load balancer), which sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Probes (load balancer, systemd, Prometheus) call these over plain HTTP on the private side.
SECURE_REDIRECT_EXEMPT = [r"^health$", r"^ready$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Static files: whitenoise right after SecurityMiddleware, compressed and with hashed names
# (served with a year's cache). `manage.py collectstatic --no-input` fills STATIC_ROOT.
STATIC_ROOT = env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
MIDDLEWARE = list(MIDDLEWARE)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "whitenoise.middleware.WhiteNoiseMiddleware",
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Logs: one JSON object per line on stderr (journald / the platform collects it). Request
# headers are never logged (so never a bearer token); gunicorn's access log is JSON too
# (gunicorn.conf.py).
LOGGING = {
    **LOGGING,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(process)d",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "datefmt": "%Y-%m-%dT%H:%M:%S%z",
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
}
# Celery keeps Django's logging (JSON) instead of installing its own plain-text handlers.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
