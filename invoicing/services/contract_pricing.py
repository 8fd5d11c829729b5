"""What a tenant's contract adds to the pricing of one invoice: the terms in force for the fee
period and for the usage period, the contract years that ended in the usage period with what
was billed in them (for the annual-minimum true-up), the version used and its payment terms.

The pure engine (`subscriptions.pricing.price_period`) does the arithmetic; this module only
gathers its inputs from the database."""

from dataclasses import dataclass

from django.db.models import Q, Sum

from invoicing.models import CreditNote, Invoice, InvoiceLine, InvoiceStatus, LineKind
from subscriptions.models import ContractVersion, Tenant
from subscriptions.pricing import ContractTerms, ContractYear, Period, YearBilled, year_minimum
from subscriptions.selectors import contracts_for_tenant

BILLED_STATUSES = (InvoiceStatus.OPEN, InvoiceStatus.PAID, InvoiceStatus.UNCOLLECTIBLE)


@dataclass(frozen=True)
class ContractInputs:
    fee: ContractTerms | None = None
    usage: ContractTerms | None = None
    true_ups: tuple[YearBilled, ...] = ()
    version: ContractVersion | None = None
    payment_terms: str | None = None

    def pricing_kwargs(self) -> dict:
        return {"fee_contract": self.fee, "usage_contract": self.usage, "true_ups": self.true_ups}


NO_CONTRACT = ContractInputs()


def billed_in(*, tenant_id, period: Period) -> int:
    """Pre-tax billed to the tenant by the invoices of `period` (subtotal after discounts,
    true-up lines left out, net of the credit notes on them). An invoice belongs to the year
    its period starts in (a period invoice's is the period it bills in advance), one without a
    period to the year it was issued in: so a late or catching-up cycle counts the same."""
    in_period = Q(period_start__gte=period.start, period_start__lt=period.end)
    issued_in = Q(period_start__isnull=True, issued_at__gte=period.start, issued_at__lt=period.end)
    invoices = Invoice.objects.filter(in_period | issued_in).filter(
        tenant_id=tenant_id, status__in=BILLED_STATUSES
    )
    totals = invoices.aggregate(subtotal=Sum("subtotal"), discount=Sum("discount"))
    true_ups = InvoiceLine.objects.filter(invoice__in=invoices, kind=LineKind.TRUE_UP).aggregate(
        total=Sum("amount")
    )
    credited = CreditNote.objects.filter(invoice__in=invoices).aggregate(total=Sum("total"))
    return (
        (totals["subtotal"] or 0)
        - (totals["discount"] or 0)
        - (true_ups["total"] or 0)
        - (credited["total"] or 0)
    )


def contract_inputs(
    *, tenant: Tenant, fee_period: Period | None, usage_period: Period | None, currency: str
) -> ContractInputs:
    """The contract terms an invoice for `fee_period` (in advance) and `usage_period` (in
    arrears) is priced with; NO_CONTRACT for a tenant without one."""
    contracts = contracts_for_tenant(tenant_id=tenant.pk, tz=tenant.timezone)
    if not contracts:
        return NO_CONTRACT
    fee = next((c for c in contracts if fee_period and c.covers_fee(fee_period)), None)
    usage = next((c for c in contracts if usage_period and c.covers_arrears(usage_period)), None)
    true_ups: list[YearBilled] = []
    if usage_period is not None:
        for contract in contracts:
            if not contract.terms.annual_minimum:
                continue
            for year in contract.years_ending(usage_period):
                true_ups.append(_year_billed(tenant=tenant, year=year, contract=contract,
                                             currency=currency))  # fmt: skip
    used = fee or usage
    return ContractInputs(
        fee=fee.terms if fee else None,
        usage=usage.terms if usage else None,
        true_ups=tuple(true_ups),
        version=used.version if used else None,
        payment_terms=used.terms.payment_terms if used else None,
    )


def _year_billed(*, tenant: Tenant, year: ContractYear, contract, currency: str) -> YearBilled:
    return YearBilled(
        year=year,
        billed=billed_in(tenant_id=tenant.pk, period=year.period),
        annual_minimum=year_minimum(
            year=year,
            annual_minimum=contract.terms.annual_minimum,
            currency=currency,
            tz=tenant.timezone,
        ),
    )
