"""`payment-methods` over the API, against the Stripe emulator (localstripe) over real HTTP."""

import pytest
from djstripe.models import Customer as MirrorCustomer
from djstripe.models import PaymentMethod as MirrorPaymentMethod

from billing_project.shared import stripe_gateway
from billing_project.shared.testing.localstripe import TEST_SECRET_KEY
from billing_project.shared.tests.test_stripe_gateway import emulator_card
from subscriptions import stripe_mirror
from subscriptions.models import PaymentMethod
from subscriptions.tests.factories import FIXED_NOW

pytestmark = pytest.mark.django_db

FIELDS = {
    "id",
    "type",
    "brand",
    "last4",
    "exp_month",
    "exp_year",
    "is_default",
    "stripe_payment_method_id",
    "created_at",
}


def stored_pm(tenant, **kwargs):
    """A row as if attached earlier (for tests that never reach Stripe)."""
    defaults = {
        "stripe_payment_method_id": f"pm_stored_{tenant.pk.hex[:12]}",
        "brand": "visa",
        "last4": "4242",
        "exp_month": 12,
        "exp_year": 2030,
        "is_default": True,
        "created_at": FIXED_NOW,
    }
    return PaymentMethod.objects.create(tenant=tenant, **{**defaults, **kwargs})


# --- without Stripe (manual collection) --------------------------------------------------------


def test_writes_answer_409_without_a_stripe_key_and_the_list_still_reads(
    tenant, tenant_admin_client
):
    pm = stored_pm(tenant)
    listed = tenant_admin_client.get("payment-methods")
    assert listed.status_code == 200
    assert [m["id"] for m in listed.json()["results"]] == [str(pm.id)]
    responses = [
        tenant_admin_client.post(
            "payment-methods", {"type": "card", "stripe_payment_method_id": "pm_card_visa"}
        ),
        tenant_admin_client.patch(f"payment-methods/{pm.id}/default"),
        tenant_admin_client.delete(f"payment-methods/{pm.id}"),
    ]
    for response in responses:
        assert response.status_code == 409, response.content
        assert response.json()["code"] == "card_payments_disabled"
    assert list(PaymentMethod.objects.values_list("id", flat=True)) == [pm.id]
    unknown = "00000000-0000-0000-0000-000000000000"
    assert tenant_admin_client.delete(f"payment-methods/{unknown}").status_code == 404
    assert tenant_admin_client.patch("payment-methods/not-a-uuid/default").status_code == 404


def test_no_token_is_401(anon_client):
    assert anon_client.get("payment-methods").status_code == 401


# --- roles and scoping (Stripe configured, but never reached) ----------------------------------


