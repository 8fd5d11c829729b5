"""Settings shared by every environment. Every variable of product.md section 2 is read here."""

from pathlib import Path

import environ

from billing_project.localdb import embedded_url
from billing_project.settings.mailurl import email_settings

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])

INSTALLED_APPS = [
    # The finance console's theme (README "Finance console"): before django.contrib.admin so its
    # templates win; its assets are bundled in the package (no CDN).
    "unfold",
    "unfold.contrib.filters",
    "unfold.contrib.forms",
    "unfold.contrib.import_export",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_celery_beat",
    "djstripe",
    "import_export",
    # Staff safety (README "Staff roles and audit"): DB-trigger audit trail, login throttling, 2FA.
    "pgtrigger",
    "pghistory",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "billing_project.shared",
    "tax",
    "subscriptions",
    "ledger",
    "usage",
    "invoicing",
    "payments",
    "dunning",
    "analytics",
    "console",
]

MIDDLEWARE = [
    "billing_project.shared.api.middleware.ApiRequestSizeMiddleware",
    "billing_project.shared.api.middleware.ApiJsonErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Staff safety: OTP verification state, the 2FA step for staff with a device, read-only
    # staff (auditors) never write through the admin, every write carries its user and URL into
    # the audit trail; axes last, as its docs ask.
    "django_otp.middleware.OTPMiddleware",
    "console.safety.StaffOTPMiddleware",
    "billing_project.shared.audit.ReadOnlyStaffMiddleware",
    "billing_project.shared.audit.AuditContextMiddleware",
    "axes.middleware.AxesMiddleware",
]

# django-axes counts failed logins (admin and every other authenticate() call with a request);
# bearer tokens never go through authenticate(), so the API is unaffected.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "billing_project.urls"
WSGI_APPLICATION = "billing_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# PostgreSQL only. Unset DATABASE_URL: the embedded server `make run` starts (its URL is in
# .pgdata/url, so manage.py in another shell finds it), else the local server's default socket.
DATABASES = {
    "default": env.db(
        "DATABASE_URL", default=embedded_url(BASE_DIR) or "postgres:///leanvibe_billing"
    )
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
# Analytics and reports may read from a replica (billing_project/shared/replica.py).
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db("DATABASE_REPLICA_URL")
DATABASE_ROUTERS = ["billing_project.shared.replica.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis is the cache and the Celery broker; without it tasks run in-process.
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
# With workers, beat's billing cycle and dunning pass fan out as chunk tasks (docs/scaling.md).
BILLING_FAN_OUT = env.bool("BILLING_FAN_OUT", default=not CELERY_TASK_ALWAYS_EAGER)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "media"))

# Request bodies: 1 MB for the API, 10 MB for usage/batch (ApiRequestSizeMiddleware).
API_MAX_BODY_BYTES = 1024 * 1024
API_MAX_BATCH_BODY_BYTES = 10 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BATCH_BODY_BYTES

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["subscriptions.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": [
        "billing_project.shared.api.permissions.IsAuthenticatedPrincipal"
    ],
    "DEFAULT_PARSER_CLASSES": ["billing_project.shared.api.parsers.FastJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["billing_project.shared.api.renderers.FastJSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "billing_project.shared.api.pagination.BillingPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "billing_project.shared.api.schema.BillingAutoSchema",
    "EXCEPTION_HANDLER": "billing_project.shared.api.exceptions.billing_exception_handler",
    "UNAUTHENTICATED_USER": None,
    # No throttling by default; set API_THROTTLE_RATE (e.g. "1000/min") to enable one per token.
    "DEFAULT_THROTTLE_CLASSES": [],
    "DEFAULT_THROTTLE_RATES": {},
}
API_THROTTLE_RATE = env("API_THROTTLE_RATE", default="")
if API_THROTTLE_RATE:
    REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = ["rest_framework.throttling.UserRateThrottle"]
    REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"user": API_THROTTLE_RATE}

SPECTACULAR_SETTINGS = {
    "TITLE": "LeanVibe Billing API",
    "DESCRIPTION": "Plans, subscriptions, usage, invoices and payments. Money is integer cents.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1/billing",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "PaymentTermsEnum": "subscriptions.models.tenants.PaymentTerms",
        "TenantStatusEnum": "subscriptions.models.tenants.TenantStatus",
        "ServiceLevelEnum": "subscriptions.models.tenants.ServiceLevel",
        "SubscriptionStatusEnum": "subscriptions.models.subscriptions.SubscriptionStatus",
        "InvoiceStatusEnum": "invoicing.models.InvoiceStatus",
        "InvoiceKindEnum": "invoicing.models.InvoiceKind",
        "InvoiceLineKindEnum": "invoicing.models.LineKind",
        "PaymentAttemptStatusEnum": "payments.models.PaymentAttemptStatus",
        "RefundStatusEnum": "payments.models.RefundStatus",
    },
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "APPEND_COMPONENTS": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
    "SECURITY": [{"bearerAuth": []}],
    # Swagger UI from the drf-spectacular-sidecar package, not a CDN: the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Email: console by default (attachments shown as one line); EMAIL_URL switches to smtp://,
# filemail:///abs/path ...
vars().update(email_settings(env("EMAIL_URL", default="consolemail://")))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="billing@leanvibe.example")

