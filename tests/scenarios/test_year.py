"""A year of billing (issue 17 part 1): thirteen tenants and two subsidiaries, driven through the
public API with staff and tenant tokens, `run_billing_cycle --now` replayed from 2026-01-01 to
2027-01-01 (the 1st, 2nd, 4th, 8th and 15th of each month, as beat's hourly run would have on
those days), the Stripe emulator charging cards (4000000000000341 declines at charge time).

Every invoice is checked to the cent against EXPECTED, computed by hand from the catalog
(product.md section 4: Developer 5000, Team 20000, Enterprise 80000; overage cents per unit:
api_calls 1, storage_gb 500, ai_requests 2, active_users 1000, concurrent_sessions 200), the
tax tables (CA 8.25, NY 8, TX 6.25, WA 6.5, DE 19; a FR business with a VAT id is reverse
charged) and the rules (fees in advance, overages in arrears, half-up once per line). Then the
identities: invoices - credit notes - payments = open amounts due = the ledger's receivable;
each month's net new MRR = MRR(end) - MRR(start); usage_reconcile and ledger_check find nothing.
"""

from collections import defaultdict
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from analytics.selectors.mrr import mrr_at
from invoicing.models import CreditNote, Invoice, ManualPayment
from subscriptions.models import Subscription
from subscriptions.services.catalog import metric_create
from tests.scenarios.world import DECLINING_CARD, World, at

pytestmark = [pytest.mark.django_db, pytest.mark.stripe]

MONTHS = [f"2026-{m:02d}-01" for m in range(2, 13)] + ["2027-01-01"]  # the boundaries
ALL_YEAR = ["2026-01-01", *MONTHS]


def every(days: list[str], kind: str, subtotal: int, discount: int, tax: int, total: int):
    return {(day, kind): (subtotal, discount, tax, total) for day in days}


