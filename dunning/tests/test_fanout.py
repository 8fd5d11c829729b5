"""The dunning pass fanned out as chunk tasks: the same steps as one pass, once each, however
it is chunked, and a chunk delivered twice acts on nothing more."""

from datetime import UTC, datetime

import pytest

from dunning.models import DunningEvent
from dunning.services.fanout import dunning_chunk_pass, dunning_dispatch
from dunning.tests.test_pass_queries import NOW, open_cases


@pytest.mark.django_db
def test_dispatch_runs_each_due_step_once(make_tenant, django_capture_on_commit_callbacks):
    cases = open_cases(make_tenant, 5, decline="insufficient_funds", prefix="F")
    with django_capture_on_commit_callbacks(execute=True):  # eager: the chunks run at the commit
        assert dunning_dispatch(now=NOW, chunk_size=2) == 3
    for case in cases:
        assert DunningEvent.objects.filter(case=case, key="day:1", done=True).count() == 1
        case.refresh_from_db()
        assert case.next_action_at == datetime(2026, 3, 4, tzinfo=UTC)  # day 3
    with django_capture_on_commit_callbacks(execute=True):
        assert dunning_dispatch(now=NOW, chunk_size=2) == 0
    again = dunning_chunk_pass(case_ids=[c.pk for c in cases], now=NOW)
    assert (again.cases, again.steps) == (0, 0)
    assert DunningEvent.objects.filter(key="day:1").count() == 5
