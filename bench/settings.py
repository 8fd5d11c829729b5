"""Bench-only settings: production settings plus the bare comparison view (never shipped)."""

import warnings

from billing_project.settings.production import *  # noqa: F403
from billing_project.settings.production import LOGGING

ROOT_URLCONF = "bench.bare_app"
LOGGING["root"]["level"] = "ERROR"
LOGGING["loggers"]["django.request"] = {"level": "ERROR"}
# The benches speak plain HTTP to 127.0.0.1 (no TLS proxy in front): no HTTPS redirect.
SECURE_SSL_REDIRECT = False
# The benches serve no static files (no collectstatic): whitenoise's warning is noise here.
warnings.filterwarnings("ignore", message="No directory at")