# (issue day, kind) -> (subtotal, discount, tax, total), per tenant. "subscription" invoices on
# the 1st bill that month's fee and the previous month's overages.
EXPECTED: dict[str, dict] = {
    # Developer, Oregon (out of scope), card. Every month api_calls 7000 + 5000 = 12000 (sum,
    # 2000 over 10000 x 1 = 2000) and ai_requests 300 + 500 = 800 (sum, 300 over 500 x 2 = 600).
    "oregon": {
        ("2026-01-01", "subscription"): (5000, 0, 0, 5000),
        **every(MONTHS, "subscription", 7600, 0, 0, 7600),
    },
    # Team, California 8.25 %, coupon FOREVER10 (10 % forever), card. January only: storage_gb
    # 80, 130, 90 (max 130: 30 over 100 x 500 = 15000), active_users 20, 27 (max: 2 x 1000),
    # concurrent_sessions 55 (5 x 200 = 1000). Tax per line after its discount: the fee
    # 18000 x 8.25 % = 1485; 15000 -> 1237.5 -> 1238; 2000 -> 165; 1000 -> 82.5 -> 83.
    "california": {
        ("2026-01-01", "subscription"): (20000, 2000, 1485, 19485),
        ("2026-02-01", "subscription"): (38000, 2000, 1485 + 1238 + 165 + 83, 38971),
        **every(MONTHS[1:], "subscription", 20000, 2000, 1485, 19485),
    },
    # Developer with a 14-day trial from Jan 1 (ends Jan 15), New York 8 %, coupon HALFOFF (50 %,
    # once: the redemption's period), card. Trial end: 17 of 31 days, 5000 x 17/31 = 2741.9 ->
    # 2742, less 1371; tax 1371 x 8 % = 109.68 -> 110. Upgrade to Team on Apr 10 12:00:
    # (20000 - 5000) x 21/30 = 10500, tax 840. Downgrade asked Aug 20, from the Sep 1 period.
    "newyork": {
        ("2026-01-15", "subscription"): (2742, 1371, 110, 1481),
        **every(MONTHS[:3], "subscription", 5000, 0, 400, 5400),
        ("2026-04-10", "proration"): (10500, 0, 840, 11340),
        **every(MONTHS[3:7], "subscription", 20000, 0, 1600, 21600),
        **every(MONTHS[7:], "subscription", 5000, 0, 400, 5400),
    },
    # Team with a 28-day trial from Feb 1 (ends on the Mar 1 boundary), cancelled at period end
    # during the trial: never billed.
    "texas": {},
    # Team, Washington 6.5 %, coupon WELCOME20 (20 %, 3 months), card. 16000 x 6.5 % = 1040.
    # June: api_calls 150000 (50000 over 100000 x 1); cancelled Jun 20 at period end: the final
    # invoice on Jul 1 bills June's overage only, tax 3250.
    "washington": {
        **every(ALL_YEAR[:3], "subscription", 20000, 4000, 1040, 17040),
        **every(ALL_YEAR[3:6], "subscription", 20000, 0, 1300, 21300),
        ("2026-07-01", "final"): (50000, 0, 3250, 53250),
    },
    # Developer, a German consumer: VAT 19 % (950), no card: pays by transfer on the 8th.
    "germany": every(ALL_YEAR, "subscription", 5000, 0, 950, 5950),
    # Team, a French business with a VAT id: reverse charge, 0 %. June: ai_requests 6000
    # (1000 over 5000 x 2 = 2000) on the Jul 1 invoice.
    "france": {
        **every(ALL_YEAR, "subscription", 20000, 0, 0, 20000),
        ("2026-07-01", "subscription"): (22000, 0, 0, 22000),
    },
    # Developer from Mar 1 with the declining card: declined day 0, 1 and 3; a good card made
    # the default on Mar 6 pays it. Oregon.
    "recovers": every(ALL_YEAR[2:], "subscription", 5000, 0, 0, 5000),
    # Developer from Apr 1 with the declining card: suspended on day 14 (Apr 15), paid by
    # transfer on Apr 20, a good card from Apr 21.
    "suspended": every(ALL_YEAR[3:], "subscription", 5000, 0, 0, 5000),
    # Developer from May 1 with the declining card: suspended May 15, cancelled on day 30
    # (May 31, no overage: no final invoice); the invoice stays open.
    "cancelled": {("2026-05-01", "subscription"): (5000, 0, 0, 5000)},
    # Enterprise under a contract from Jan 1 (Oregon; transfers on the 8th): base 500000, 1500
    # per active user, api_calls at 0.5 over the plan's 1,000,000, 5 % off from a 550000
    # subtotal, a 7,000,000 annual minimum. Jan usage: 30 users (45000), 1,200,000 calls
    # (200000 x 0.5 = 100000): 645000, less 32250 = 612750. June: 40 users (60000): 560000,
    # less 28000 = 532000. Year 1 billed: 500000 x 10 + 612750 + 532000 = 6144750, so the
    # Jan 1 2027 invoice adds a true-up of 855250 (undiscounted) to its 500000 fee.
    "contract": {
        ("2026-01-01", "subscription"): (500000, 0, 0, 500000),
        ("2026-02-01", "subscription"): (645000, 32250, 0, 612750),
        **every(MONTHS[1:5], "subscription", 500000, 0, 0, 500000),
        ("2026-07-01", "subscription"): (560000, 28000, 0, 532000),
        **every(MONTHS[6:11], "subscription", 500000, 0, 0, 500000),
        ("2027-01-01", "subscription"): (1355250, 0, 0, 1355250),
    },
    # The parent (New York, card) of West (Oregon, Team) and Labs (California, Developer),
    # consolidated 60/40: one invoice a month, 20000 + 5000 + Labs' tax 412.5 -> 413. Labs used
    # 15000 api_calls in March: 5000 more on Apr 1, taxed 413 again.
    "corp": {
        **every(ALL_YEAR, "consolidated", 25000, 0, 413, 25413),
        ("2026-04-01", "consolidated"): (30000, 0, 826, 30826),
    },
    "west": {},
    "labs": {},
    # The Growth plan (10000; staff-made), Oregon, card, with the two other aggregations. Jan:
    # api_calls 60000 (sum, 10000 over 50000 x 1), storage_gb 25 (max, 5 over 20 x 500 = 2500),
    # projects 4 then 7 (latest: 7, 2 over 5 x 300 = 600), visitors u1 u2 u1 u3 u4 u5 u2
    # (unique count: 5, 2 over 3 x 50 = 100): 23200 on Feb 1.
    "growth": {
        **every(ALL_YEAR, "subscription", 10000, 0, 0, 10000),
        ("2026-02-01", "subscription"): (23200, 0, 0, 23200),
    },
}

