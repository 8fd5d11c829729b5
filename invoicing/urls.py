from django.urls import path

from billing_project.shared.replica import replica_view
from invoicing.apis import ar, cost_allocation, previews, revenue
from invoicing.apis import invoices as apis
from invoicing.apis import subscriptions as subscription_apis
from invoicing.apis import tax as tax_apis

urlpatterns = [
    path(
        "tenants/<str:tenant_id>/cost-allocation",
        cost_allocation.CostAllocationApi.as_view(),
        name="tenant-cost-allocation",
    ),
    path(
        "tenants/<str:tenant_id>/statement",
        ar.TenantStatementApi.as_view(),
        name="tenant-statement",
    ),
    path("reports/ar-aging", replica_view(ar.ArAgingApi.as_view()), name="reports-ar-aging"),
    path("tax/calculate", tax_apis.TaxCalculateApi.as_view(), name="tax-calculate"),
    path("reports/tax/oss", replica_view(tax_apis.OssReportApi.as_view()), name="reports-tax-oss"),
    path(
        "reports/revenue", replica_view(revenue.RevenueReportApi.as_view()), name="reports-revenue"
    ),
    path("reports/tax/us", replica_view(tax_apis.UsTaxReportApi.as_view()), name="reports-tax-us"),
    path(
        "subscriptions", subscription_apis.SubscriptionListCreateApi.as_view(), name="subscriptions"
    ),
    path(
        "subscriptions/<str:subscription_id>",
        subscription_apis.SubscriptionDetailApi.as_view(),
        name="subscription-detail",
    ),
    path(
        "subscriptions/<str:subscription_id>/preview",
        previews.SubscriptionPreviewApi.as_view(),
        name="subscription-preview",
    ),
    path("invoices", apis.InvoiceListCreateApi.as_view(), name="invoices"),
    path("invoices/upcoming", previews.InvoiceUpcomingApi.as_view(), name="invoices-upcoming"),
    path("invoices/<str:invoice_id>", apis.InvoiceDetailApi.as_view(), name="invoice-detail"),
    path("invoices/<str:invoice_id>/pdf", apis.InvoicePdfApi.as_view(), name="invoice-pdf"),
    path(
        "invoices/<str:invoice_id>/finalize",
        apis.InvoiceFinalizeApi.as_view(),
        name="invoice-finalize",
    ),
    path("invoices/<str:invoice_id>/void", apis.InvoiceVoidApi.as_view(), name="invoice-void"),
    path("invoices/<str:invoice_id>/send", apis.InvoiceSendApi.as_view(), name="invoice-send"),
    path(
        "invoices/<str:invoice_id>/mark-uncollectible",
        apis.InvoiceMarkUncollectibleApi.as_view(),
        name="invoice-mark-uncollectible",
    ),
    path(
        "invoices/<str:invoice_id>/payments",
        apis.InvoicePaymentsApi.as_view(),
        name="invoice-payments",
    ),
    path(
        "invoices/<str:invoice_id>/credit-notes",
        apis.InvoiceCreditNotesApi.as_view(),
        name="invoice-credit-notes",
    ),
    path(
        "credit-notes/<str:credit_note_id>/pdf",
        apis.CreditNotePdfApi.as_view(),
        name="credit-note-pdf",
    ),
]
