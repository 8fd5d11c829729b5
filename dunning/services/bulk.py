"""Writing a chunk's rows back in one statement.

Django's `bulk_update` builds a `CASE WHEN pk = ... THEN ...` expression per field and row and
resolves each through the ORM: for a chunk of 200 cases and 9 fields that is ~1 s of Python
(measured: 6 of the 7 s of a 400-case pass). `rows_update` sends one
`UPDATE ... FROM unnest(...)` with an array per field instead: the same rows, the same values.
"""

from __future__ import annotations

from django.db import connection, models

TEXT_FIELDS = (models.CharField, models.TextField)


def _column(field: models.Field, objs) -> list:
    values = [field.get_db_prep_save(getattr(obj, field.attname), connection) for obj in objs]
    if isinstance(field, TEXT_FIELDS):  # TextChoices members as their plain value
        return [None if value is None else str(value) for value in values]
    return values


def rows_update(objs: list, fields: list[str]) -> int:
    """`UPDATE` the model rows `objs` (one model) setting `fields` to their in-memory values;
    one query whatever the number of rows. Returns the number of rows updated."""
    if not objs:
        return 0
    meta = type(objs[0])._meta
    pk = meta.pk
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    arrays = [_column(pk, objs)] + [_column(field, objs) for field in columns]
    types = [pk.db_type(connection)] + [field.db_type(connection) for field in columns]
    names = [pk.column] + [field.column for field in columns]
    unnest = ", ".join(f"%s::{kind}[]" for kind in types)
    sets = ", ".join(f"{quote(name)} = v.{quote(name)}" for name in names[1:])
    sql = (
        f"UPDATE {quote(meta.db_table)} AS t SET {sets} "  # noqa: S608 (names from the model)
        f"FROM unnest({unnest}) AS v({', '.join(quote(name) for name in names)}) "
        f"WHERE t.{quote(pk.column)} = v.{quote(pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)
        return cursor.rowcount
