"""The benches' scratch database: a copy of the migrated test template (built when missing),
named after the current database and the bench, dropped and made again on each run. Call it
after django.setup(); it points the default connection at the copy and returns its name."""

from django.conf import settings
from django.db import connections

import conftest


def scratch_database(bench: str) -> str:
    db = settings.DATABASES["default"]
    template = f"{db['NAME']}_tmpl_{conftest._migrations_hash()}"
    conftest._ensure_template(db, template)
    name = f"{db['NAME']}_bench_{bench}"
    for alias in connections:
        connections[alias].close()
    with conftest._admin_connection(db) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    settings.DATABASES["default"]["NAME"] = name
    connections["default"].settings_dict["NAME"] = name
    return name