# MRR at Dec 31 23:59:59 (cents): oregon 5000, california 18000 (forever 10 %), newyork 5000,
# germany 5000, france 20000, recovers 5000, suspended 5000, the contract's base 500000, west
# 20000, labs 5000, growth 10000; texas (never paid), washington and cancelled (churned): 0.
DECEMBER_MRR = 598000

CYCLE_DAYS = (1, 2, 4, 8, 15)


class Timeline:
    """What happens in the year, in time order: `t.on(when).usage(...)` schedules
    `world.usage(when, ...)`; `run()` plays it all."""

    def __init__(self, world: World):
        self.world = world
        self.actions = []

    def on(self, when):
        timeline = self

        class Scheduled:
            def __getattr__(self, name):
                method = getattr(timeline.world, name)

                def schedule(*args, **kwargs):
                    timeline.actions.append((when, len(timeline.actions), method, args, kwargs))

                return schedule

        return Scheduled()

    def run(self):
        for when, _order, method, args, kwargs in sorted(self.actions, key=lambda a: a[:2]):
            method(when, *args, **kwargs)


def setup_year(w: World, t: Timeline):
    jan1 = at(1, 1)
    with w.on(jan1):
        # Metrics are made in the admin (no API); the plan through POST plans.
        metric_create(metric_type="projects", name="Projects", aggregation="latest")
        metric_create(metric_type="visitors", name="Visitors", aggregation="unique_count")
        w.ok(
            w.staff.post(
                "plans",
                {
                    "slug": "growth",
                    "name": "Growth",
                    "amount": 10000,
                    "metrics": {
                        "api_calls": {"limit": 50000, "unit_price_cents": 1},
                        "storage_gb": {"limit": 20, "unit_price_cents": 500},
                        "projects": {"limit": 5, "unit_price_cents": 300},
                        "visitors": {"limit": 3, "unit_price_cents": 50},
                    },
                },
            ),
            201,
        )
        for code, terms in (
            ("FOREVER10", {"percent_off": 10, "duration": "forever"}),
            ("HALFOFF", {"percent_off": 50, "duration": "once"}),
            ("WELCOME20", {"percent_off": 20, "duration": "repeating", "duration_in_months": 3}),
        ):
            w.ok(w.staff.post("coupons", {"code": code, **terms}), 201)
    us = {"country": "US"}
    w.tenant(jan1, "oregon", **us, state="OR")
    w.tenant(jan1, "california", **us, state="CA", postal_code="94105")
    w.tenant(jan1, "newyork", **us, state="NY", postal_code="10001")
    w.tenant(jan1, "texas", **us, state="TX")
    w.tenant(jan1, "washington", **us, state="WA")
    w.tenant(jan1, "germany", country="DE")
    w.tenant(jan1, "france", country="FR", vat_id="FR40303265045")
    for key in ("recovers", "suspended", "cancelled", "contract", "west", "growth"):
        w.tenant(jan1, key, **us, state="OR")
    w.tenant(jan1, "labs", **us, state="CA")
    w.tenant(jan1, "corp", **us, state="NY")
    for key in ("oregon", "california", "newyork", "washington", "france", "corp", "growth"):
        w.card(jan1, key)
    with w.on(jan1):
        w.ok(
            w.staff.post(
                "contracts",
                {
                    "tenant_id": w.ids["contract"],
                    "start_date": "2026-01-01",
                    "contract_terms": {
                        "annual_minimum": 7000000,
                        "custom_pricing": {
                            "base_price": 500000,
                            "user_price": 1500,
                            "overage_rates": {"api_calls": 0.5},
                        },
                        "payment_terms": "Net 30",
                        "auto_renewal": True,
                        "volume_discounts": [{"threshold": 550000, "discount": 5}],
                    },
                },
            ),
            201,
        )
        w.ok(
            w.staff.post(
                "hierarchies",
                {
                    "parent_entity": {
                        "tenant_id": w.ids["corp"],
                        "billing_consolidation": True,
                        "payment_responsibility": True,
                    },
                    "child_entities": [
                        {"tenant_id": w.ids["west"], "cost_allocation": 60},
                        {"tenant_id": w.ids["labs"], "cost_allocation": 40},
                    ],
                },
            ),
            201,
        )

    # --- subscriptions and what the tenants do, in time order ---------------------------------
    t.on(jan1).subscribe("oregon", "developer")
    t.on(jan1).subscribe("california", "team", coupon_code="FOREVER10")
    t.on(jan1).subscribe("newyork", "developer", trial_period_days=14, coupon_code="HALFOFF")
    t.on(jan1).subscribe("washington", "team", coupon_code="WELCOME20")
    for key, plan in (
        ("germany", "developer"),
        ("france", "team"),
        ("contract", "enterprise"),
        ("west", "team"),
        ("labs", "developer"),
        ("growth", "growth"),
    ):
        t.on(jan1).subscribe(key, plan)
    for month in range(1, 13):
        t.on(at(month, 5, 9)).usage("oregon", "api_calls", 7000)
        t.on(at(month, 12, 9)).usage_batch(
            "oregon",
            [
                {"metric_type": "ai_requests", "quantity": 300, "date": f"2026-{month:02d}-11"},
                {"metric_type": "ai_requests", "quantity": 500, "date": f"2026-{month:02d}-12"},
            ],
        )
        t.on(at(month, 20, 9)).usage("oregon", "api_calls", 5000)
        t.on(at(month, 8, 10)).pay_open_invoices("germany")
        t.on(at(month, 8, 10)).pay_open_invoices("contract")
    for day, metric, quantity in (
        (3, "storage_gb", 80),
        (10, "storage_gb", 130),
        (25, "storage_gb", 90),
        (3, "active_users", 20),
        (18, "active_users", 27),
        (9, "concurrent_sessions", 55),
    ):
        t.on(at(1, day, 10)).usage("california", metric, quantity)
    t.on(at(1, 14, 10)).usage("contract", "active_users", 30)
    t.on(at(1, 14, 10)).usage("contract", "api_calls", 1200000)
    t.on(at(6, 14, 10)).usage("contract", "active_users", 40)
    t.on(at(1, 5, 11)).usage("growth", "api_calls", 60000)
    t.on(at(1, 6, 11)).usage("growth", "storage_gb", 25)
    t.on(at(1, 5, 11)).usage("growth", "projects", 4)
    t.on(at(1, 25, 11)).usage("growth", "projects", 7)
    for day, visitor in enumerate(["u1", "u2", "u1", "u3", "u4", "u5", "u2"], start=10):
        t.on(at(1, day, 11)).usage("growth", "visitors", 1, unique_key=visitor)
    t.on(at(2, 1)).subscribe("texas", "team", trial_period_days=28)
    t.on(at(2, 10)).change(
        "texas", cancel_at_period_end=True, cancellation_reason="trial not converted"
    )
    t.on(at(3, 5, 10)).credit_note("germany", "2026-03-01", 1190)
    t.on(at(3, 14)).usage("labs", "api_calls", 15000)
    # Declines: each starts on the 1st with the card that fails at charge time.
    for key, month in (("recovers", 3), ("suspended", 4), ("cancelled", 5)):
        t.on(at(month, 1)).card(key, DECLINING_CARD)
        t.on(at(month, 1)).subscribe(key, "developer")
    t.on(at(3, 4, 2)).expect_status("recovers", "past_due", "full")  # day 3
    t.on(at(3, 6, 12)).card("recovers", default=True)
    t.on(at(3, 6, 13)).expect_status("recovers", "active", "full")
    t.on(at(4, 15, 2)).expect_status("suspended", "suspended", "degraded")  # day 14
    t.on(at(4, 20, 12)).pay_open_invoices("suspended")
    t.on(at(4, 20, 13)).expect_status("suspended", "active", "full")
    t.on(at(4, 21, 12)).card("suspended", default=True)
    t.on(at(5, 15, 2)).expect_status("cancelled", "suspended", "degraded")
    t.on(at(5, 31, 2)).expect_status("cancelled", "cancelled", "none")  # day 30
    t.on(at(4, 10, 12)).change("newyork", plan_id="team", prorate=True)
    t.on(at(6, 10, 12)).usage("washington", "api_calls", 150000)
    t.on(at(6, 12, 12)).usage("france", "ai_requests", 6000)
    t.on(at(6, 20, 12)).change(
        "washington", cancel_at_period_end=True, cancellation_reason="Too expensive!"
    )
    t.on(at(8, 20, 12)).change("newyork", plan_id="developer")

    # --- beat: the billing cycle ---------------------------------------------------------------
    for month in range(1, 13):
        for day in CYCLE_DAYS:
            t.on(at(month, day, 1)).cycle()
    t.on(at(5, 31, 1)).cycle()  # day 30 of the May 1 decline
    t.on(at(1, 1, 1, year=2027)).cycle()


