"""Bench-only settings: production settings plus the bare comparison view (never shipped)."""

from billing_project.settings.production import *  # noqa: F403
from billing_project.settings.production import LOGGING

ROOT_URLCONF = "bench.bare_app"
LOGGING["root"]["level"] = "ERROR"
LOGGING["loggers"]["django.request"] = {"level": "ERROR"}
