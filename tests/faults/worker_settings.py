"""Settings of the real Celery workers the fault tests start: the test settings with a real
broker (tasks sent, not run in-process), the test's queue, and the test's private SMTP server and
Stripe emulator when it has them."""

from billing_project.settings.test import *  # noqa: F403
from billing_project.settings.test import env

CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_URL = env("FAULTS_BROKER_URL")
CELERY_TASK_DEFAULT_QUEUE = env("FAULTS_QUEUE")
# Redis redelivers a task a killed worker had not acknowledged after this many seconds.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("FAULTS_VISIBILITY_TIMEOUT", default=3600)
}
LOGGING["root"]["level"] = "INFO"  # noqa: F405
if env("FAULTS_SMTP_PORT", default=""):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = "127.0.0.1"
    EMAIL_PORT = env.int("FAULTS_SMTP_PORT")
    EMAIL_TIMEOUT = 5
if env("FAULTS_STRIPE_URL", default=""):
    STRIPE_SECRET_KEY = STRIPE_TEST_SECRET_KEY = env("FAULTS_STRIPE_KEY")
    STRIPE_API_BASE = env("FAULTS_STRIPE_URL")
