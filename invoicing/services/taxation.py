"""Tax on invoices: the pure decision (tax/decision.py) applied when an invoice is finalized.

Invoicing passes plain values down (the buyer and seller as `Party`, the date, the amount); tax
knows nothing of invoices. The tax of each line is computed on its amount after the discounts
that apply to it, rounded half-up once per line, and summed per rate into one `tax` line per
rate. The decision (rate, jurisdiction, kind, reason, legal mention, ids, table version) is
stored on the invoice, so a later change of the tables never alters a finalized invoice.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import F, Sum

from billing_project.shared.errors import ValidationFailed, raise_if_invalid
from invoicing.models import Invoice, InvoiceLine, InvoiceStatus, LineKind
from invoicing.services.branding import ADDRESS_KEYS, invoice_settings_get
from invoicing.services.totals import apply_totals
from ledger.allocation import split
from subscriptions import validation
from subscriptions.models import Tenant
from tax import decision as tax_rules
from tax.decision import Party, TaxDecision, TaxTable
from tax.selectors import tax_table
from tax.vat_ids import vat_id_clean


@dataclass
class TaxContext:
    """What every decision of one run shares: the tables and the seller (loaded once)."""

    table: TaxTable
    seller: Party
    seller_tax_ids: tuple[str, ...]
    eu_threshold: int
    _eu_sales: dict = field(default_factory=dict)


def seller_vat_id(tax_ids, country: str) -> str:
    """The seller's VAT id among its printed tax ids ("DE136695976", "VAT DE 136695976")."""
    for text in tax_ids:
        tokens = str(text).split()
        for candidate in (
            "".join(tokens[-2:]) if len(tokens) > 1 else "",
            tokens[-1] if tokens else "",
        ):
            try:
                compact = vat_id_clean(candidate, country="")
            except ValueError:
                continue
            if compact:
                return compact
    return ""


def tax_context() -> TaxContext:
    company = settings.BILLING_COMPANY
    row = invoice_settings_get()
    own = {key: (row.company_address or {}).get(key) or "" for key in ADDRESS_KEYS}
    address = own if any(own.values()) else {key: company.get(key, "") for key in ADDRESS_KEYS}
    tax_ids = tuple(row.tax_ids or company.get("tax_ids", ()))
    country = tax_rules.country_code(address.get("country", ""))
    seller = Party(
        country=country,
        state=(address.get("state") or "").upper(),
        postal_code=address.get("postal_code") or "",
        vat_id=seller_vat_id(tax_ids, country),
    )
    return TaxContext(
        table=tax_table(),
        seller=seller,
        seller_tax_ids=tax_ids,
        eu_threshold=settings.TAX_EU_B2C_THRESHOLD,
    )


def buyer_party(tenant: Tenant) -> Party:
    return Party(
        country=tenant.country,
        state=tenant.state,
        postal_code=tenant.postal_code,
        vat_id=tenant.vat_id,
        tax_exempt=tenant.tax_exempt,
        tax_exempt_reason=tenant.tax_exempt_reason,
    )


def _eu_cross_border_sales(context: TaxContext, *, year: int, amount: int, currency: str) -> int:
    """For an EU seller: the larger of last year's and this year's cross-border EU consumer
    sales (EUR invoices only; this supply included), net of discounts, before tax."""
    if year not in context._eu_sales:
        by_year = dict(
            Invoice.objects.filter(
                currency="eur",
                issued_at__year__in=(year - 1, year),
                tax_decision__eu_cross_border_b2c=True,
            )
            .exclude(status__in=(InvoiceStatus.DRAFT, InvoiceStatus.VOID))
            .values_list("issued_at__year")
            .annotate(net=Sum(F("subtotal") - F("discount")))
        )
        context._eu_sales[year] = (by_year.get(year - 1, 0), by_year.get(year, 0))
    last, this = context._eu_sales[year]
    return max(last, this + (amount if currency == "eur" else 0))


def _needs_eu_sales(buyer: Party, context: TaxContext) -> bool:
    seller_country = context.seller.country
    buyer_country = tax_rules.country_code(buyer.country)
    return (
        seller_country in tax_rules.EU_MEMBER_STATES
        and buyer_country in tax_rules.EU_MEMBER_STATES
        and buyer_country != seller_country
        and not buyer.vat_id
    )


def decide_for(
    *, buyer: Party, amount: int, currency: str, at: datetime, tz: str, context: TaxContext
) -> TaxDecision:
    """The decision for a supply of `amount` to `buyer` at `at` (its date in the buyer's
    timezone: the invoice date printed on the invoice)."""
    on = at.astimezone(ZoneInfo(tz or "UTC")).date()
    sales = 0
    if _needs_eu_sales(buyer, context):
        sales = _eu_cross_border_sales(context, year=on.year, amount=amount, currency=currency)
    return tax_rules.decide(
        buyer=buyer,
        seller=context.seller,
        on=on,
        amount=amount,
        table=context.table,
        eu_cross_border_b2c_sales=sales,
        eu_threshold=context.eu_threshold,
    )


