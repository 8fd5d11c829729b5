"""The tenant statement as a PDF: same branding and styles as invoices, one WeasyPrint call."""

from datetime import date

from django.template.loader import render_to_string

from billing_project.shared.money import format_money
from invoicing.services.branding import Branding, branding_current
from invoicing.services.documents import html_to_pdf


def _day(value: str) -> str:
    return date.fromisoformat(value).strftime("%b %d, %Y").replace(" 0", " ")


def statement_html(statement: dict, tenant, branding: Branding | None = None) -> str:
    branding = branding or branding_current()
    currency = statement["currency"]

    def money(cents: int) -> str:
        return format_money(int(cents), currency) if cents else ""

    context = {
        "branding": branding,
        "buyer": tenant,
        "period": f"{_day(statement['from'])} - {_day(statement['to'])}",
        "opening": format_money(statement["opening_balance"], currency),
        "closing": format_money(statement["closing_balance"], currency),
        "lines": [
            {
                "date": _day(line["date"]),
                "number": line["number"],
                "description": line["description"],
                "debit": money(line["debit"]),
                "credit": money(line["credit"]),
                "balance": format_money(line["balance"], currency),
            }
            for line in statement["lines"]
        ],
        "created_w3c": f"{statement['to']}T00:00:00Z",
    }
    return render_to_string("invoicing/statement.html", context)


def statement_pdf(statement: dict, tenant) -> bytes:
    identifier = ":".join(
        [
            "statement",
            statement["tenant_id"],
            statement["currency"],
            statement["from"],
            statement["to"],
        ]
    )
    return html_to_pdf(statement_html(statement, tenant), identifier=identifier)
