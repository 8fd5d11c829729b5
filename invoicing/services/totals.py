"""An invoice's totals from its lines; what is due comes from `Invoice.amount_due_refresh`."""

from invoicing.models import Invoice, LineKind


def totals_of(lines) -> dict[str, int]:
    subtotal = discount = tax = 0
    for line in lines:
        if line.kind == LineKind.DISCOUNT:
            discount -= line.amount
        elif line.kind == LineKind.TAX:
            tax += line.amount
        else:
            subtotal += line.amount
    return {
        "subtotal": subtotal,
        "discount": discount,
        "tax": tax,
        "total": subtotal - discount + tax,
    }


def apply_totals(invoice: Invoice, lines) -> None:
    for name, value in totals_of(lines).items():
        setattr(invoice, name, value)
    invoice.amount_due_refresh()
