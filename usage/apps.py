from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _install_functions(sender, using, **kwargs):
    from django.db import connections

    from usage.services import usage_functions_install

    usage_functions_install(using_connection=connections[using])


class UsageConfig(AppConfig):
    name = "usage"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The ingestion path's SQL functions follow the code: recreated after every migrate.
        post_migrate.connect(_install_functions, sender=self, dispatch_uid="usage-functions")
