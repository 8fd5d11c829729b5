"""The chart of accounts (codes and names are data, editable in the admin; code posts by role),
and the database's refusal to change or delete journal rows (corrections are new entries)."""

from django.db import migrations

from ledger.chart import CHART, chart_ensure


IMMUTABLE = """
CREATE OR REPLACE FUNCTION ledger_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'journal rows are immutable: post a correcting entry';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER ledger_journalentry_immutable BEFORE UPDATE OR DELETE ON ledger_journalentry
    FOR EACH ROW EXECUTE FUNCTION ledger_immutable();
CREATE TRIGGER ledger_journalline_immutable BEFORE UPDATE OR DELETE ON ledger_journalline
    FOR EACH ROW EXECUTE FUNCTION ledger_immutable();
"""

MUTABLE = """
DROP TRIGGER IF EXISTS ledger_journalline_immutable ON ledger_journalline;
DROP TRIGGER IF EXISTS ledger_journalentry_immutable ON ledger_journalentry;
DROP FUNCTION IF EXISTS ledger_immutable();
"""


def chart(apps, schema_editor):
    chart_ensure(apps.get_model("ledger", "Account"))


def unchart(apps, schema_editor):
    apps.get_model("ledger", "Account").objects.filter(role__in=[r for *_, r in CHART]).delete()


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [
        migrations.RunPython(chart, unchart),
        migrations.RunSQL(IMMUTABLE, MUTABLE),
    ]
