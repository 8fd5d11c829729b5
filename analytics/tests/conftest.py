from analytics.tests.insights_helpers import history  # noqa: F401 (a fixture)
