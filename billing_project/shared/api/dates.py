"""Query-string dates: `YYYY-MM-DD` or a 400 naming the parameter."""

import re
from datetime import UTC, date, datetime, time, timedelta

from billing_project.shared.errors import ValidationFailed

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def query_date(params, name: str, default: date | None = None) -> date | None:
    value = params.get(name)
    if not value:
        return default
    try:
        if not DATE.match(value):
            raise ValueError
        parsed = date.fromisoformat(value)
        if parsed >= date.max - timedelta(days=1):
            raise ValueError
        return parsed
    except ValueError:
        raise ValidationFailed(
            f"{name} must be a date, YYYY-MM-DD.", errors={name: ["A date, YYYY-MM-DD."]}
        ) from None


def date_range(params, *, default_start: date | None, default_end: date | None):
    """`from` and `to` (inclusive), or a 400 when `from` is after `to`."""
    start = query_date(params, "from", default_start)
    end = query_date(params, "to", default_end)
    if start is not None and end is not None and start > end:
        raise ValidationFailed(
            "from must not be after to.", errors={"from": ["Must not be after `to`."]}
        )
    return start, end


def day_start(day: date) -> datetime:
    """The UTC instant a day begins."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def day_end(day: date) -> datetime:
    """The UTC instant after a day ends (exclusive bound)."""
    return day_start(day + timedelta(days=1))
