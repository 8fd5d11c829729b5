from django.apps import AppConfig


class TaxConfig(AppConfig):
    name = "tax"
    verbose_name = "Tax"
    default_auto_field = "django.db.models.BigAutoField"
