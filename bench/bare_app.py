"""URL module for benchmarks: every real URL plus a bare DRF view doing one INSERT.

The bare view is the yardstick for `POST usage`: the same DRF stack (token authentication,
permissions, orjson parser and renderer), then a single INSERT and a 201.
"""

import uuid
from decimal import Decimal

from django.db import connection
from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView

from billing_project.shared.api.permissions import principal_of
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


urlpatterns = [
    path("api/v1/billing/bench/bare-insert", BareInsertApi.as_view()),
    path("", include("billing_project.urls")),
]
