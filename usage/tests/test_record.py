"""POST usage: one event."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from usage.models import UsageEvent, UsageHourly
from usage.tests.conftest import iso

pytestmark = pytest.mark.django_db


def test_records_an_event_and_its_rollup(tenant, tenant_admin_client, subscribe):
    subscribe(tenant)
    ts = datetime.now(UTC) - timedelta(hours=1)
    response = tenant_admin_client.post(
        "usage",
        {"metric_type": "api_calls", "quantity": 0.1, "timestamp": iso(ts), "unique_key": "u"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {
        "id",
        "tenant_id",
        "metric_type",
        "quantity",
        "timestamp",
        "idempotency_key",
        "unique_key",
        "received_at",
        "duplicate",
    }
    assert body["tenant_id"] == str(tenant.id)
    assert body["quantity"] == 0.1 and b'"quantity":0.1,' in response.content
    assert body["timestamp"] == iso(ts)
    assert body["duplicate"] is False and body["idempotency_key"] is None
    event = UsageEvent.objects.get()
    assert event.quantity == Decimal("0.1") and str(event.id) == body["id"]
    hourly = UsageHourly.objects.get()
    assert hourly.sum_value == Decimal("0.1") and hourly.event_count == 1
    assert hourly.hour == ts.replace(minute=0, second=0, microsecond=0)


def test_timestamp_defaults_to_now_and_strings_are_exact(tenant, tenant_member_client):
    response = tenant_member_client.post(
        "usage", {"metric_type": "storage_gb", "quantity": "123456789012.123456"}
    )
    assert response.status_code == 201, response.content
    assert b'"quantity":123456789012.123456' in response.content
    event = UsageEvent.objects.get()
    assert event.quantity == Decimal("123456789012.123456")
    assert abs(event.timestamp - datetime.now(UTC)) < timedelta(seconds=10)


def test_long_json_number_literal_is_kept_exactly(tenant, tenant_admin_client):
    raw = b'{"metric_type": "api_calls", "quantity": 999999999999.999999}'
    response = tenant_admin_client.raw.post(
        "/api/v1/billing/usage", raw, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert UsageEvent.objects.get().quantity == Decimal("999999999999.999999")


def test_over_precise_long_literal_is_rejected(tenant, tenant_admin_client):
    # As a float this is 0.1; the literal has 20 decimals.
    raw = b'{"metric_type": "api_calls", "quantity": 0.10000000000000000001}'
    response = tenant_admin_client.raw.post(
        "/api/v1/billing/usage", raw, content_type="application/json"
    )
    assert response.status_code == 400
    assert "quantity" in response.json()["errors"]
    assert UsageEvent.objects.count() == 0


def test_repeated_idempotency_key_returns_the_original(tenant, tenant_admin_client):
    first = tenant_admin_client.post(
        "usage", {"metric_type": "api_calls", "quantity": 5, "idempotency_key": "evt-1"}
    )
    assert first.status_code == 201
    again = tenant_admin_client.post(
        "usage", {"metric_type": "ai_requests", "quantity": 99, "idempotency_key": "evt-1"}
    )
    assert again.status_code == 200
    body = again.json()
    assert body["duplicate"] is True and "original" in body["message"]
    assert body["id"] == first.json()["id"]
    assert body["metric_type"] == "api_calls" and body["quantity"] == 5
    assert UsageEvent.objects.count() == 1
    assert UsageHourly.objects.get().sum_value == 5


def test_idempotency_keys_are_per_tenant(tenant, other_tenant, admin_client_for):
    for t in (tenant, other_tenant):
        response = admin_client_for(t).post(
            "usage", {"metric_type": "api_calls", "quantity": 1, "idempotency_key": "same"}
        )
        assert response.status_code == 201
    assert UsageEvent.objects.count() == 2


def test_without_key_each_request_is_a_new_event(tenant, tenant_admin_client):
    for _ in range(2):
        assert tenant_admin_client.post("usage", {"metric_type": "api_calls", "quantity": 1})
    assert UsageEvent.objects.count() == 2
    assert UsageHourly.objects.get().event_count == 2


def _now():
    return datetime.now(UTC)


BAD_BODIES = [
    ({"metric_type": "nope", "quantity": 1}, "metric_type"),
    ({"quantity": 1}, "metric_type"),
    ({"metric_type": 5, "quantity": 1}, "metric_type"),
    ({"metric_type": "api_calls"}, "quantity"),
    ({"metric_type": "api_calls", "quantity": -1}, "quantity"),
    ({"metric_type": "api_calls", "quantity": "-0.5"}, "quantity"),
    ({"metric_type": "api_calls", "quantity": "NaN"}, "quantity"),
    ({"metric_type": "api_calls", "quantity": "Infinity"}, "quantity"),
    ({"metric_type": "api_calls", "quantity": "-Infinity"}, "quantity"),
    ({"metric_type": "api_calls", "quantity": "abc"}, "quantity"),
    ({"metric_type": "api_calls", "quantity": "1_000"}, "quantity"),
    ({"metric_type": "api_calls", "quantity": ""}, "quantity"),
    ({"metric_type": "api_calls", "quantity": None}, "quantity"),
    ({"metric_type": "api_calls", "quantity": True}, "quantity"),
    ({"metric_type": "api_calls", "quantity": [1]}, "quantity"),
    ({"metric_type": "api_calls", "quantity": {"v": 1}}, "quantity"),
    ({"metric_type": "api_calls", "quantity": 0.0000001}, "quantity"),
    ({"metric_type": "api_calls", "quantity": "1.1234567"}, "quantity"),
    ({"metric_type": "api_calls", "quantity": 10**12 + 1}, "quantity"),
    ({"metric_type": "api_calls", "quantity": "1000000000000.000001"}, "quantity"),
    ({"metric_type": "api_calls", "quantity": 1e20}, "quantity"),
    ({"metric_type": "api_calls", "quantity": 1, "timestamp": "yesterday"}, "timestamp"),
    ({"metric_type": "api_calls", "quantity": 1, "timestamp": 1700000000}, "timestamp"),
    ({"metric_type": "api_calls", "quantity": 1, "timestamp": "2026-13-01T00:00:00Z"}, "timestamp"),
    ({"metric_type": "api_calls", "quantity": 1, "idempotency_key": "k" * 256}, "idempotency_key"),
    ({"metric_type": "api_calls", "quantity": 1, "idempotency_key": 12}, "idempotency_key"),
    ({"metric_type": "api_calls", "quantity": 1, "idempotency_key": ""}, "idempotency_key"),
    ({"metric_type": "api_calls", "quantity": 1, "unique_key": "u" * 256}, "unique_key"),
]


@pytest.mark.parametrize(("body", "field"), BAD_BODIES)
def test_bad_input_is_rejected_and_nothing_stored(tenant, tenant_admin_client, body, field):
    response = tenant_admin_client.post("usage", body)
    assert response.status_code == 400, response.content
    error = response.json()
    assert error["code"] == "validation_error" and error["message"]
    assert field in error["errors"]
    assert UsageEvent.objects.count() == 0 and UsageHourly.objects.count() == 0


def test_far_future_timestamp_is_rejected_near_future_accepted(tenant, tenant_admin_client):
    late = {
        "metric_type": "api_calls",
        "quantity": 1,
        "timestamp": iso(_now() + timedelta(minutes=6)),
    }
    assert tenant_admin_client.post("usage", late).status_code == 400
    soon = {
        "metric_type": "api_calls",
        "quantity": 1,
        "timestamp": iso(_now() + timedelta(minutes=4)),
    }
    assert tenant_admin_client.post("usage", soon).status_code == 201


@pytest.mark.parametrize(
    "raw",
    [b"[1, 2]", b'"text"', b"{not json", b'{"metric_type": "api_calls", "quantity": NaN}', b"null"],
)
def test_wrong_json_types_are_rejected(tenant, tenant_admin_client, raw):
    response = tenant_admin_client.raw.post(
        "/api/v1/billing/usage", raw, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    malformed = raw.startswith(b"{not") or b"NaN" in raw
    assert response.json()["code"] == ("parse_error" if malformed else "validation_error")
    assert UsageEvent.objects.count() == 0


def test_unique_count_metric_requires_a_unique_key(tenant, tenant_admin_client):
    from subscriptions.models import Metric

    Metric.objects.create(metric_type="seats", name="Seats", aggregation="unique_count")
    response = tenant_admin_client.post("usage", {"metric_type": "seats", "quantity": 1})
    assert response.status_code == 400 and "unique_key" in response.json()["errors"]


def test_event_before_subscription_start_is_rejected(tenant, tenant_admin_client, subscribe):
    start = _now() - timedelta(days=2)
    subscribe(tenant, start=start)
    before = {
        "metric_type": "api_calls",
        "quantity": 1,
        "timestamp": iso(start - timedelta(seconds=1)),
    }
    response = tenant_admin_client.post("usage", before)
    assert response.status_code == 400 and "timestamp" in response.json()["errors"]
    at_start = {"metric_type": "api_calls", "quantity": 1, "timestamp": iso(start)}
    assert tenant_admin_client.post("usage", at_start).status_code == 201
    assert UsageEvent.objects.count() == 1


def test_closed_period_bounds_new_events(tenant, tenant_admin_client, subscribe):
    from django.db import transaction

    from usage.models import UsagePeriodClose
    from usage.services import usage_period_close, usage_periods_close

    period_start = _now() - timedelta(days=40)
    period_end = _now() - timedelta(days=10)
    subscribe(tenant, start=period_end, started_at=period_start)
    late = {
        "metric_type": "api_calls",
        "quantity": 1,
        "timestamp": iso(period_end - timedelta(days=1)),
    }
    # Late event in the closed-but-not-invoiced period: it counts there.
    assert tenant_admin_client.post("usage", late).status_code == 201
    close = usage_period_close(
        tenant_id=tenant.id, period_start=period_start, period_end=period_end, now=_now()
    )
    again = usage_period_close(
        tenant_id=tenant.id, period_start=period_start, period_end=period_end, now=_now()
    )
    assert close.pk == again.pk
    # The chunk form: idempotent too, and closes a new period next to the closed one.
    with transaction.atomic():
        usage_periods_close(
            periods=[
                (tenant.id, period_start, period_end),
                (tenant.id, period_end, period_end + timedelta(days=1)),
            ],
            now=_now(),
        )
    closes = UsagePeriodClose.objects.filter(tenant=tenant).order_by("period_start")
    assert [(c.pk == close.pk, c.period_end) for c in closes] == [
        (True, period_end),
        (False, period_end + timedelta(days=1)),
    ]
    UsagePeriodClose.objects.exclude(pk=close.pk).delete()
    assert tenant_admin_client.post("usage", late).status_code == 400
    batch = tenant_admin_client.post("usage/batch", {"records": [late]})
    assert batch.status_code == 400 and "0" in batch.json()["errors"]["records"]
    ok = {"metric_type": "api_calls", "quantity": 1, "timestamp": iso(period_end)}
    assert tenant_admin_client.post("usage", ok).status_code == 201
    assert UsageEvent.objects.count() == 2


def test_tenant_id_of_own_tenant_is_ignored_other_is_404(tenant, other_tenant, tenant_admin_client):
    own = {"metric_type": "api_calls", "quantity": 1, "tenant_id": str(tenant.id)}
    assert tenant_admin_client.post("usage", own).status_code == 201
    other = {"metric_type": "api_calls", "quantity": 1, "tenant_id": str(other_tenant.id)}
    response = tenant_admin_client.post("usage", other)
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    batch = tenant_admin_client.post("usage/batch", {**other, "records": [own]})
    assert batch.status_code == 404
    assert UsageEvent.objects.filter(tenant=other_tenant).count() == 0
    assert UsageEvent.objects.count() == 1


def test_staff_names_the_tenant(tenant, staff_client):
    body = {"metric_type": "api_calls", "quantity": 1}
    missing = staff_client.post("usage", body)
    assert missing.status_code == 400 and "tenant_id" in missing.json()["errors"]
    assert staff_client.post("usage", {**body, "tenant_id": "not-a-uuid"}).status_code == 400
    unknown = {**body, "tenant_id": "00000000-0000-0000-0000-000000000001"}
    assert staff_client.post("usage", unknown).status_code == 404
    response = staff_client.post("usage", {**body, "tenant_id": str(tenant.id)})
    assert response.status_code == 201 and response.json()["tenant_id"] == str(tenant.id)


def test_requires_a_token(anon_client):
    assert anon_client.post("usage", {"metric_type": "api_calls", "quantity": 1}).status_code == 401


def test_idempotency_key_header_replays(tenant, tenant_admin_client):
    body = {"metric_type": "api_calls", "quantity": 1}
    first = tenant_admin_client.post("usage", body, HTTP_IDEMPOTENCY_KEY="h-1")
    second = tenant_admin_client.post("usage", body, HTTP_IDEMPOTENCY_KEY="h-1")
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert UsageEvent.objects.count() == 1


LONG_NUMBER = b"12345678901234567"  # 17 digits: the body takes the exact (json.loads) path


@pytest.mark.parametrize("path", ["usage", "usage/batch"])
@pytest.mark.parametrize("field", ["idempotency_key", "unique_key"])
@pytest.mark.parametrize("long_number", [False, True])
def test_lone_surrogates_are_refused_on_every_parsing_path(
    tenant, tenant_admin_client, path, field, long_number
):
    record = b'{"metric_type": "api_calls", "quantity": 1, "%s": "a\\ud800b"' % field.encode()
    record += b', "note": %s}' % LONG_NUMBER if long_number else b"}"
    body = record if path == "usage" else b'{"records": [%s]}' % record
    response = tenant_admin_client.raw.post(
        f"/api/v1/billing/{path}", body, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert UsageEvent.objects.count() == 0


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": "\\udc00"}',  # a lone low surrogate
        b'{"a": "\xed\xa0\x80"}',  # a surrogate encoded as UTF-8
        b'{"a": "\xff"}',  # not UTF-8
        b'\xef\xbb\xbf{"a": 1}',  # byte-order mark
        b'{"a": NaN}',
        b'{"a": Infinity}',
        b'{"a": 1e400}',
        b"[" * 2000 + b"]" * 2000,
        b'{"a": 1} x',
    ],
)
def test_both_decoders_refuse_the_same_bodies(raw):
    from usage.validation import decode_body

    for body in (raw, raw.replace(b"{", b'{"n": %s, ' % LONG_NUMBER, 1)):
        with pytest.raises(ValueError):
            decode_body(body)


def test_valid_surrogate_pairs_pass_both_decoders():
    from usage.validation import decode_body

    body = b'{"k": "\\ud83d\\ude00", "n": %s}' % LONG_NUMBER
    assert decode_body(body)["k"] == "\U0001f600"
    assert decode_body(body.replace(LONG_NUMBER, b"1"))["k"] == "\U0001f600"
