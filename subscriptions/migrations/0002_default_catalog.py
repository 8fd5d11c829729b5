from django.db import migrations


def load_catalog(apps, schema_editor):
    from subscriptions.catalog_defaults import load_default_catalog

    load_default_catalog(apps)


class Migration(migrations.Migration):
    dependencies = [("subscriptions", "0001_initial")]
    operations = [migrations.RunPython(load_catalog, migrations.RunPython.noop)]
