"""Reads that may be served by a read replica (DATABASE_REPLICA_URL): analytics and reports.

Only code that opts in reads from the replica: inside `replica_reads()` (or a view decorated
with `replica_view`) the router sends ORM reads to the `replica` alias, and raw SQL takes
`connections[read_alias()]`. Everything else, and every write, stays on `default`, so billing
never reads a lagging copy of what it is about to change. Without DATABASE_REPLICA_URL the
alias does not exist and everything reads from `default`."""

from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from django.conf import settings

REPLICA = "replica"
_reading = ContextVar("lvb_replica_reads", default=False)


def read_alias() -> str:
    return REPLICA if _reading.get() and REPLICA in settings.DATABASES else "default"


@contextmanager
def replica_reads():
    token = _reading.set(True)
    try:
        yield
    finally:
        _reading.reset(token)


def replica_view(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        with replica_reads():
            return view(*args, **kwargs)

    return wrapped


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        alias = read_alias()
        return alias if alias == REPLICA else None

    def db_for_write(self, model, **hints):
        return None

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != REPLICA  # the replica follows the primary; it is never migrated itself
