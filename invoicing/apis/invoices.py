"""HTTP for invoices and credit notes. Views parse input, call one service, shape output."""

from datetime import UTC, datetime

import orjson
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from billing_project.shared.api.pagination import FetchPagination
from billing_project.shared.api.permissions import IsStaff, principal_of
from billing_project.shared.api.views import BillingGenericAPIView, parse_uuid, tenant_scope
from billing_project.shared.clock import utcnow
from billing_project.shared.errors import NotFound, ValidationFailed
from invoicing import selectors
from invoicing.models import CreditNote, Invoice, InvoiceStatus
from invoicing.serializers import (
    CreditNoteCreateSerializer,
    CreditNoteSerializer,
    CustomInvoiceCreateSerializer,
    CustomInvoiceUpdateSerializer,
    InvoiceSerializer,
    PaymentCreateSerializer,
    credit_note_data,
    invoice_data,
)
from invoicing.services import credit_notes, custom, documents, lifecycle


def _scoped_invoice(request, invoice_id) -> Invoice:
    invoice_id = parse_uuid(invoice_id, not_found=True)
    principal = principal_of(request)
    invoice = selectors.invoice_get(
        invoice_id=invoice_id, tenant_id=None if principal.is_staff else principal.tenant_id
    )
    if invoice is None:
        raise NotFound("Invoice not found.")
    return invoice


def _fresh(invoice_id) -> dict:
    return invoice_data(selectors.invoice_get(invoice_id=invoice_id))


def _month(value: str) -> tuple[datetime, datetime]:
    try:
        start = datetime.strptime(value, "%Y-%m").replace(tzinfo=UTC)
        end = start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    except ValueError:  # not YYYY-MM, or December 9999 (no month after it)
        raise ValidationFailed(
            "period must be YYYY-MM.", errors={"period": ["Use YYYY-MM."]}
        ) from None
    return start, end


LIST_PARAMETERS = [
    OpenApiParameter("status", str, enum=InvoiceStatus.values),
    OpenApiParameter("tenant_id", OpenApiTypes.UUID, description="staff only"),
    OpenApiParameter(
        "period",
        str,
        pattern=r"^(?!9999-12)[1-9]\d{3}-(0[1-9]|1[0-2])$",
        description="YYYY-MM: invoices whose period overlaps it",
    ),
]


class InvoiceListCreateApi(BillingGenericAPIView):
    serializer_class = InvoiceSerializer
    queryset = Invoice.objects.none()
    pagination_class = FetchPagination

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsStaff()]
        return super().get_permissions()

    @extend_schema(
        parameters=LIST_PARAMETERS,
        responses=InvoiceSerializer(many=True),
        operation_id="invoices_list",
    )
    def get(self, request):
        params = request.query_params
        tenant_id = tenant_scope(request, params.get("tenant_id"))
        status_filter = params.get("status") or None
        if status_filter and status_filter not in InvoiceStatus.values:
            raise ValidationFailed(
                "Unknown status.", errors={"status": [f"One of {', '.join(InvoiceStatus.values)}."]}
            )
        period_start = period_end = None
        if params.get("period"):
            period_start, period_end = _month(params["period"])

        filters = {
            "tenant_id": tenant_id,
            "status": status_filter,
            "period_start": period_start,
            "period_end": period_end,
        }

        def fetch(offset, limit):
            return selectors.invoice_list_page_json(offset=offset, limit=limit, **filters)

        # The page arrives as JSON text built by PostgreSQL; the renderer embeds it as is.
        page = self.paginator.paginate_fetch(request, fetch)
        return self.get_paginated_response(orjson.Fragment(page))

    @extend_schema(request=CustomInvoiceCreateSerializer, responses={201: InvoiceSerializer})
    def post(self, request):
        serializer = CustomInvoiceCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invoice = custom.invoice_custom_create(
            tenant_id=serializer.validated_data["tenant_id"],
            data=serializer.to_service_data(),
            now=utcnow(),
            actor=principal_of(request).actor,
        )
        return Response(_fresh(invoice.pk), status=status.HTTP_201_CREATED)