# Stripe. Unset secret key means manual collection (no card processing).
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
# The public URL Stripe posts events to (`manage.py stripe_setup`); blank: BILLING_PUBLIC_URL's.
STRIPE_WEBHOOK_URL = env("STRIPE_WEBHOOK_URL", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="https://api.stripe.com")
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=10.0)
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=0)
# dj-stripe reads these; its sync never picks its own host (see shared.stripe_gateway).
STRIPE_LIVE_MODE = env.bool("STRIPE_LIVE_MODE", default=False)
STRIPE_TEST_SECRET_KEY = STRIPE_SECRET_KEY
DJSTRIPE_FOREIGN_KEY_TO_FIELD = "id"
DJSTRIPE_WEBHOOK_VALIDATION = "verify_signature"
DJSTRIPE_USE_NATIVE_JSONFIELD = True

# Seller branding shown on invoices (BILLING_COMPANY_*). The address is one unit: the demo
# address applies only when none of its parts is set, so an Amsterdam seller never prints "CA".
_ADDRESS_PARTS = {
    "line1": "123 Tech Street",
    "city": "San Francisco",
    "state": "CA",
    "postal_code": "94105",
    "country": "US",
}
_address_set = any(env(f"BILLING_COMPANY_{part.upper()}", default="") for part in _ADDRESS_PARTS)
BILLING_COMPANY = {
    "name": env("BILLING_COMPANY_NAME", default="LeanVibe Technologies Inc."),
    **{
        part: env(f"BILLING_COMPANY_{part.upper()}", default="" if _address_set else demo)
        for part, demo in _ADDRESS_PARTS.items()
    },
    "tax_ids": env.list("BILLING_COMPANY_TAX_IDS", default=["US EIN 12-3456789"]),
    "logo_url": env("BILLING_COMPANY_LOGO_URL", default=""),
    "email": env("BILLING_COMPANY_EMAIL", default="billing@leanvibe.example"),
}

# Where tenants reach this deployment: links in emails (invoice PDF, pay now).
BILLING_PUBLIC_URL = env("BILLING_PUBLIC_URL", default="http://127.0.0.1:8000").rstrip("/")

# Tax (tax/decision.py, README "Tax"). The EU-wide threshold for cross-border consumer sales of
# an EU seller, in EUR cents (Art. 59c Directive 2006/112/EC: EUR 10,000): below it the seller
# charges its own country's VAT, above it the customer's. The guide's `reverse_charge_threshold`.
TAX_EU_B2C_THRESHOLD = env.int("TAX_EU_B2C_THRESHOLD", default=1_000_000)
# An online VAT id check (VIES / HMRC) after the offline one: a dotted path to a callable
# (compact id) -> None that raises ValueError; blank (the default) checks offline only.
TAX_VAT_ONLINE_CHECK = env("TAX_VAT_ONLINE_CHECK", default="")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "filters": {
        "no_template_lookups": {"()": "billing_project.shared.log_filters.DropTemplateLookups"}
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.server": {"level": "WARNING"},
        # Failed template lookups carry the page's context, secrets shown once included.
        "django.template": {"filters": ["no_template_lookups"]},
        # WeasyPrint narrates every render step at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
FORMS_URLFIELD_ASSUME_HTTPS = True  # silences a Django 6.0 transition warning

# Monitoring alert rules (analytics): where the default rules send, and the HMAC secret that
# signs outbound alert webhooks (X-LeanVibe-Signature; unset: webhooks are logged, not sent).
ALERT_ONCALL_WEBHOOK_URL = env("ALERT_ONCALL_WEBHOOK_URL", default="")
ALERT_BILLING_TEAM_EMAIL = env("ALERT_BILLING_TEAM_EMAIL", default="")
ALERT_WEBHOOK_SECRET = env("ALERT_WEBHOOK_SECRET", default="")
# The finance console (django-unfold). Navigation, dashboard and environment badge are callbacks
# in console/ (the top layer, which may read every app); "View site" opens the API docs.
UNFOLD = {
    "SITE_TITLE": "LeanVibe Billing",
    "SITE_HEADER": "LeanVibe Billing",
    "SITE_SUBHEADER": "Finance console",
    "SITE_URL": "/api/v1/billing/docs/",
    "SITE_SYMBOL": "payments",
    "SHOW_HISTORY": True,
    "SHOW_VIEW_ON_SITE": True,
    "ENVIRONMENT": "console.navigation.environment",
    "DASHBOARD_CALLBACK": "console.dashboard.dashboard_callback",
    "STYLES": ["console.navigation.stylesheet"],
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": False,
        "navigation": "console.navigation.sidebar",
    },
}
# --- Staff safety (README "Staff roles and audit") -------------------------------------------
# Login throttling: 5 failures for one username from one IP lock that pair for 15 minutes; a
# good login resets the count. Lockouts answer 429 with the lockout page.
from datetime import timedelta  # noqa: E402

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/axes_lockout.html"
AXES_VERBOSE = False
# Behind a proxy set AXES_IPWARE_PROXY_COUNT (and AXES_IPWARE_META_PRECEDENCE_ORDER) so the
# client's address is counted, not the proxy's.
AXES_IPWARE_PROXY_COUNT = env.int("AXES_IPWARE_PROXY_COUNT", default=0) or None
# 2FA: TOTP devices (django-otp). The issuer names this deployment in authenticator apps.
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="LeanVibe Billing")
# The audit trail (django-pghistory): POST/PUT/PATCH/DELETE requests carry their user and URL.
PGHISTORY_MIDDLEWARE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
