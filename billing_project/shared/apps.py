from django.apps import AppConfig


class SharedConfig(AppConfig):
    name = "billing_project.shared"
    label = "shared"
    verbose_name = "Shared infrastructure"
    default_auto_field = "django.db.models.BigAutoField"