class InvoiceDetailApi(BillingGenericAPIView):
    serializer_class = InvoiceSerializer
    queryset = Invoice.objects.none()

    def get_permissions(self):
        if self.request.method in ("PATCH", "DELETE"):
            return [IsStaff()]
        return super().get_permissions()

    @extend_schema(responses=InvoiceSerializer)
    def get(self, request, invoice_id):
        return Response(invoice_data(_scoped_invoice(request, invoice_id)))

    @extend_schema(request=CustomInvoiceUpdateSerializer, responses=InvoiceSerializer)
    def patch(self, request, invoice_id):
        invoice = _scoped_invoice(request, invoice_id)
        # Not partial: every field is optional already, and a given line must be whole (partial
        # would reach into the lines and let a line without its description through: a 500).
        serializer = CustomInvoiceUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        custom.invoice_draft_update(
            invoice_id=invoice.pk, data=serializer.to_service_data(), now=utcnow()
        )
        return Response(_fresh(invoice.pk))

    @extend_schema(responses={204: None})
    def delete(self, request, invoice_id):
        invoice = _scoped_invoice(request, invoice_id)
        custom.invoice_draft_delete(invoice_id=invoice.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvoicePdfApi(BillingGenericAPIView):
    serializer_class = InvoiceSerializer
    queryset = Invoice.objects.none()

    @extend_schema(
        responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY)},
        operation_id="invoices_pdf",
    )
    def get(self, request, invoice_id):
        invoice = _scoped_invoice(request, invoice_id)
        data = documents.invoice_pdf_get(invoice=invoice)
        response = HttpResponse(data, content_type="application/pdf")
        name = invoice.number or f"draft-{str(invoice.pk)[:8]}"
        response["Content-Disposition"] = f'inline; filename="{name}.pdf"'
        return response


class _InvoiceActionApi(BillingGenericAPIView):
    permission_classes = [IsStaff]
    serializer_class = InvoiceSerializer
    queryset = Invoice.objects.none()
    action = ""

    def perform(self, invoice: Invoice, request) -> None:
        raise NotImplementedError

    @extend_schema(request=None, responses=InvoiceSerializer)
    def post(self, request, invoice_id):
        invoice = _scoped_invoice(request, invoice_id)
        self.perform(invoice, request)
        return Response(_fresh(invoice.pk))


class InvoiceFinalizeApi(_InvoiceActionApi):
    def perform(self, invoice, request):
        lifecycle.invoice_finalize(invoice_id=invoice.pk, now=utcnow())


class InvoiceVoidApi(_InvoiceActionApi):
    def perform(self, invoice, request):
        lifecycle.invoice_void(invoice_id=invoice.pk, now=utcnow())


class InvoiceSendApi(_InvoiceActionApi):
    def perform(self, invoice, request):
        lifecycle.invoice_send(invoice_id=invoice.pk, now=utcnow())


class InvoiceMarkUncollectibleApi(_InvoiceActionApi):
    def perform(self, invoice, request):
        lifecycle.invoice_mark_uncollectible(invoice_id=invoice.pk, now=utcnow())


class InvoicePaymentsApi(BillingGenericAPIView):
    permission_classes = [IsStaff]
    serializer_class = InvoiceSerializer
    queryset = Invoice.objects.none()

    @extend_schema(request=PaymentCreateSerializer, responses=InvoiceSerializer)
    def post(self, request, invoice_id):
        invoice = _scoped_invoice(request, invoice_id)
        serializer = PaymentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        now = utcnow()
        lifecycle.invoice_payment_record(
            invoice_id=invoice.pk,
            amount=data["amount"],
            method=data["method"],
            reference=data["reference"],
            paid_on=data.get("date") or now.date(),
            now=now,
            actor=principal_of(request).actor,
        )
        return Response(_fresh(invoice.pk))


class InvoiceCreditNotesApi(BillingGenericAPIView):
    serializer_class = CreditNoteSerializer
    queryset = CreditNote.objects.none()

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsStaff()]
        return super().get_permissions()

    @extend_schema(responses=CreditNoteSerializer(many=True), operation_id="invoices_credit_notes")
    def get(self, request, invoice_id):
        invoice = _scoped_invoice(request, invoice_id)
        page = self.paginate_queryset(selectors.credit_note_list(invoice_id=invoice.pk))
        return self.get_paginated_response([credit_note_data(note) for note in page])

    @extend_schema(request=CreditNoteCreateSerializer, responses={201: CreditNoteSerializer})
    def post(self, request, invoice_id):
        invoice = _scoped_invoice(request, invoice_id)
        serializer = CreditNoteCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note = credit_notes.credit_note_create(
            invoice_id=invoice.pk,
            lines=[dict(line) for line in serializer.validated_data["lines"]],
            reason=serializer.validated_data["reason"],
            now=utcnow(),
            actor=principal_of(request).actor,
        )
        note = selectors.credit_note_get(credit_note_id=note.pk)
        return Response(credit_note_data(note), status=status.HTTP_201_CREATED)


class CreditNotePdfApi(BillingGenericAPIView):
    serializer_class = CreditNoteSerializer
    queryset = CreditNote.objects.none()

    @extend_schema(
        responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY)},
        operation_id="credit_notes_pdf",
    )
    def get(self, request, credit_note_id):
        note_id = parse_uuid(credit_note_id, not_found=True)
        principal = principal_of(request)
        note = selectors.credit_note_get(
            credit_note_id=note_id, tenant_id=None if principal.is_staff else principal.tenant_id
        )
        if note is None:
            raise NotFound("Credit note not found.")
        response = HttpResponse(
            documents.credit_note_pdf_get(note=note), content_type="application/pdf"
        )
        response["Content-Disposition"] = f'inline; filename="{note.number}.pdf"'
        return response
