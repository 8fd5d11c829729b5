from django.apps import AppConfig


class SharedConfig(AppConfig):
    name = "billing_project.shared"
    label = "shared"
    verbose_name = "Shared infrastructure"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # dj-stripe calls the global stripe module: point it at STRIPE_API_BASE from the start.
        from billing_project.shared import stripe_gateway

        stripe_gateway.configure_globals()
