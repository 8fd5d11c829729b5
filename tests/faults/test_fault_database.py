"""PostgreSQL connection dropped mid-request: a TCP proxy in front of the database cuts the
request's connection at a chosen statement (its COMMIT, or an INSERT inside the transaction),
against a live server. Nothing is half-written, the client gets the contract's JSON 503, and the
same request sent again (with or without its Idempotency-Key) succeeds once."""

import pytest
import requests
from django.db import connections

from invoicing.models import Invoice, NumberSequence
from ledger.models import JournalEntry
from tests.faults.servers import TcpProxy
from usage.models import UsageEvent, UsageHourly

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

API = "/api/v1/billing/"


@pytest.fixture
def db_proxy():
    """New database connections (the live server's request threads) go through the proxy."""
    connections["default"].ensure_connection()  # the test's own connection stays direct
    db = connections["default"].settings_dict
    proxy = TcpProxy(db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432))
    saved = {key: db.get(key) for key in ("HOST", "PORT")}
    saved_options = dict(db.get("OPTIONS") or {})
    db["HOST"], db["PORT"] = "127.0.0.1", str(proxy.port)
    db["OPTIONS"] = {**saved_options, "sslmode": "disable"}  # the proxy reads the statements
    yield proxy
    db["HOST"], db["PORT"] = saved["HOST"], saved["PORT"]
    db["OPTIONS"] = saved_options
    connections["default"].close()
    proxy.close()


def _post(live_server, token, path, body, key=None):
    headers = {"Authorization": f"Bearer {token}"}
    if key:
        headers["Idempotency-Key"] = key
    return requests.post(f"{live_server.url}{API}{path}", json=body, headers=headers, timeout=30)


BATCH = {
    "records": [{"metric_type": "api_calls", "quantity": 10}] * 3
    + [{"metric_type": "storage_gb", "quantity": 4}]
}


def test_usage_batch_cut_mid_request_stores_nothing_and_a_retry_stores_it_once(
    live_server, db_proxy, tenant, token_for
):
    token = token_for("tenant_member", tenant)
    stored = 0
    cuts = [
        (b"usage_event", None, None),  # at the events' INSERT, mid-transaction; no key
        (b"COMMIT", b"usage_event", "batch-2"),  # at the COMMIT, every row written; a key
    ]
    for statement, after, key in cuts:
        db_proxy.cut_on(statement, after=after)
        response = _post(live_server, token, "usage/batch", BATCH, key)
        assert db_proxy.trigger is None, "the request never sent the statement"
        assert response.status_code == 503, response.content
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.json()["code"] == "service_unavailable"
        assert UsageEvent.objects.filter(tenant=tenant).count() == stored  # nothing half-written
        assert UsageHourly.objects.filter(tenant=tenant).count() == (2 if stored else 0)

        retry = _post(live_server, token, "usage/batch", BATCH, key)
        assert retry.status_code == 201, retry.content
        assert retry.json() == {"received": 4, "accepted": 4, "duplicates": 0}
        stored += 4
        assert UsageEvent.objects.filter(tenant=tenant).count() == stored
    # The same key again replays the stored answer: nothing counted twice.
    again = _post(live_server, token, "usage/batch", BATCH, "batch-2")
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert UsageEvent.objects.filter(tenant=tenant).count() == stored == 8
    hourly = {row.metric.metric_type: row for row in UsageHourly.objects.filter(tenant=tenant)}
    assert hourly["api_calls"].sum_value == 60 and hourly["api_calls"].event_count == 6
    assert hourly["storage_gb"].max_value == 4
    assert db_proxy.cuts == 2


def _draft(live_server, token, tenant, amount):
    line = {"description": "Setup", "quantity": 1, "unit_price": amount, "total": amount}
    response = _post(
        live_server, token, "invoices", {"tenant_id": str(tenant.pk), "line_items": [line]}
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def test_invoice_finalize_cut_at_commit_keeps_the_draft_and_the_number(
    live_server, db_proxy, tenant, token_for
):
    token = token_for("staff")
    first, second = (
        _draft(live_server, token, tenant, 1200),
        _draft(live_server, token, tenant, 3400),
    )
    assert _post(live_server, token, f"invoices/{first}/finalize", {}).status_code == 200
    entries = JournalEntry.objects.count()
    sequence = list(NumberSequence.objects.values_list("last_value", flat=True))

    db_proxy.cut_on(b"COMMIT", after=b"invoicing_invoice")
    response = _post(live_server, token, f"invoices/{second}/finalize", {}, "fin-2")
    assert db_proxy.cuts == 1
    assert response.status_code == 503, response.content
    assert response.json()["code"] == "service_unavailable"
    invoice = Invoice.objects.get(pk=second)
    assert (invoice.status, invoice.number, invoice.issued_at) == ("draft", None, None)
    assert JournalEntry.objects.count() == entries  # no posting for the lost finalization
    assert list(NumberSequence.objects.values_list("last_value", flat=True)) == sequence

    retry = _post(live_server, token, f"invoices/{second}/finalize", {}, "fin-2")
    assert retry.status_code == 200, retry.content
    numbers = [Invoice.objects.get(pk=pk).number.rsplit("-", 1)[1] for pk in (first, second)]
    assert numbers == ["000001", "000002"]  # gapless: the lost commit took no number
    assert JournalEntry.objects.count() == entries + 1
