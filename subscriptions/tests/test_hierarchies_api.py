"""`POST hierarchies` (the guide's body) and `GET tenants/{id}/hierarchy`."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from subscriptions.models import Tenant

pytestmark = pytest.mark.django_db


def body(parent, *children, consolidation=True):
    return {
        "parent_entity": {
            "tenant_id": str(parent.pk),
            "billing_consolidation": consolidation,
            "payment_responsibility": consolidation,
        },
        "child_entities": [
            {"tenant_id": str(child.pk), "cost_allocation": share} for child, share in children
        ],
    }


def test_the_guides_body_makes_the_tree(staff_client, make_tenant, admin_client_for):
    parent, a, b = make_tenant(name="Corp"), make_tenant(name="Sub A"), make_tenant(name="Sub B")
    response = staff_client.post("hierarchies", body(parent, (a, 60), (b, 40)))
    assert response.status_code == 201, response.content
    tree = response.json()["root"]
    assert tree["tenant_id"] == str(parent.pk)
    assert tree["billing_consolidation"] is True and tree["payment_responsibility"] is True
    assert [(c["name"], c["cost_allocation"]) for c in tree["children"]] == [
        ("Sub A", 60),
        ("Sub B", 40),
    ]
    a.refresh_from_db()
    assert a.parent_id == parent.pk
    # staff, and a tenant for its own tree; another tenant's is 404
    assert staff_client.get(f"tenants/{a.pk}/hierarchy").json()["parent_id"] == str(parent.pk)
    own = admin_client_for(parent).get(f"tenants/{parent.pk}/hierarchy")
    assert own.status_code == 200 and len(own.json()["root"]["children"]) == 2
    assert admin_client_for(a).get(f"tenants/{parent.pk}/hierarchy").status_code == 404
    # posting again replaces the children
    response = staff_client.post("hierarchies", body(parent, (a, 100)))
    assert response.status_code == 201
    b.refresh_from_db()
    assert b.parent_id is None and b.cost_allocation is None


def test_tenant_tokens_cannot_post(admin_client_for, make_tenant):
    parent, a = make_tenant(), make_tenant()
    response = admin_client_for(parent).post("hierarchies", body(parent, (a, 100)))
    assert response.status_code == 403


@pytest.mark.parametrize("shares", [(60, 30), (60, 50), (0, 100), (100.5, -0.5)])
def test_percentages_must_sum_to_100(staff_client, make_tenant, shares):
    parent, a, b = make_tenant(), make_tenant(), make_tenant()
    response = staff_client.post("hierarchies", body(parent, (a, shares[0]), (b, shares[1])))
    assert response.status_code == 400
    assert "child_entities" in response.json()["errors"]
    assert not Tenant.objects.filter(parent__isnull=False).exists()


def test_a_cycle_is_400(staff_client, make_tenant):
    root = make_tenant()
    middle = make_tenant(parent=root)
    response = staff_client.post("hierarchies", body(middle, (root, 100)))
    assert response.status_code == 400
    assert response.json()["code"] == "hierarchy_cycle"
    root.refresh_from_db()
    assert root.parent_id is None


def test_a_cycle_through_an_ancestor_is_400(staff_client, make_tenant):
    root = make_tenant()
    middle = make_tenant(parent=root)
    leaf = make_tenant(parent=middle)
    # root under leaf: root has no parent, so the only problem is the cycle
    response = staff_client.post("hierarchies", body(leaf, (root, 100)))
    assert response.status_code == 400
    assert response.json()["code"] == "hierarchy_cycle"
    # a tenant as its own child
    response = staff_client.post("hierarchies", body(leaf, (leaf, 100)))
    assert response.status_code == 400
    assert response.json()["code"] == "hierarchy_cycle"


def test_depth_above_five_is_400(staff_client, make_tenant):
    chain = [make_tenant()]
    for _ in range(3):
        chain.append(make_tenant(parent=chain[-1]))
    fifth, sixth = make_tenant(), make_tenant()
    assert staff_client.post("hierarchies", body(chain[-1], (fifth, 100))).status_code == 201
    response = staff_client.post("hierarchies", body(fifth, (sixth, 100)))
    assert response.status_code == 400
    assert response.json()["code"] == "hierarchy_too_deep"
    # a subtree moved under a deep parent counts its own levels too
    top, below = make_tenant(), make_tenant()
    below.parent = top
    below.save()
    response = staff_client.post("hierarchies", body(chain[-1], (fifth, 50), (top, 50)))
    assert response.status_code == 400
    assert response.json()["code"] == "hierarchy_too_deep"


def test_one_parent_per_tenant_is_409(staff_client, make_tenant):
    first, second, child = make_tenant(), make_tenant(), make_tenant()
    assert staff_client.post("hierarchies", body(first, (child, 100))).status_code == 201
    response = staff_client.post("hierarchies", body(second, (child, 100)))
    assert response.status_code == 409
    assert response.json()["code"] == "tenant_has_parent"


def test_mixed_flags_and_unknown_tenants_are_400(staff_client, make_tenant):
    parent, a = make_tenant(), make_tenant()
    mixed = body(parent, (a, 100))
    mixed["parent_entity"]["payment_responsibility"] = False
    response = staff_client.post("hierarchies", mixed)
    assert response.status_code == 400 and response.json()["code"] == "hierarchy_unsupported"
    unknown = body(parent, (a, 100))
    unknown["child_entities"][0]["tenant_id"] = "00000000-0000-4000-8000-000000000000"
    assert staff_client.post("hierarchies", unknown).status_code == 400
    missing = body(parent, (a, 100))
    missing["parent_entity"]["tenant_id"] = "00000000-0000-4000-8000-000000000000"
    assert staff_client.post("hierarchies", missing).status_code == 404
    assert staff_client.post("hierarchies", {"parent_entity": {}}).status_code == 400


def test_the_admin_shows_the_tenant_tree(staff_client, make_tenant):
    parent, a, b = make_tenant(), make_tenant(), make_tenant()
    assert staff_client.post("hierarchies", body(parent, (a, 60), (b, 40))).status_code == 201
    web = Client()
    web.force_login(get_user_model().objects.create_superuser("tree", "t@x.example", "pw"))
    html = web.get(f"/admin/subscriptions/tenant/{a.pk}/change/").content.decode()
    assert "Hierarchy (from its root)" in html
    assert (
        f"<strong><a href='/admin/subscriptions/tenant/{a.pk}/change/'>{a.name}</a></strong>"
        in html
    )
    assert parent.name in html and b.name in html and "(40.00 %)" in html
    alone = make_tenant()
    assert (
        "No parent, no children."
        in web.get(f"/admin/subscriptions/tenant/{alone.pk}/change/").content.decode()
    )
