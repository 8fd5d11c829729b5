"""Admin pages that read across every app (registered last): the tenant page as the customer's
whole story and finance's actions on tenants, subscriptions, invoices, credit notes and dunning
cases (each calling the service the API calls; see each module)."""

from console import admin_dunning, admin_invoices, admin_subscriptions, admin_tenants  # noqa: F401
