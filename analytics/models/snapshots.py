"""Analytics models: snapshots."""

from django.db import models  # noqa: F401
