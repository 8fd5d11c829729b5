"""The usage app as invoicing sees it: per-metric totals of a period, and closing a period.

Close first, then read, in the same transaction: closing takes the tenant's usage lock, so no
late event can land in the period between the read and the invoice.
"""

from usage.selectors import usage_totals
from usage.services import usage_period_close

__all__ = ["usage_period_close", "usage_totals"]
