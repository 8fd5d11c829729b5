"""Settings of the invoicing bench's gunicorn: the test settings (as before) plus the bench
URLconf (the legacy invoice list to compare with). BENCH_CONN_MAX_AGE: 0 (default, a new
database connection per request, as the test settings) or e.g. 60 (production's default)."""

import os

from billing_project.settings.test import *  # noqa: F403
from billing_project.settings.test import DATABASES

ROOT_URLCONF = "bench.bare_app"
DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("BENCH_CONN_MAX_AGE", "0"))
