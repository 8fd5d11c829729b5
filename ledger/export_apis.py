"""HTTP for the CSV journal export (staff): `GET ledger/entries.csv`."""

import re

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema

from billing_project.shared.api.dates import date_range, day_end, day_start
from billing_project.shared.api.permissions import IsStaff
from billing_project.shared.api.views import BillingAPIView
from billing_project.shared.errors import ValidationFailed
from ledger.exports import journal_csv

CURRENCY = re.compile(r"^[A-Za-z]{3}$")


class JournalCsvApi(BillingAPIView):
    permission_classes = [IsStaff]

    @extend_schema(
        operation_id="ledger_entries_csv",
        parameters=[
            OpenApiParameter("from", OpenApiTypes.STR, required=False, description="2026-11-01"),
            OpenApiParameter("to", OpenApiTypes.STR, required=False, description="2026-11-30"),
            OpenApiParameter("document_id", OpenApiTypes.STR, required=False),
            OpenApiParameter("currency", OpenApiTypes.STR, required=False, description="usd"),
        ],
        responses={(200, "text/csv"): OpenApiTypes.STR},
        description="Staff. The journal, one row per line, for the accounting system: date, "
        "entry, account, debit, credit, currency, document (`type:id`), tenant. Entries posted "
        "from `from` through `to` (UTC days, inclusive; default all).",
    )
    def get(self, request):
        params = request.query_params
        start, end = date_range(params, default_start=None, default_end=None)
        currency = params.get("currency") or None
        if currency is not None and not CURRENCY.match(currency):
            raise ValidationFailed(
                "currency must be a 3-letter code.", errors={"currency": ["A 3-letter code."]}
            )
        document_id = params.get("document_id") or None
        if document_id is not None and len(document_id) > 64:
            raise ValidationFailed(
                "document_id is too long.", errors={"document_id": ["Too long."]}
            )
        body = journal_csv(
            start=day_start(start) if start else None,
            end=day_end(end) if end else None,
            document_id=document_id,
            currency=currency.lower() if currency else None,
        )
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="journal.csv"'
        return response
