"""Analytics admin."""

from analytics import admin_monitoring  # noqa: F401
