"""The raw SQL of subscriptions, composed with `psycopg.sql` from the models' table and column
names and rendered once at import (values are always bound parameters).

- `TOKEN_LOOKUP`: the live token of a hash with its user's name and state, what
  `subscriptions.authentication` reads on every API request (the ORM's compilation of the same
  query cost ~0.6 ms of Python per request, ~6x the statement's own client time).
"""

from django.contrib.auth import get_user_model
from psycopg import sql

from subscriptions.models import ApiToken

_TOKEN_FIELDS = ("id", "role", "tenant", "user", "last_used_at")
USER_FIELDS = ("id", "username", "is_active")  # loaded; the user's other fields are deferred


def _columns(model, alias: str, fields) -> sql.Composable:
    return sql.SQL(", ").join(
        sql.Identifier(alias, model._meta.get_field(f).column) for f in fields
    )


_USER = get_user_model()
TOKEN_LOOKUP = (
    sql.SQL(
        "SELECT {token_columns}, {user_columns} FROM {tokens} t "
        "LEFT JOIN {users} u ON u.{user_pk} = t.{user_fk} "
        "WHERE t.{hash} = %s AND t.{revoked} IS NULL"
    )
    .format(
        token_columns=_columns(ApiToken, "t", _TOKEN_FIELDS),
        user_columns=_columns(_USER, "u", USER_FIELDS[1:]),
        tokens=sql.Identifier(ApiToken._meta.db_table),
        users=sql.Identifier(_USER._meta.db_table),
        user_pk=sql.Identifier(_USER._meta.pk.column),
        user_fk=sql.Identifier(ApiToken._meta.get_field("user").column),
        hash=sql.Identifier(ApiToken._meta.get_field("token_hash").column),
        revoked=sql.Identifier(ApiToken._meta.get_field("revoked_at").column),
    )
    .as_string()
)
