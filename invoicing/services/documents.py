"""Invoice and credit note PDFs (WeasyPrint) and invoice emails.

Rendering fetches nothing: the only resources are inline data: URIs (the stored logo). The PDF
carries fixed metadata (creation and modification dates from the document, an identifier from
its id) so the same document in the same state always renders the same bytes; the stored file's
sha256 is kept beside it.
"""

import hashlib
import logging
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.core.files.base import ContentFile
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from weasyprint import HTML, URLFetcher

from billing_project.shared.money import currency_exponent, format_money
from invoicing.models import CreditNote, Invoice, InvoiceStatus, LineKind
from invoicing.services import tax_display
from invoicing.services.branding import Branding, address_lines, branding_current
from subscriptions.models import Metric
from subscriptions.models.tenants import PaymentTerms
from subscriptions.pricing.lines import decimal_str, grouped

log = logging.getLogger(__name__)


class NoNetworkFetcher(URLFetcher):
    """Refuses every URL except inline data: URIs (no network, no files)."""

    def __init__(self, **kwargs):
        super().__init__(allowed_protocols=("data",), allow_redirects=False, **kwargs)

    def fetch(self, url, headers=None):
        if not url.lower().startswith("data:"):
            raise ValueError(f"resource fetching is disabled: {url[:80]}")
        return super().fetch(url, headers)


def html_to_pdf(html: str, *, identifier: str) -> bytes:
    """The one WeasyPrint call. `identifier` fixes the PDF /ID (stable bytes)."""
    document = HTML(string=html, url_fetcher=NoNetworkFetcher(), base_url=None)
    return document.write_pdf(
        pdf_identifier=hashlib.md5(identifier.encode(), usedforsecurity=False).digest()
    )


