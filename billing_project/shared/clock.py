"""The one place that reads the wall clock. Services take `now` as an argument instead."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
