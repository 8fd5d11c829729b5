"""A database lost mid-request is the contract's 503 (a dependency is down; nothing was
changed), as JSON, from the DRF handler and from the middleware alike. The real connection cut
is in tests/faults/test_fault_database.py."""

import pytest
from django.db import InterfaceError, OperationalError

from subscriptions import selectors
from subscriptions.apis import plans as plan_apis

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_a_lost_database_in_a_view_is_json_503(staff_client, monkeypatch, error):
    def gone(**kwargs):
        raise error("server closed the connection unexpectedly")

    monkeypatch.setattr(selectors, "tenant_list", gone)
    staff_client.raw.raise_request_exception = False
    response = staff_client.get("tenants")
    assert response.status_code == 503
    assert response.json() == {
        "code": "service_unavailable",
        "message": "The database is unavailable; nothing was changed.",
    }


def test_a_lost_database_outside_drf_is_json_503(staff_client, monkeypatch):
    def gone(self, request, response, *args, **kwargs):
        raise OperationalError("consuming input failed")

    monkeypatch.setattr(plan_apis.PlanDetailApi, "finalize_response", gone)
    staff_client.raw.raise_request_exception = False
    response = staff_client.get("plans/developer")
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert "consuming" not in response.content.decode()
