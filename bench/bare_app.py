"""URL module for benchmarks: every real URL plus three yardsticks, never in production urls.

The bare insert is the yardstick for `POST usage`, the bare aggregate for `GET usage/current`:
the same DRF stack (token authentication, permissions, orjson parser and renderer), then a
single INSERT (a 201), resp. one indexed aggregate read. The legacy invoice
list is the yardstick for `GET invoices`: the list as it was built before it was made from
column tuples (model instances, prefetched lines, `invoice_data`), measured in the same run.
"""

import uuid
from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView

from billing_project.shared.api.permissions import principal_of
from billing_project.shared.api.views import BillingGenericAPIView, tenant_scope
from billing_project.shared.clock import utcnow

BARE_TABLE_DDL = """
CREATE TABLE IF NOT EXISTS bench_bare_event (
  id uuid PRIMARY KEY, tenant_id uuid NOT NULL, metric_type text NOT NULL,
  quantity numeric NOT NULL, timestamp timestamptz NOT NULL
)"""


class BareInsertApi(APIView):
    def post(self, request):
        data = request.data
        event_id, now = uuid.uuid4(), utcnow()
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_bare_event (id, tenant_id, metric_type, quantity, timestamp)"
                " VALUES (%s, %s, %s, %s, %s)",
                [
                    event_id,
                    principal_of(request).tenant_id,
                    str(data["metric_type"]),
                    Decimal(str(data["quantity"])),
                    now,
                ],
            )
        return Response({"id": str(event_id)}, status=201)


class BareAggregateApi(APIView):
    """The yardstick for `GET usage/current`: one indexed aggregate read of the caller's
    daily rollups of the last 30 days, the same DRF stack."""

    def get(self, request):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*), sum(sum_value) FROM usage_daily"
                " WHERE tenant_id = %s AND day >= %s",
                [principal_of(request).tenant_id, utcnow() - timedelta(days=30)],
            )
            rows, total = cursor.fetchone()
        return Response({"rows": rows, "total": str(total)})


class LegacyInvoiceListApi(BillingGenericAPIView):
    def get(self, request):
        from invoicing.selectors import invoice_list
        from invoicing.serializers import invoice_data

        page = self.paginate_queryset(invoice_list(tenant_id=tenant_scope(request)))
        return self.get_paginated_response([invoice_data(invoice) for invoice in page])


urlpatterns = [
    path("api/v1/billing/bench/bare-insert", BareInsertApi.as_view()),
    path("api/v1/billing/bench/bare-aggregate", BareAggregateApi.as_view()),
    path("api/v1/billing/bench/invoices-legacy", LegacyInvoiceListApi.as_view()),
    path("", include("billing_project.urls")),
]