def test_tenant_member_gets_403(stripe_down, tenant, tenant_member_client):
    pm = stored_pm(tenant)
    assert tenant_member_client.get("payment-methods").status_code == 403
    response = tenant_member_client.post(
        "payment-methods", {"type": "card", "stripe_payment_method_id": "pm_card_visa"}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert tenant_member_client.patch(f"payment-methods/{pm.id}/default").status_code == 403
    assert tenant_member_client.delete(f"payment-methods/{pm.id}").status_code == 403
    assert PaymentMethod.objects.filter(pk=pm.pk).exists()


def test_another_tenants_payment_method_is_404(stripe_down, tenant_admin_client, other_tenant):
    theirs = stored_pm(other_tenant, is_default=False)
    for response in (
        tenant_admin_client.patch(f"payment-methods/{theirs.id}/default"),
        tenant_admin_client.delete(f"payment-methods/{theirs.id}"),
        tenant_admin_client.delete("payment-methods/not-a-uuid"),
        tenant_admin_client.patch("payment-methods/00000000-0000-0000-0000-000000000000/default"),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    theirs.refresh_from_db()
    assert theirs.is_default is False
    response = tenant_admin_client.post(
        "payment-methods",
        {"stripe_payment_method_id": "pm_card_visa", "tenant_id": str(other_tenant.id)},
    )
    assert response.status_code == 404
    assert tenant_admin_client.get("payment-methods").json()["count"] == 0


@pytest.mark.parametrize(
    "body, field",
    [
        ({"type": "card"}, "stripe_payment_method_id"),
        ({"type": "card", "stripe_payment_method_id": ""}, "stripe_payment_method_id"),
        ({"type": "card", "stripe_payment_method_id": "   "}, "stripe_payment_method_id"),
        ({"type": "card", "stripe_payment_method_id": None}, "stripe_payment_method_id"),
        ({"type": "card", "stripe_payment_method_id": 123}, "stripe_payment_method_id"),
        ({"type": "card", "stripe_payment_method_id": "pm 1; drop"}, "stripe_payment_method_id"),
        ({"type": "bank", "stripe_payment_method_id": "pm_card_visa"}, "type"),
        ({"type": 123, "stripe_payment_method_id": "pm_card_visa"}, "type"),
        ({"type": None, "stripe_payment_method_id": "pm_card_visa"}, "type"),
        ({"stripe_payment_method_id": "pm_card_visa", "tenant_id": "nope"}, "tenant_id"),
    ],
)
def test_bad_input_is_400_and_nothing_is_stored(
    stripe_down, tenant, tenant_admin_client, body, field
):
    response = tenant_admin_client.post("payment-methods", body)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "validation_error"
    assert field in response.json()["errors"]
    assert PaymentMethod.objects.count() == 0
    tenant.refresh_from_db()
    assert tenant.stripe_customer_id == ""


def test_staff_must_name_the_tenant(stripe_down, staff_client):
    response = staff_client.post("payment-methods", {"stripe_payment_method_id": "pm_card_visa"})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["tenant_id"]


def test_stripe_down_is_503_and_nothing_is_stored(stripe_down, tenant, tenant_admin_client):
    response = tenant_admin_client.post(
        "payment-methods", {"type": "card", "stripe_payment_method_id": "pm_card_visa"}
    )
    assert response.status_code == 503
    assert response.json()["code"] == "stripe_unavailable"
    assert PaymentMethod.objects.count() == 0
    tenant.refresh_from_db()
    assert tenant.stripe_customer_id == ""


def test_stripe_down_on_delete_keeps_the_row(stripe_down, tenant, tenant_admin_client):
    tenant.stripe_customer_id = "cus_unreachable"
    tenant.save()
    pm = stored_pm(tenant)
    response = tenant_admin_client.delete(f"payment-methods/{pm.id}")
    assert response.status_code == 503
    assert PaymentMethod.objects.filter(pk=pm.pk, is_default=True).exists()


# --- against localstripe -----------------------------------------------------------------------


def stripe_default(tenant) -> str:
    tenant.refresh_from_db()
    return stripe_gateway.customer_retrieve(tenant.stripe_customer_id).default_payment_method


@pytest.mark.stripe
def test_attach_list_set_default_detach(stripe_enabled, tenant, tenant_admin_client):
    assert tenant.stripe_customer_id == ""
    first = tenant_admin_client.post(
        "payment-methods", {"type": "card", "stripe_payment_method_id": "pm_card_visa"}
    )
    assert first.status_code == 201, first.content
    first = first.json()
    assert set(first) == FIELDS
    assert first["stripe_payment_method_id"].startswith("pm_")
    assert (first["type"], first["brand"], first["last4"]) == ("card", "visa", "4242")
    assert (first["exp_month"], first["exp_year"], first["is_default"]) == (12, 2030, True)
    tenant.refresh_from_db()
    assert tenant.stripe_customer_id.startswith("cus_")  # created on first use
    assert stripe_default(tenant) == first["stripe_payment_method_id"]
    found = stripe_gateway.payment_method_retrieve(first["stripe_payment_method_id"])
    assert found.customer == tenant.stripe_customer_id

    # A card that attaches fine (its charges fail later) and does not take the default.
    declining = emulator_card(stripe_enabled, "4000000000000341")
    second = tenant_admin_client.post(
        "payment-methods", {"type": "card", "stripe_payment_method_id": declining}
    )
    assert second.status_code == 201, second.content
    second = second.json()
    assert (second["stripe_payment_method_id"], second["last4"]) == (declining, "0341")
    assert second["is_default"] is False
    assert stripe_gateway.payment_method_retrieve(declining).customer == tenant.stripe_customer_id
    assert stripe_default(tenant) == first["stripe_payment_method_id"]

    listed = tenant_admin_client.get("payment-methods").json()
    assert listed["count"] == 2
    assert (listed["next"], listed["previous"]) == (None, None)
    assert [m["id"] for m in listed["results"]] == [first["id"], second["id"]]
    assert [m["is_default"] for m in listed["results"]] == [True, False]

    response = tenant_admin_client.patch(f"payment-methods/{second['id']}/default")
    assert response.status_code == 200
    assert response.json() == {**second, "is_default": True}
    assert stripe_default(tenant) == declining
    assert list(
        PaymentMethod.objects.filter(tenant=tenant, is_default=True).values_list("id", flat=True)
    ) == [PaymentMethod.objects.get(stripe_payment_method_id=declining).id]
    # Already the default: 200 unchanged.
    again = tenant_admin_client.patch(f"payment-methods/{second['id']}/default")
    assert (again.status_code, again.json()) == (200, response.json())

    # Deleting the default detaches it and passes the default to the newest remaining one.
    assert tenant_admin_client.delete(f"payment-methods/{second['id']}").status_code == 204
    assert not PaymentMethod.objects.filter(pk=second["id"]).exists()
    assert stripe_gateway.payment_method_retrieve(declining).customer == ""
    remaining = PaymentMethod.objects.get(tenant=tenant)
    assert (str(remaining.id), remaining.is_default) == (first["id"], True)
    assert stripe_default(tenant) == first["stripe_payment_method_id"]

    assert tenant_admin_client.delete(f"payment-methods/{first['id']}").status_code == 204
    assert PaymentMethod.objects.filter(tenant=tenant).count() == 0
    assert tenant_admin_client.delete(f"payment-methods/{first['id']}").status_code == 404


@pytest.mark.stripe
def test_deleting_a_non_default_keeps_the_default(stripe_enabled, tenant, tenant_admin_client):
    ids = []
    for _ in range(3):
        response = tenant_admin_client.post(
            "payment-methods", {"stripe_payment_method_id": "pm_card_visa"}
        )
        assert response.status_code == 201
        ids.append(response.json()["id"])
    assert tenant_admin_client.delete(f"payment-methods/{ids[1]}").status_code == 204
    assert [
        str(pk) for pk in PaymentMethod.objects.filter(is_default=True).values_list("id", flat=True)
    ] == [ids[0]]
    assert PaymentMethod.objects.filter(tenant=tenant).count() == 2


@pytest.mark.stripe
def test_declined_card_is_400_and_nothing_is_stored(stripe_enabled, tenant, tenant_admin_client):
    response = tenant_admin_client.post(
        "payment-methods",
        {"type": "card", "stripe_payment_method_id": "pm_card_visa_chargeDeclined"},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "card_declined"
    assert "stripe_payment_method_id" in body["errors"]
    assert PaymentMethod.objects.count() == 0
    tenant.refresh_from_db()
    assert tenant.stripe_customer_id == ""


@pytest.mark.stripe
def test_unknown_payment_method_is_400(stripe_enabled, tenant, tenant_admin_client):
    response = tenant_admin_client.post(
        "payment-methods", {"type": "card", "stripe_payment_method_id": "pm_does_not_exist"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "payment_method_invalid"
    assert PaymentMethod.objects.count() == 0


@pytest.mark.stripe
def test_staff_attaches_and_lists_for_a_tenant(stripe_enabled, staff_client, tenant, other_tenant):
    response = staff_client.post(
        "payment-methods",
        {"stripe_payment_method_id": "pm_card_visa", "tenant_id": str(tenant.id)},
    )
    assert response.status_code == 201
    stored_pm(other_tenant)
    assert staff_client.get("payment-methods").json()["count"] == 2
    mine = staff_client.get("payment-methods", {"tenant_id": str(tenant.id)}).json()
    assert [m["id"] for m in mine["results"]] == [response.json()["id"]]


@pytest.mark.stripe
def test_idempotency_key_replays_the_first_answer(stripe_enabled, tenant, tenant_admin_client):
    body = {"type": "card", "stripe_payment_method_id": "pm_card_visa"}
    first = tenant_admin_client.post("payment-methods", body, HTTP_IDEMPOTENCY_KEY="card-1")
    second = tenant_admin_client.post("payment-methods", body, HTTP_IDEMPOTENCY_KEY="card-1")
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json() == second.json()
    assert PaymentMethod.objects.filter(tenant=tenant).count() == 1


@pytest.mark.stripe
def test_reattaching_the_same_payment_method_returns_it(
    stripe_enabled, tenant, tenant_admin_client
):
    pm_id = emulator_card(stripe_enabled, "4242424242424242")
    first = tenant_admin_client.post("payment-methods", {"stripe_payment_method_id": pm_id})
    second = tenant_admin_client.post("payment-methods", {"stripe_payment_method_id": pm_id})
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json() == second.json()
    assert PaymentMethod.objects.count() == 1


@pytest.mark.stripe
def test_attach_mirrors_into_djstripe_after_commit(
    stripe_enabled, tenant, tenant_admin_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = tenant_admin_client.post(
            "payment-methods", {"stripe_payment_method_id": "pm_card_visa"}
        )
    assert response.status_code == 201
    tenant.refresh_from_db()
    pm_id = response.json()["stripe_payment_method_id"]
    customer = MirrorCustomer.objects.get(id=tenant.stripe_customer_id)
    assert customer.email == tenant.email
    assert customer.default_payment_method.id == pm_id
    assert MirrorPaymentMethod.objects.get(id=pm_id).customer == customer


@pytest.mark.stripe
def test_a_mirror_failure_never_fails_the_request(
    settings, stripe_enabled, tenant, tenant_admin_client, django_capture_on_commit_callbacks
):
    # The emulator takes this key; dj-stripe refuses it (too short), so the mirror fails.
    settings.STRIPE_SECRET_KEY = "sk_test_short"
    stripe_gateway.reset_client()
    failures = stripe_mirror.mirror_failure_count()
    with django_capture_on_commit_callbacks(execute=True):
        response = tenant_admin_client.post(
            "payment-methods", {"stripe_payment_method_id": "pm_card_visa"}
        )
    assert response.status_code == 201
    assert PaymentMethod.objects.filter(tenant=tenant).count() == 1
    assert stripe_mirror.mirror_failure_count() == failures + 1
    assert not MirrorCustomer.objects.exists()
    assert TEST_SECRET_KEY != settings.STRIPE_SECRET_KEY


def test_payment_method_resolve_reads_a_pm_id_or_our_id(tenant, other_tenant):
    """One lookup for "a pm_... or our id": only the tenant's own, a bad UUID is a 400."""
    from billing_project.shared.errors import ValidationFailed
    from subscriptions.services.payment_methods import payment_method_resolve

    mine = stored_pm(tenant)
    theirs = stored_pm(other_tenant)
    for ref in (mine.stripe_payment_method_id, str(mine.pk), mine.pk):
        assert payment_method_resolve(tenant=tenant, ref=ref, now=FIXED_NOW) == mine
    for ref in (theirs.stripe_payment_method_id, str(theirs.pk), "pm_unknown"):
        assert payment_method_resolve(tenant=tenant, ref=ref, now=FIXED_NOW) is None
    with pytest.raises(ValidationFailed) as raised:
        payment_method_resolve(tenant=tenant, ref="not-a-uuid", now=FIXED_NOW)
    assert raised.value.errors == {"payment_method_id": ["Must be a valid UUID."]}
