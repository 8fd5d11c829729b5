"""HTTP for the ledger (staff): the trial balance and the entries a document posted."""

import re
from datetime import UTC, date, datetime, time, timedelta

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from billing_project.shared.api.permissions import IsStaff
from billing_project.shared.api.views import BillingAPIView
from billing_project.shared.clock import utcnow
from billing_project.shared.errors import ValidationFailed
from ledger import selectors
from ledger.serializers import EntrySerializer, TrialBalanceSerializer

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CURRENCY = re.compile(r"^[A-Za-z]{3}$")


def _as_of(value: str | None) -> date:
    if not value:
        return utcnow().date()
    try:
        if not DATE.match(value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            "as_of must be a date, YYYY-MM-DD.", errors={"as_of": ["A date, YYYY-MM-DD."]}
        ) from None


class TrialBalanceApi(BillingAPIView):
    permission_classes = [IsStaff]

    @extend_schema(
        operation_id="ledger_trial_balance",
        parameters=[
            OpenApiParameter(
                "as_of", str, required=False, description="2026-11-30 (default today)"
            ),
            OpenApiParameter(
                "currency", str, required=False, pattern=r"^[A-Za-z]{3}$", description="USD"
            ),
        ],
        responses={200: TrialBalanceSerializer(many=True)},
        description="Staff. Every account's balance on its side at the end of `as_of` (UTC), one "
        "trial balance per currency of the journal (`currency` picks one); the totals are equal.",
    )
    def get(self, request):
        as_of = _as_of(request.query_params.get("as_of"))
        currency = request.query_params.get("currency") or None
        if currency is not None and not CURRENCY.match(currency):
            raise ValidationFailed(
                "currency must be a 3-letter code.", errors={"currency": ["A 3-letter code."]}
            )
        if as_of >= date.max - timedelta(days=1):
            before = None
        else:
            before = datetime.combine(as_of + timedelta(days=1), time.min, tzinfo=UTC)
        balances = selectors.trial_balances(
            before=before, currency=currency.lower() if currency else None
        )
        return Response([{"as_of": as_of.isoformat(), **balance} for balance in balances])


class EntriesApi(BillingAPIView):
    permission_classes = [IsStaff]

    @extend_schema(
        operation_id="ledger_entries",
        parameters=[
            OpenApiParameter(
                "document_id", str, required=True, description="An invoice's, payment's, ... id"
            )
        ],
        responses={200: EntrySerializer(many=True)},
        description="Staff. The journal entries a document posted (invoice: finalized, "
        "written off, voided; payment, credit note, refund: theirs), oldest first.",
    )
    def get(self, request):
        document_id = request.query_params.get("document_id", "")
        if not document_id or len(document_id) > 64:
            raise ValidationFailed(
                "document_id is required.", errors={"document_id": ["A document's id."]}
            )
        return Response(
            [
                {
                    "id": str(entry.pk),
                    "posted_at": entry.posted_at.isoformat().replace("+00:00", "Z"),
                    "event": entry.event,
                    "document_type": entry.document_type,
                    "document_id": entry.document_id,
                    "lines": [
                        {
                            "account": line.account.code,
                            "tenant_id": str(line.tenant_id) if line.tenant_id else None,
                            "debit": line.debit,
                            "credit": line.credit,
                            "currency": line.currency,
                        }
                        for line in entry.lines.all()
                    ],
                }
                for entry in selectors.entries_for(document_id=document_id)
            ]
        )