def taxable_bases(rows) -> list[tuple[InvoiceLine, int]]:
    """Each charged line with its amount after the discounts that apply to it: a coupon's
    discount reduces the charged line before it (pricing puts it right after its fee line), else
    the first one; a contract's volume discount is on the whole subtotal, so it is split over
    the charged lines before it in proportion to their bases (to the cent); never below zero."""
    charged: list[list] = []
    pending_discount = 0
    for row in rows:
        if row.kind == LineKind.TAX:
            continue
        if row.kind == LineKind.DISCOUNT:
            volume = (row.explanation or {}).get("discount_source") == "volume"
            if volume and charged and sum(base for _, base in charged) > 0:
                weights = [max(0, base) for _, base in charged]
                for item, share in zip(charged, split(row.amount, weights), strict=True):
                    item[1] += share
            elif charged:
                charged[-1][1] += row.amount
            else:
                pending_discount += row.amount
            continue
        charged.append([row, row.amount + pending_discount])
        pending_discount = 0
    return [(row, max(0, base)) for row, base in charged]


def invoice_tax_apply(
    *, invoice: Invoice, rows: list, tenant: Tenant, now: datetime, context: TaxContext
) -> TaxDecision:
    """Decide the invoice's tax, append its tax lines to `rows` (unsaved) and set its totals
    and `tax_decision`. Earlier tax lines in `rows` are replaced."""
    rows[:] = [row for row in rows if row.kind != LineKind.TAX]
    bases = taxable_bases(rows)
    net = sum(base for _, base in bases)
    buyer = buyer_party(tenant)
    decision = decide_for(
        buyer=buyer,
        amount=net,
        currency=invoice.currency,
        at=now,
        tz=tenant.timezone,
        context=context,
    )
    taxes = tax_rules.line_taxes(
        amounts=[base for _, base in bases], rate=decision.rate, currency=invoice.currency
    )
    total_tax = sum(taxes)
    rate = tax_rules.percent_str(decision.rate)
    summary = {
        "rate": rate,
        "jurisdiction": decision.jurisdiction,
        "kind": decision.kind,
        "tax_name": decision.tax_name,
        "taxable": net,
        "tax": total_tax,
    }
    if total_tax > 0:
        position = max((row.position for row in rows), default=-1) + 1
        rows.append(
            InvoiceLine(
                invoice=invoice,
                position=position,
                kind=LineKind.TAX,
                description=f"{decision.tax_name or 'Tax'} {decision.jurisdiction} {rate}%",
                quantity=Decimal(1),
                unit_price=Decimal(total_tax),
                amount=total_tax,
                explanation={
                    **{k: v for k, v in summary.items() if k != "tax"},
                    "lines": [
                        {"position": row.position, "taxable": base, "tax": tax}
                        for (row, base), tax in zip(bases, taxes, strict=True)
                    ],
                },
            )
        )
    invoice.tax_decision = {
        **decision.as_dict(),
        "seller_country": context.seller.country,
        "seller_tax_ids": list(context.seller_tax_ids),
        "buyer_country": tax_rules.country_code(buyer.country),
        "taxable": net,
        "tax": total_tax,
        "by_rate": [summary],
    }
    apply_totals(invoice, rows)
    return decision


@dataclass(frozen=True)
class TaxQuote:
    decision: TaxDecision
    amount: int
    tax_amount: int
    currency: str

    @property
    def total(self) -> int:
        return self.amount + self.tax_amount


PRODUCT_TYPES = ("saas_subscription", "saas_usage", "digital_service")


def tax_calculate(
    *,
    amount,
    currency: str,
    country: str,
    now: datetime,
    state: str = "",
    postal_code: str = "",
    vat_id: str = "",
    tax_exempt: bool = False,
    tax_exempt_reason: str = "",
    product_type: str = "saas_subscription",
    on=None,
) -> TaxQuote:
    """`POST tax/calculate`: what an invoice of `amount` to this customer would carry (the same
    decision and rounding as finalization; nothing stored). `on`: the date (default today)."""
    errors: dict[str, list[str]] = {}
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        errors["amount"] = ["A non-negative integer amount in minor units (cents)."]
    try:
        currency = validation.clean_currency(currency)
    except ValueError as exc:
        errors["currency"] = [str(exc)]
    country_text = tax_rules.country_code(country)
    try:
        country_text = validation.clean_country(country_text)
    except ValueError as exc:
        errors["customer_address.country"] = [str(exc)]
    else:
        try:
            state = validation.clean_state(country_text, state or "")
        except ValueError as exc:
            errors["customer_address.state"] = [str(exc)]
        else:
            if country_text == "US" and not state:
                errors["customer_address.state"] = ["A US address needs its state."]
    try:
        vat_id = validation.clean_vat_id(country_text, vat_id or "")
    except ValueError as exc:
        errors["customer_vat_id"] = [str(exc)]
    if product_type not in PRODUCT_TYPES:
        errors["product_type"] = [f"One of {', '.join(PRODUCT_TYPES)}."]
    raise_if_invalid(errors)
    buyer = Party(
        country=country_text,
        state=state,
        postal_code=postal_code or "",
        vat_id=vat_id,
        tax_exempt=bool(tax_exempt),
        tax_exempt_reason=tax_exempt_reason or "",
    )
    context = tax_context()
    when = now if on is None else datetime.combine(on, now.timetz())
    try:
        decision = decide_for(
            buyer=buyer, amount=amount, currency=currency, at=when, tz="UTC", context=context
        )
    except tax_rules.TaxTableError as exc:
        raise ValidationFailed(str(exc), errors={"date": [str(exc)]}) from None
    tax = decision.tax_on(amount, currency)
    return TaxQuote(decision=decision, amount=amount, tax_amount=tax, currency=currency)
