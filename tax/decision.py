"""The tax decision: pure (no Django, no clock, no database).

`decide(buyer=..., seller=..., on=..., amount=..., table=...)` says which tax applies to one
supply of a digital service (SaaS) and at what rate; `line_taxes` computes the tax of each line
(half-up, once per line). Callers pass plain values: the rate table and the registrations as a
`TaxTable` (loaded by `tax.selectors.tax_table`), the parties as `Party`.

Rules (product.md section 10, issue 12):
- an exempt buyer pays none (its reason is the decision's reason);
- US: the state's rate where the seller has a registration (nexus) on the date, else out of scope;
- EU consumer: the buyer country's rate (a non-EU seller under the non-Union OSS scheme; an EU
  seller likewise once its cross-border consumer sales pass the EU-wide threshold, its own
  country's rate below it); same country as an EU seller: domestic VAT;
- EU business (a VAT id of a member state) other than the seller's country: reverse charge, 0 %;
- UK: 20 % to consumers and, when the seller is in the UK, to businesses; a UK business
  (GB or XI VAT number) buying from outside the UK: reverse charge;
- anywhere else: out of scope, unless a registration row covers the buyer's country/region.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction

from billing_project.shared.money import round_minor

SALES_TAX, VAT, REVERSE_CHARGE, EXEMPT, OUT_OF_SCOPE = (
    "sales_tax",
    "vat",
    "reverse_charge",
    "exempt",
    "out_of_scope",
)
KINDS = (SALES_TAX, VAT, REVERSE_CHARGE, EXEMPT, OUT_OF_SCOPE)

# The 27 member states by ISO 3166-1 alpha-2 (Greece is GR; its VAT ids start with EL).
EU_MEMBER_STATES = frozenset(
    {
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
        "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
    }
)  # fmt: skip
EU_REVERSE_CHARGE_MENTION = (
    "Reverse charge: VAT to be accounted for by the recipient (Art. 196 Directive 2006/112/EC)"
)
UK_REVERSE_CHARGE_MENTION = (
    "Reverse charge: the customer accounts for the VAT to HMRC (VAT Act 1994, section 8)"
)
# EUR 10,000 in cents: Art. 59c Directive 2006/112/EC (cross-border B2C supplies, EU-wide).
EU_B2C_THRESHOLD_CENTS = 1_000_000
ZERO = Decimal(0)


class TaxTableError(ValueError):
    """The table cannot decide: a registration without a rate in force on the date."""


def country_code(value: str) -> str:
    """ISO alpha-2, upper case; the guide's `UK` is GB and the VAT prefix `EL` is GR."""
    code = (value or "").strip().upper()
    return {"UK": "GB", "EL": "GR"}.get(code, code)


@dataclass(frozen=True, slots=True)
class Party:
    country: str
    state: str = ""
    postal_code: str = ""
    vat_id: str = ""  # compact and already validated (tax.vat_ids.vat_id_clean)
    tax_exempt: bool = False
    tax_exempt_reason: str = ""

    @property
    def vat_country(self) -> str:
        """The country a VAT id belongs to (its prefix): EL is GR, XI (Northern Ireland) GB."""
        prefix = self.vat_id[:2].upper()
        return "GB" if prefix == "XI" else country_code(prefix) if prefix.isalpha() else ""


@dataclass(frozen=True, slots=True)
class Rate:
    country: str
    region: str  # "" for the whole country; a US state, a Canadian province...
    rate: Decimal  # percent: 8.25
    valid_from: date
    tax_name: str = "VAT"
    source: str = ""


@dataclass(frozen=True, slots=True)
class Registration:
    country: str
    region: str  # "" covers the whole country
    kind: str  # sales_tax | vat (VAT, GST, HST, ...)
    valid_from: date
    valid_until: date | None = None
    tax_name: str = ""
    tax_id: str = ""

    def active_on(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_until is None or on < self.valid_until)


@dataclass(frozen=True, slots=True)
class TaxTable:
    rates: tuple[Rate, ...] = ()
    registrations: tuple[Registration, ...] = ()
    version: str = ""

    def rate_on(self, country: str, region: str, on: date) -> Rate | None:
        """The rate in force on `on`: the latest `valid_from` not after it; a region's own
        rate before its country's."""
        for wanted in ((country, region), (country, "")) if region else ((country, ""),):
            rows = [r for r in self.rates if (r.country, r.region) == wanted and r.valid_from <= on]
            if rows:
                return max(rows, key=lambda r: r.valid_from)
        return None

    def registration_on(self, country: str, region: str, on: date) -> Registration | None:
        for wanted in ((country, region), (country, "")) if region else ((country, ""),):
            for registration in self.registrations:
                if (registration.country, registration.region) == wanted and (
                    registration.active_on(on)
                ):
                    return registration
        return None