@pytest.fixture
def world(
    staff_client, admin_client_for, stripe_enabled, django_capture_on_commit_callbacks, monkeypatch
):
    from subscriptions.models import Tenant

    # PDFs and emails are not what this test is about (they have their own): skip rendering.
    monkeypatch.setattr("invoicing.tasks.invoice_deliver", lambda **kwargs: None)
    # Nor is the dj-stripe mirror (the emulator's payloads are of an older shape it rejects:
    # each charge would record a MirrorFailure, ~0.15 s each; payments/tests test the mirror).
    monkeypatch.setattr("payments.services.collection._mirror_after", lambda state: None)
    return World(
        staff=staff_client,
        client_for=lambda tenant_id: admin_client_for(Tenant.objects.get(pk=tenant_id)),
        capture=django_capture_on_commit_callbacks,
        stripe_url=stripe_enabled,
    )


def invoices_by_tenant(world: World) -> dict[str, dict]:
    names = {tenant_id: key for key, tenant_id in world.ids.items()}
    found: dict[str, dict] = defaultdict(dict)
    for invoice in Invoice.objects.exclude(status="draft").order_by("issued_at"):
        key = (invoice.issued_at.date().isoformat(), invoice.kind)
        assert key not in found[names[str(invoice.tenant_id)]], key
        found[names[str(invoice.tenant_id)]][key] = (
            invoice.subtotal,
            invoice.discount,
            invoice.tax,
            invoice.total,
        )
    return found


