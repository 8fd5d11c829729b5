"""Analytics tables: MRR facts (snapshots), figures staff enter (acquisition spend, plan costs),
and alert rules with their firings. Each module holds one of these."""

from analytics.models.acquisition import *  # noqa: F403
from analytics.models.alerts import *  # noqa: F403
from analytics.models.snapshots import *  # noqa: F403
