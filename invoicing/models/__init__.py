from invoicing.models.credit_notes import CreditNote, CreditNoteLine
from invoicing.models.invoices import (
    DeliveryStatus,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceSection,
    InvoiceStatus,
    LineKind,
    ManualPayment,
)
from invoicing.models.numbering import DocumentType, NumberSequence
from invoicing.models.runs import BillingRun, BillingRunFailure
from invoicing.models.settings import InvoiceSettings

__all__ = [
    "BillingRun",
    "BillingRunFailure",
    "CreditNote",
    "CreditNoteLine",
    "DeliveryStatus",
    "DocumentType",
    "Invoice",
    "InvoiceKind",
    "InvoiceLine",
    "InvoiceSection",
    "InvoiceSettings",
    "InvoiceStatus",
    "LineKind",
    "ManualPayment",
    "NumberSequence",
]
