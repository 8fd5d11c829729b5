"""The usage app as invoicing sees it: per-metric totals of a period, and closing a period.

Close first, then read, in the same transaction: closing takes the tenant's usage lock, so no
late event can land in the period between the read and the invoice. The `_many` forms do the
same for a chunk of subscriptions (close all, then read all) in a constant number of queries.
"""

from usage.selectors import usage_totals, usage_totals_many
from usage.services import usage_period_close, usage_periods_close

__all__ = ["usage_period_close", "usage_periods_close", "usage_totals", "usage_totals_many"]