@dataclass(frozen=True, slots=True)
class TaxDecision:
    rate: Decimal  # percent
    jurisdiction: str  # "US-CA", "DE", "GB"
    kind: str
    reason: str
    legal_mention: str = ""
    tax_name: str = ""
    buyer_vat_id: str = ""
    seller_tax_id: str = ""
    rate_valid_from: date | None = None
    table_version: str = ""
    oss: bool = False  # VAT on an EU consumer sale declared through the OSS
    extra: dict = field(default_factory=dict)

    @property
    def reverse_charge(self) -> bool:
        return self.kind == REVERSE_CHARGE

    @property
    def exempt(self) -> bool:
        return self.kind == EXEMPT

    def tax_on(self, amount: int, currency: str) -> int:
        return tax_amount(amount=amount, rate=self.rate, currency=currency)

    def as_dict(self) -> dict:
        """JSON-ready (rate as a string, to keep it exact)."""
        return {
            "rate": percent_str(self.rate),
            "jurisdiction": self.jurisdiction,
            "kind": self.kind,
            "reason": self.reason,
            "legal_mention": self.legal_mention,
            "tax_name": self.tax_name,
            "reverse_charge": self.reverse_charge,
            "exempt": self.exempt,
            "buyer_vat_id": self.buyer_vat_id,
            "seller_tax_id": self.seller_tax_id,
            "rate_valid_from": self.rate_valid_from.isoformat() if self.rate_valid_from else None,
            "table_version": self.table_version,
            "oss": self.oss,
            **self.extra,
        }


def percent_str(rate: Decimal) -> str:
    text = format(Decimal(rate).normalize(), "f")
    return text


def tax_amount(*, amount: int, rate: Decimal, currency: str) -> int:
    """Tax on a net amount in minor units, rounded half-up once; never negative."""
    if amount <= 0 or rate <= 0:
        return 0
    return round_minor(Fraction(amount) * Fraction(rate) / 100, currency)


def line_taxes(*, amounts: list[int], rate: Decimal, currency: str) -> list[int]:
    """The tax of each line (net of its discounts), each rounded half-up."""
    return [tax_amount(amount=a, rate=rate, currency=currency) for a in amounts]


def proportional_tax(
    *, credited: int, credited_before: int, total: int, tax: int, tax_credited: int, currency: str
) -> int:
    """The tax part of a credit of `credited` (tax included) against a document of `total`
    with `tax`, after earlier credits of `credited_before` that reversed `tax_credited`: in
    proportion, half-up; the whole rest when this credit completes the document, so crediting
    all of it reverses its tax exactly."""
    if total <= 0 or tax <= 0 or credited <= 0:
        return 0
    remaining = max(0, tax - tax_credited)
    if credited_before + credited >= total:
        return remaining
    return min(round_minor(Fraction(credited * tax, total), currency), remaining)


def _rated(
    *,
    table: TaxTable,
    country: str,
    region: str,
    on: date,
    kind: str,
    reason: str,
    buyer: Party,
    seller_tax_id: str = "",
    tax_name: str = "",
    oss: bool = False,
    extra: dict | None = None,
) -> TaxDecision:
    rate = table.rate_on(country, region, on)
    jurisdiction = f"{country}-{region}" if region else country
    if rate is None:
        raise TaxTableError(f"No tax rate for {jurisdiction} is in force on {on.isoformat()}.")
    return TaxDecision(
        rate=rate.rate,
        jurisdiction=jurisdiction,
        kind=kind,
        reason=reason,
        tax_name=tax_name or rate.tax_name,
        buyer_vat_id=buyer.vat_id,
        seller_tax_id=seller_tax_id,
        rate_valid_from=rate.valid_from,
        table_version=table.version,
        oss=oss,
        extra=extra or {},
    )


def _zero(*, kind: str, jurisdiction: str, reason: str, buyer: Party, table: TaxTable, **kw):
    return TaxDecision(
        rate=ZERO,
        jurisdiction=jurisdiction,
        kind=kind,
        reason=reason,
        buyer_vat_id=buyer.vat_id,
        table_version=table.version,
        **kw,
    )


