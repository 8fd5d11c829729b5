"""The raw SQL of invoicing, in one place: composed with `psycopg.sql` from the models' table
names, rendered once at import (identifiers quoted; values are always bound parameters).

- `NUMBER_BLOCK`: take the next `n` numbers of a document series in one statement.
- `invoice_page_sql`: a page of the invoice list as JSON text built by PostgreSQL, each invoice
  exactly as `invoicing.serializers.InvoiceSerializer` describes it (`INVOICE_JSON_FIELDS` is
  tested field by field against it and against `invoice_data`).
"""

from psycopg import sql

from invoicing.models import Invoice, InvoiceLine, NumberSequence

_INVOICES = sql.Identifier(Invoice._meta.db_table)
_LINES = sql.Identifier(InvoiceLine._meta.db_table)
_SEQUENCES = sql.Identifier(NumberSequence._meta.db_table)

NUMBER_BLOCK = (
    sql.SQL(
        "INSERT INTO {t} (seller, document_type, year, last_value) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (seller, document_type, year) "
        "DO UPDATE SET last_value = {t}.last_value + EXCLUDED.last_value RETURNING last_value"
    )
    .format(t=_SEQUENCES)
    .as_string()
)


_MODELS = {"p": Invoice, "l": InvoiceLine}


def _col(alias: str, field: str) -> sql.Composable:
    """`alias.column` of a model field (`p`: the invoice, `l`: a line)."""
    return sql.Identifier(alias, _MODELS[alias]._meta.get_field(field).column)


def _iso(alias: str, field: str) -> sql.Composable:
    """The instant as `invoicing.serializers.iso` writes it (UTC, `Z`, microseconds only when
    there are some); NULL stays NULL."""
    return sql.SQL(
        "replace(to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
        "'.000000Z', 'Z')"
    ).format(c=_col(alias, field))


def _or_default(alias: str, field: str, default: str) -> sql.Composable:
    """A JSON column, or `default` where Python would see a falsy value (`x or []`)."""
    column_sql = _col(alias, field)
    falsy = sql.SQL(", ").join(
        sql.SQL("{}::jsonb").format(sql.Literal(v))
        for v in ("null", "false", "0", '""', "[]", "{}")
    )
    return sql.SQL("CASE WHEN {c} IS NULL OR {c} IN ({falsy}) THEN {d}::jsonb ELSE {c} END").format(
        c=column_sql, falsy=falsy, d=sql.Literal(default)
    )


def _object(fields: dict[str, sql.Composable]) -> sql.Composable:
    pairs = sql.SQL(", ").join(
        sql.SQL("{}, {}").format(sql.Literal(name), expr) for name, expr in fields.items()
    )
    return sql.SQL("json_build_object({})").format(pairs)


LINE_JSON_FIELDS: dict[str, sql.Composable] = {
    "id": _col("l", "id"),
    "kind": _col("l", "kind"),
    "description": _col("l", "description"),
    "quantity": sql.SQL("trim_scale({})").format(_col("l", "quantity")),
    "unit_price": sql.SQL("trim_scale({})").format(_col("l", "unit_price")),
    "amount": _col("l", "amount"),
    "period_start": _iso("l", "period_start"),
    "period_end": _iso("l", "period_end"),
    "explanation": _or_default("l", "explanation", "{}"),
    "section_id": _col("l", "section_id"),
}

_PLAIN = (
    "id", "number", "tenant_id", "subscription_id", "kind", "status", "currency",
)  # fmt: skip
_MONEY = ("subtotal", "discount", "tax", "total", "amount_paid", "amount_due")

INVOICE_JSON_FIELDS: dict[str, sql.Composable] = {
    **{name: _col("p", name) for name in _PLAIN},
    "period_start": _iso("p", "period_start"),
    "period_end": _iso("p", "period_end"),
    **{name: _col("p", name) for name in _MONEY},
    "issued_at": _iso("p", "issued_at"),
    "due_at": _iso("p", "due_at"),
    "paid_at": _iso("p", "paid_at"),
    "voided_at": _iso("p", "voided_at"),
    "custom_fields": _or_default("p", "custom_fields", "[]"),
    "tax_decision": _col("p", "tax_decision"),
    "lines": sql.SQL(
        "COALESCE((SELECT json_agg({line} ORDER BY l.position) FROM {lines} l "
        "WHERE l.invoice_id = p.id AND l.amount <> 0), '[]'::json)"
    ).format(line=_object(LINE_JSON_FIELDS), lines=_LINES),
}

_INVOICE_JSON = _object(INVOICE_JSON_FIELDS)

_FILTERS = {
    "tenant_id": sql.SQL("i.tenant_id = %(tenant_id)s"),
    "status": sql.SQL("i.status = %(status)s"),
    "period_start": sql.SQL("i.period_end > %(period_start)s"),
    "period_end": sql.SQL("i.period_start < %(period_end)s"),
}

_PAGE = sql.SQL(
    "WITH page AS MATERIALIZED ("
    " SELECT * FROM {invoices} i WHERE {where}"
    " ORDER BY i.created_at DESC, i.id DESC LIMIT %(limit)s OFFSET %(offset)s) "
    "SELECT (SELECT count(*) FROM {invoices} i WHERE {where}), "
    "COALESCE(json_agg({invoice} ORDER BY p.created_at DESC, p.id DESC), '[]'::json)::text "
    "FROM page p"
)

_PAGE_SQL: dict[frozenset, str] = {}


def invoice_page_sql(filters: frozenset[str]) -> str:
    """The page query for the given filters (names of `_FILTERS` whose value is bound), cached:
    one statement text per combination."""
    text = _PAGE_SQL.get(filters)
    if text is None:
        where = sql.SQL(" AND ").join(
            [sql.SQL("TRUE"), *(_FILTERS[name] for name in _FILTERS if name in filters)]
        )
        text = _PAGE_SQL[filters] = _PAGE.format(
            invoices=_INVOICES, where=where, invoice=_INVOICE_JSON
        ).as_string()
    return text