def test_a_year_of_billing(world):
    timeline = Timeline(world)
    setup_year(world, timeline)
    timeline.run()
    end = at(1, 2, 12, year=2027)

    # --- every invoice, to the cent --------------------------------------------------------------
    found = invoices_by_tenant(world)
    for key, expected in EXPECTED.items():
        assert dict(found.get(key, {})) == expected, key
    assert set(found) <= set(EXPECTED)
    assert sum(map(len, found.values())) == sum(map(len, EXPECTED.values())) == 134

    # --- what happened to whom ---------------------------------------------------------------
    def sub(key):
        return Subscription.objects.get(pk=world.subscriptions[key])

    assert (sub("texas").status, sub("washington").status) == ("cancelled", "cancelled")
    assert (sub("cancelled").status, sub("cancelled").cancellation_reason) == (
        "cancelled",
        "non_payment",
    )
    assert sub("suspended").status == "active" and sub("recovers").status == "active"
    assert sub("newyork").plan.slug == "developer"
    with time_machine.travel(end, tick=False):
        for key, expected in (("cancelled", "cancelled"), ("suspended", "active")):
            tenant = world.ok(world.staff.get(f"tenants/{world.ids[key]}"))
            assert tenant["status"] == expected, key

    # --- money: invoices - credit notes - payments = open amounts due = the receivable -------
    issued = Invoice.objects.exclude(status__in=("draft", "void"))
    invoiced = sum(i.total for i in issued)
    credited = sum(n.total for n in CreditNote.objects.all())
    paid = sum(p.amount for p in ManualPayment.objects.all())
    open_due = sum(i.amount_due for i in issued.filter(status="open"))
    with time_machine.travel(end, tick=False):
        balances = world.ok(
            world.staff.get("ledger/trial-balance", {"as_of": "2027-01-02", "currency": "usd"})
        )
    (usd,) = balances if isinstance(balances, list) else [balances]
    accounts = {a["code"]: a for a in usd["accounts"]}
    receivable = accounts["1100"]["debit"] - accounts["1100"]["credit"]
    assert invoiced - credited - paid == open_due == receivable
    # open on Jan 2 2027: germany's Jan 2027 invoice (transfers come on the 8th), the contract's
    # Jan 2027 invoice (Net 30) and the May invoice of the tenant cancelled for non-payment
    assert open_due == 5950 + 1355250 + 5000
    assert usd["totals"]["debit"] == usd["totals"]["credit"]

    # --- MRR movements add up, month by month -------------------------------------------------
    with time_machine.travel(end, tick=False):
        for month in range(1, 13):
            last = (at(month % 12 + 1, 1, year=2026 + month // 12) - timedelta(days=1)).date()
            report = world.ok(
                world.staff.get(
                    "analytics/mrr",
                    {"start_date": f"2026-{month:02d}-01", "end_date": last.isoformat()},
                )
            )["metrics"]
            start = mrr_at(moment=at(month, 1)).get("usd", 0)
            assert report["net_new_mrr"] == report["total_mrr"] - start, month
            assert report["net_new_mrr"] == sum(
                report[f"{kind}_mrr"]
                for kind in ("new", "expansion", "contraction", "churn", "reactivation")
            )
    assert report["total_mrr"] == DECEMBER_MRR

    # --- the reports finance reads ---------------------------------------------------------------
    with time_machine.travel(end, tick=False):
        (aging,) = world.ok(world.staff.get("reports/ar-aging", {"as_of": "2027-01-02"}))
        oss = world.ok(world.staff.get("reports/tax/oss", {"quarter": "2026-Q1"}))
        split = world.ok(
            world.staff.get(f"tenants/{world.ids['corp']}/cost-allocation", {"period": "2026-04"})
        )
    assert aging["totals"]["total"] == open_due
    # Q1: three German invoices (3 x 5000 at 19 %) less the credit note of 1190, 190 of it VAT
    (de,) = [row for row in oss["rows"] if row["country"] == "DE"]
    assert (de["taxable"], de["tax"], de["invoices"], de["credit_notes"]) == (14000, 2660, 3, 1)
    assert [row["country"] for row in oss["rows"]] == ["DE"]  # FR is reverse charged, not OSS
    # April's 30826 split 60/40: 18495.6 and 12330.4 rounded down, the cent left to the larger
    (block,) = split["currencies"]
    shares = {row["tenant_id"]: row["amount"] for row in block["allocations"]}
    assert shares == {world.ids["west"]: 18496, world.ids["labs"]: 12330}

    # --- the checks finance runs ----------------------------------------------------------------
    out = StringIO()
    call_command("usage_reconcile", stdout=out)
    assert out.getvalue().strip().endswith("0 differences"), out.getvalue()
    out = StringIO()
    with time_machine.travel(end, tick=False):
        call_command("ledger_recognize", "--through", "2027-01-01", stdout=StringIO())
        call_command("ledger_check", stdout=out)
    assert out.getvalue().strip() == "0 differences", out.getvalue()
