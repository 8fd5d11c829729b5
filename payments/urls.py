from django.urls import path

from payments import apis, webhook_apis

urlpatterns = [
    path("webhooks/stripe", webhook_apis.stripe_webhook, name="stripe-webhook"),
    path("invoices/<str:invoice_id>/pay", apis.InvoicePayApi.as_view(), name="invoice-pay"),
    path(
        "invoices/<str:invoice_id>/refunds",
        apis.InvoiceRefundsApi.as_view(),
        name="invoice-refunds",
    ),
    path(
        "invoices/<str:invoice_id>/payment-attempts",
        apis.InvoicePaymentAttemptsApi.as_view(),
        name="invoice-payment-attempts",
    ),
]