def decide(
    *,
    buyer: Party,
    seller: Party,
    on: date,
    amount: int,
    table: TaxTable,
    eu_cross_border_b2c_sales: int = 0,
    eu_threshold: int = EU_B2C_THRESHOLD_CENTS,
) -> TaxDecision:
    """The decision for one supply of `amount` (minor units, >= 0) on `on`.

    `eu_cross_border_b2c_sales`: for an EU seller, the larger of last calendar year's and this
    year's cross-border consumer sales in the EU (this supply included), in EUR cents; compared
    with `eu_threshold` (EUR 10,000 by default)."""
    if amount < 0:
        raise ValueError("amount may not be negative")
    country = country_code(buyer.country)
    state = (buyer.state or "").strip().upper()
    seller_country = country_code(seller.country)
    jurisdiction = f"{country}-{state}" if country == "US" and state else country
    if buyer.tax_exempt:
        reason = (buyer.tax_exempt_reason or "").strip() or "Tax-exempt customer"
        return _zero(
            kind=EXEMPT, jurisdiction=jurisdiction, reason=reason, buyer=buyer, table=table
        )
    if country == "US":
        return _decide_us(buyer=buyer, state=state, on=on, table=table)
    if country in EU_MEMBER_STATES:
        return _decide_eu(
            buyer=buyer,
            country=country,
            seller=seller,
            seller_country=seller_country,
            on=on,
            table=table,
            sales=eu_cross_border_b2c_sales,
            threshold=eu_threshold,
        )
    if country == "GB":
        return _decide_uk(buyer=buyer, seller_country=seller_country, on=on, table=table)
    registration = table.registration_on(country, state, on)
    if registration is None:
        return _zero(
            kind=OUT_OF_SCOPE,
            jurisdiction=jurisdiction,
            reason=f"Outside the scope of the seller's tax registrations ({country}).",
            buyer=buyer,
            table=table,
        )
    kind = SALES_TAX if registration.kind == SALES_TAX else VAT
    region = state if registration.region else ""
    return _rated(
        table=table,
        country=country,
        region=region,
        on=on,
        kind=kind,
        reason=f"Seller registered for {registration.tax_name or kind} in {country}.",
        buyer=buyer,
        seller_tax_id=registration.tax_id,
        tax_name=registration.tax_name,
    )


def _decide_us(*, buyer: Party, state: str, on: date, table: TaxTable) -> TaxDecision:
    if not state:
        return _zero(
            kind=OUT_OF_SCOPE,
            jurisdiction="US",
            reason="US address without a state: no nexus can be determined.",
            buyer=buyer,
            table=table,
        )
    registration = table.registration_on("US", state, on)
    if registration is None or not registration.region:
        return _zero(
            kind=OUT_OF_SCOPE,
            jurisdiction=f"US-{state}",
            reason=f"No sales tax nexus in {state}.",
            buyer=buyer,
            table=table,
        )
    return _rated(
        table=table,
        country="US",
        region=state,
        on=on,
        kind=SALES_TAX,
        reason=f"Sales tax: the seller has nexus in {state}.",
        buyer=buyer,
        seller_tax_id=registration.tax_id,
        tax_name=registration.tax_name or "Sales tax",
    )


def _decide_eu(
    *,
    buyer: Party,
    country: str,
    seller: Party,
    seller_country: str,
    on: date,
    table: TaxTable,
    sales: int,
    threshold: int,
) -> TaxDecision:
    seller_in_eu = seller_country in EU_MEMBER_STATES
    business = bool(buyer.vat_id) and buyer.vat_country in EU_MEMBER_STATES
    if seller_in_eu and country == seller_country:
        return _rated(
            table=table,
            country=country,
            region="",
            on=on,
            kind=VAT,
            reason=f"Domestic supply in {country}.",
            buyer=buyer,
            seller_tax_id=seller.vat_id,
        )
    if business:
        return _zero(
            kind=REVERSE_CHARGE,
            jurisdiction=country,
            reason=(
                f"Business customer with VAT id {buyer.vat_id} in another member state: "
                "reverse charge."
            ),
            legal_mention=EU_REVERSE_CHARGE_MENTION,
            buyer=buyer,
            table=table,
        )
    if seller_in_eu and sales <= threshold:
        return _rated(
            table=table,
            country=seller_country,
            region="",
            on=on,
            kind=VAT,
            reason=(
                f"Consumer in {country}; the seller's cross-border EU consumer sales are within "
                f"the EU-wide threshold: VAT of the seller's member state ({seller_country})."
            ),
            buyer=buyer,
            seller_tax_id=seller.vat_id,
            extra={"eu_cross_border_b2c": True},
        )
    scheme = "Union OSS" if seller_in_eu else "non-Union OSS"
    return _rated(
        table=table,
        country=country,
        region="",
        on=on,
        kind=VAT,
        reason=f"Consumer in {country}: VAT of the customer's member state ({scheme}).",
        buyer=buyer,
        seller_tax_id=seller.vat_id,
        oss=True,
        extra={"eu_cross_border_b2c": True} if seller_in_eu else {},
    )


def _decide_uk(*, buyer: Party, seller_country: str, on: date, table: TaxTable) -> TaxDecision:
    business = bool(buyer.vat_id) and buyer.vat_country == "GB"
    if business and seller_country != "GB":
        return _zero(
            kind=REVERSE_CHARGE,
            jurisdiction="GB",
            reason=f"UK business customer with VAT number {buyer.vat_id}: reverse charge.",
            legal_mention=UK_REVERSE_CHARGE_MENTION,
            buyer=buyer,
            table=table,
        )
    reason = "Domestic UK supply." if seller_country == "GB" else "Consumer in the UK: UK VAT."
    return _rated(table=table, country="GB", region="", on=on, kind=VAT, reason=reason, buyer=buyer)
