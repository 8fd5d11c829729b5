import pytest

pytestmark = pytest.mark.django_db


def test_plans_listed_for_any_token(tenant_member_client):
    response = tenant_member_client.get("plans")
    assert response.status_code == 200
    assert [p["slug"] for p in response.json()["results"]] == ["developer", "team", "enterprise"]
