"""Test settings: real PostgreSQL and Redis, tasks eager, mail in memory, no Stripe by default."""

from billing_project.settings.base import *
from billing_project.settings.base import env

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdef"
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://root@127.0.0.1:5432/leanvibe_billing")
}
DATABASES["default"]["CONN_MAX_AGE"] = 0
# Each xdist worker gets its own Redis database (15, 14, ...) so flushes stay local.
_worker = env("PYTEST_XDIST_WORKER", default="gw0").removeprefix("gw")
# TEST_REDIS_DB lets several checkouts run their suites at once on one Redis (15/14, 13/12, ...).
_redis_base = env.int("TEST_REDIS_DB", default=15)
_worker_offset = int(_worker) % 2 if _worker.isdigit() else 0
# TEST_REDIS_PORT points a checkout at a private redis-server when the shared one's 16 databases
# are all taken.
_redis_port = env.int("TEST_REDIS_PORT", default=6379)
REDIS_URL = env(
    "REDIS_URL",
    default=f"redis://127.0.0.1:{_redis_port}/{_redis_base - _worker_offset}",
)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
    }
}
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_ALWAYS_EAGER = True
BILLING_FAN_OUT = False  # tests that fan out call the dispatch services themselves
CELERY_TASK_EAGER_PROPAGATES = False
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STRIPE_SECRET_KEY = ""
STRIPE_TEST_SECRET_KEY = ""
STRIPE_PUBLISHABLE_KEY = ""
STRIPE_WEBHOOK_SECRET = ""
STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens: tests opt in to localstripe
STRIPE_TIMEOUT_SECONDS = 5.0
MEDIA_ROOT = env("TEST_MEDIA_ROOT", default="/tmp/leanvibe-billing-test-media")
LOGGING["root"]["level"] = "WARNING"