def _w3c(instant: datetime | None) -> str:
    return (
        (instant or datetime(2000, 1, 1, tzinfo=UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    )


def _money(currency: str):
    return lambda cents: format_money(int(cents), currency)


def format_unit_price(value: Decimal, currency: str) -> str:
    """Unit prices may be fractional minor units: 0.5 cents is $0.005."""
    exponent = currency_exponent(currency)
    major = Decimal(value).scaleb(-exponent)
    whole_minor = Decimal(value) == Decimal(value).to_integral_value()
    if whole_minor:
        return format_money(int(value), currency)
    text = decimal_str(major)
    symbol = format_money(0, currency).split("0")[0]
    return f"{symbol}{text}" if symbol else f"{text} {currency.upper()}"


def _day(day: date) -> str:
    return day.strftime("%b %d, %Y").replace(" 0", " ")


def _date(instant: datetime | None, tz: str = "UTC") -> str:
    if instant is None:
        return ""
    return _day(instant.astimezone(ZoneInfo(tz)).date())


def _period(start, end, tz) -> str:
    """First and last day in the tenant's timezone. A period ends where the next one starts,
    so its last day is the one before its end's (Dec 1 to Jan 1 prints Dec 1 to Dec 31)."""
    if start is None or end is None:
        return ""
    zone = ZoneInfo(tz)
    first = start.astimezone(zone).date()
    last = max(first, end.astimezone(zone).date() - timedelta(days=1))
    return _day(first) if first == last else f"{_day(first)} – {_day(last)}"


# Custom fields that belong to one purchase: printed from the invoice only, never from settings.
_PER_INVOICE_FIELDS = {"po", "pono", "ponumber", "purchaseorder", "purchaseordernumber"}


def _field_key(name) -> str:
    return "".join(ch for ch in str(name).lower() if ch.isalnum())


def _custom_fields(global_fields, own_fields) -> list[dict]:
    """The settings' fields then the invoice's; an invoice field replaces a global one of the
    same name (printed once, the invoice's value)."""
    own = [f for f in own_fields or () if isinstance(f, dict)]
    own_keys = {_field_key(f.get("name", "")) for f in own}
    kept = [
        f
        for f in global_fields or ()
        if isinstance(f, dict)
        and _field_key(f.get("name", "")) not in own_keys
        and _field_key(f.get("name", "")) not in _PER_INVOICE_FIELDS
    ]
    return kept + own


def _grouped(value) -> str:
    """Explanation numbers are stored as strings: "130000" prints as "130,000"."""
    try:
        return grouped(Decimal(str(value)))
    except (ArithmeticError, ValueError):
        return "" if value is None else str(value)


def _metric_names(lines) -> dict[str, str]:
    slugs = {(line.explanation or {}).get("metric") for line in lines} - {None, ""}
    if not slugs:
        return {}
    return dict(Metric.objects.filter(metric_type__in=slugs).values_list("metric_type", "name"))


def _description(line, names: dict[str, str]) -> str:
    """Overage lines are priced as "<metric slug>: ..."; the PDF names the metric."""
    slug = (line.explanation or {}).get("metric")
    name = names.get(slug) if slug else None
    if name and line.description.startswith(f"{slug}:"):
        return name + line.description[len(slug) :]
    return line.description


def invoice_context(invoice: Invoice, lines, branding: Branding) -> dict:
    tenant = invoice.tenant
    tz = tenant.timezone or "UTC"
    money = _money(invoice.currency)
    shown = []
    names = _metric_names(lines)
    line_taxes = tax_display.line_taxes(lines)
    for line in lines:
        if line.amount == 0 or line.kind == LineKind.TAX:
            continue
        explanation = line.explanation or {}
        detail = []
        if explanation.get("fraction"):
            detail.append(f"prorated {explanation['fraction']} days")
        if explanation.get("metric"):
            detail.append(
                f"measured {_grouped(explanation.get('measured'))}, "
                f"included {_grouped(explanation.get('included'))}"
            )
        if line.position in line_taxes:
            detail.append(f"tax {money(line_taxes[line.position])}")
        shown.append(
            {
                "description": _description(line, names),
                "period": _period(line.period_start, line.period_end, tz),
                "detail": "; ".join(detail),
                "quantity": grouped(Decimal(line.quantity)),
                "unit_price": format_unit_price(line.unit_price, invoice.currency),
                "amount": money(line.amount),
            }
        )
    stamp = {InvoiceStatus.PAID: "PAID", InvoiceStatus.VOID: "VOID"}.get(invoice.status, "")
    if invoice.status == InvoiceStatus.DRAFT:
        stamp = "DRAFT"
    # The invoice's own terms (its due date follows them); the settings' label only without.
    terms_label = dict(PaymentTerms.choices).get(invoice.payment_terms, invoice.payment_terms)
    custom_fields = _custom_fields(branding.custom_fields, invoice.custom_fields)
    return {
        "invoice": invoice,
        "title": "Invoice",
        "number": invoice.number or "DRAFT",
        "branding": branding,
        "buyer": tenant,
        "buyer_address": address_lines(
            {
                "line1": tenant.address_line1,
                "city": tenant.city,
                "state": tenant.state,
                "postal_code": tenant.postal_code,
                "country": tenant.country,
            }
        ),
        "issued": _date(invoice.issued_at, tz),
        "due": _date(invoice.due_at, tz),
        "period": _period(invoice.period_start, invoice.period_end, tz),
        "payment_terms": terms_label or branding.payment_terms_label,
        "custom_fields": custom_fields,
        "lines": shown,
        "subtotal": money(invoice.subtotal),
        "discount": money(-invoice.discount) if invoice.discount else "",
        "taxes": tax_display.tax_rows(invoice, lines, money),
        "tax_notes": tax_display.tax_notes(invoice),
        "seller_tax_ids": tax_display.seller_tax_ids(invoice, branding.tax_ids),
        "total": money(invoice.total),
        "amount_paid": money(invoice.amount_paid) if invoice.amount_paid else "",
        "amount_credited": money(invoice.amount_credited) if invoice.amount_credited else "",
        "amount_due": money(invoice.amount_due),
        "stamp": stamp,
        "notes": invoice.notes,
        "created_w3c": _w3c(invoice.issued_at or invoice.created_at),
        "modified_w3c": _w3c(invoice.voided_at or invoice.paid_at or invoice.issued_at),
    }


def invoice_html(invoice: Invoice, lines=None, branding: Branding | None = None) -> str:
    lines = list(invoice.lines.all()) if lines is None else lines
    context = invoice_context(invoice, lines, branding or branding_current())
    return render_to_string("invoicing/invoice.html", context)


def invoice_pdf_bytes(invoice: Invoice) -> bytes:
    identity = f"{invoice.pk}:{invoice.status}:{invoice.amount_due}:{invoice.amount_paid}"
    return html_to_pdf(invoice_html(invoice), identifier=identity)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def invoice_pdf_store(*, invoice_id) -> Invoice:
    """Render the invoice's PDF in its current state and store it with its checksum."""
    invoice = Invoice.objects.select_related("tenant").get(pk=invoice_id)
    if invoice.status == InvoiceStatus.DRAFT:
        return invoice
    try:
        data = invoice_pdf_bytes(invoice)
    except Exception as exc:
        Invoice.objects.filter(pk=invoice.pk).update(pdf_status="failed", pdf_error=str(exc)[:2000])
        raise
    name = f"{invoice.number}.pdf"
    old_name = invoice.pdf_file.name if invoice.pdf_file else ""
    invoice.pdf_file.save(name, ContentFile(data), save=False)
    if old_name and old_name != invoice.pdf_file.name:
        invoice.pdf_file.storage.delete(old_name)
    Invoice.objects.filter(pk=invoice.pk).update(
        pdf_file=invoice.pdf_file.name, pdf_sha256=_sha256(data), pdf_status="done", pdf_error=""
    )
    invoice.pdf_sha256, invoice.pdf_status, invoice.pdf_error = _sha256(data), "done", ""
    return invoice


def invoice_pdf_get(*, invoice: Invoice) -> bytes:
    """The stored PDF when it is current, otherwise a fresh render (stored when finalized)."""
    if invoice.pdf_status == "done" and invoice.pdf_file:
        try:
            with invoice.pdf_file.open("rb") as handle:
                data = handle.read()
            if _sha256(data) == invoice.pdf_sha256:
                return data
        except OSError:
            pass
    if invoice.status == InvoiceStatus.DRAFT:
        return invoice_pdf_bytes(invoice)
    invoice = invoice_pdf_store(invoice_id=invoice.pk)
    with invoice.pdf_file.open("rb") as handle:
        return handle.read()


def invoice_email_send(*, invoice_id, now: datetime) -> Invoice:
    """Email the invoice with its PDF to the tenant's billing email, once: the send is claimed
    with a conditional UPDATE of `email_status` in the transaction that sends it, so a second
    delivery of the same task (a sweep, a broker redelivery) finds it done and sends nothing;
    a send that raises rolls the claim back and records the failure."""
    invoice = Invoice.objects.select_related("tenant").get(pk=invoice_id)
    try:
        pdf = invoice_pdf_get(invoice=invoice)
        with transaction.atomic():
            claimed = (
                Invoice.objects.filter(pk=invoice.pk)
                .exclude(email_status="done")
                .update(email_status="done", email_error="", emailed_at=now)
            )
            invoice.refresh_from_db()
            if not claimed:
                return invoice
            branding = branding_current()
            context = {
                **invoice_context(invoice, list(invoice.lines.all()), branding),
                "tenant": invoice.tenant,
            }
            subject = (
                f"{branding.company_name}: invoice {invoice.number} ({context['amount_due']} due)"
            )
            message = EmailMultiAlternatives(
                subject=subject,
                body=render_to_string("invoicing/email/invoice.txt", context),
                to=[invoice.tenant.email],
                reply_to=[branding.email] if branding.email else None,
            )
            message.attach_alternative(
                render_to_string("invoicing/email/invoice.html", context), "text/html"
            )
            message.attach(f"{invoice.number}.pdf", pdf, "application/pdf")
            message.send(fail_silently=False)
    except Exception as exc:
        Invoice.objects.filter(pk=invoice.pk).update(
            email_status="failed", email_error=str(exc)[:2000]
        )
        raise
    return invoice


def invoice_deliver(*, invoice_id, email: bool, now: datetime) -> None:
    """After commit: (re)render the stored PDF, then send the email if one is pending."""
    invoice = Invoice.objects.get(pk=invoice_id)
    if invoice.status == InvoiceStatus.DRAFT:
        return
    if invoice.pdf_status != "done":
        invoice_pdf_store(invoice_id=invoice_id)
    if email and invoice.email_status != "done":
        invoice_email_send(invoice_id=invoice_id, now=now)


# --- credit notes -----------------------------------------------------------------------------


def credit_note_html(note: CreditNote, branding: Branding | None = None) -> str:
    branding = branding or branding_current()
    tz = note.tenant.timezone or "UTC"
    money = _money(note.currency)
    context = {
        "note": note,
        "branding": branding,
        "buyer": note.tenant,
        "invoice": note.invoice,
        "issued": _date(note.issued_at, tz),
        "lines": [
            {"description": li.description, "amount": money(li.amount)} for li in note.lines.all()
        ],
        "total": money(note.total),
        "tax": money(note.tax) if note.tax else "",
        "tax_label": _credit_note_tax_label(note),
        "created_w3c": _w3c(note.issued_at),
    }
    return render_to_string("invoicing/credit_note.html", context)


def _credit_note_tax_label(note: CreditNote) -> str:
    decision = note.invoice.tax_decision or {}
    if not note.tax or not decision.get("jurisdiction"):
        return "Of which tax"
    name = decision.get("tax_name") or "tax"
    return f"Of which {name} {decision['jurisdiction']} {decision['rate']}%"


def credit_note_pdf_store(*, credit_note_id) -> CreditNote:
    note = CreditNote.objects.select_related("tenant", "invoice").get(pk=credit_note_id)
    try:
        data = html_to_pdf(credit_note_html(note), identifier=str(note.pk))
    except Exception as exc:
        CreditNote.objects.filter(pk=note.pk).update(pdf_status="failed", pdf_error=str(exc)[:2000])
        raise
    with transaction.atomic():
        note.pdf_file.save(f"{note.number}.pdf", ContentFile(data), save=False)
        CreditNote.objects.filter(pk=note.pk).update(
            pdf_file=note.pdf_file.name, pdf_sha256=_sha256(data), pdf_status="done", pdf_error=""
        )
    return note


def credit_note_pdf_get(*, note: CreditNote) -> bytes:
    if note.pdf_status == "done" and note.pdf_file:
        try:
            with note.pdf_file.open("rb") as handle:
                return handle.read()
        except OSError:
            pass
    return html_to_pdf(credit_note_html(note), identifier=str(note.pk))
