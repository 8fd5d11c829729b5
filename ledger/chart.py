"""The default chart of accounts: (code, name, kind, role). Codes and names are data (editable in
the admin); the code posts by role. Loaded by migration 0002 (and again after a test flush)."""

CHART = [
    ("1010", "Stripe clearing", "asset", "stripe_clearing"),
    ("1020", "Bank", "asset", "bank"),
    ("1100", "Accounts receivable", "asset", "receivable"),
    ("2100", "Deferred revenue", "liability", "deferred_revenue"),
    ("2200", "Tax payable", "liability", "tax_payable"),
    ("2300", "Customer credits and refunds payable", "liability", "refunds_payable"),
    ("4000", "Revenue - subscription fees", "revenue", "revenue_subscription"),
    ("4100", "Revenue - usage", "revenue", "revenue_usage"),
    ("4900", "Discounts", "revenue", "discounts"),
    ("6100", "Bad debt", "expense", "bad_debt"),
]


def chart_ensure(account_model) -> None:
    """Create the accounts that are missing (existing ones keep their edited code and name)."""
    for code, name, kind, role in CHART:
        account_model.objects.get_or_create(
            role=role, defaults={"code": code, "name": name, "kind": kind}
        )
