"""What an invoice PDF prints about tax: a row per rate and jurisdiction, the tax of each line,
and the notes the decision requires (the reverse-charge mention, the exemption reason)."""

from invoicing.models import LineKind

ZERO_LABELS = {
    "reverse_charge": "VAT 0% (reverse charge)",
    "exempt": "Tax 0% (exempt)",
    "out_of_scope": "Tax 0% (out of scope)",
}


def tax_rows(invoice, lines, money) -> list[dict]:
    """One row per rate and jurisdiction: "Sales tax US-CA 8.25% on $160.00"."""
    rows: dict[tuple, dict] = {}
    for line in lines:
        if line.kind != LineKind.TAX or line.amount == 0:
            continue
        explanation = line.explanation or {}
        rate = str(explanation.get("rate", ""))
        key = (rate, explanation.get("jurisdiction", ""), explanation.get("tax_name", ""))
        row = rows.setdefault(key, {"taxable": 0, "amount": 0})
        row["taxable"] += int(explanation.get("taxable") or 0)
        row["amount"] += line.amount
    shown = []
    for (rate, jurisdiction, name), row in rows.items():
        if jurisdiction and rate:
            label = f"{name or 'Tax'} {jurisdiction} {rate}% on {money(row['taxable'])}"
        else:
            label = f"Tax ({rate}%)" if rate else "Tax"
        shown.append({"label": label, "amount": money(row["amount"])})
    if shown:
        return shown
    decision = invoice.tax_decision or {}
    label = ZERO_LABELS.get(decision.get("kind"), "Tax")
    if decision.get("kind") in ZERO_LABELS and decision.get("jurisdiction"):
        label = f"{label}, {decision['jurisdiction']}"
    return [{"label": label, "amount": money(invoice.tax)}]


def line_taxes(lines) -> dict[int, int]:
    """Position of a charged line -> its tax (from the tax lines' explanation)."""
    taxes: dict[int, int] = {}
    for line in lines:
        if line.kind == LineKind.TAX:
            for item in (line.explanation or {}).get("lines", ()):
                if item.get("tax"):
                    taxes[item["position"]] = taxes.get(item["position"], 0) + item["tax"]
    return taxes


def tax_notes(invoice) -> list[str]:
    decision = invoice.tax_decision or {}
    notes = []
    if decision.get("legal_mention"):
        notes.append(decision["legal_mention"])
    if decision.get("kind") == "exempt":
        notes.append(f"Tax exempt: {decision.get('reason', '')}".strip())
    if decision.get("kind") in ("reverse_charge", "exempt") and decision.get("buyer_vat_id"):
        notes.append(f"Customer VAT ID: {decision['buyer_vat_id']}")
    return notes


def seller_tax_ids(invoice, branding_ids) -> list[str]:
    """The seller's ids printed in the header, plus the registration number that decided this
    invoice's tax when it is not among them."""
    ids = list(branding_ids)
    own = (invoice.tax_decision or {}).get("seller_tax_id") or ""
    if own and not any(own in text.replace(" ", "") for text in ids):
        ids.append(f"Tax ID {own}")
    return ids
