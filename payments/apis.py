"""HTTP for payments: pay an invoice now, refund a paid one, list an invoice's attempts."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from billing_project.shared.api.permissions import IsStaff, IsStaffOrTenantAdmin, principal_of
from billing_project.shared.api.views import BillingGenericAPIView, parse_uuid
from billing_project.shared.clock import utcnow
from billing_project.shared.errors import NotFound
from invoicing import selectors as invoice_selectors
from invoicing.serializers import invoice_data
from payments import selectors
from payments.models import PaymentAttempt, Refund
from payments.serializers import (
    InvoicePaymentSerializer,
    PaymentAttemptSerializer,
    PayRequestSerializer,
    RefundCreateSerializer,
    RefundSerializer,
    attempt_data,
    refund_data,
)
from payments.services import collection, refunds


def _scoped_invoice(request, invoice_id):
    invoice_id = parse_uuid(invoice_id, not_found=True)
    principal = principal_of(request)
    invoice = invoice_selectors.invoice_get(
        invoice_id=invoice_id, tenant_id=None if principal.is_staff else principal.tenant_id
    )
    if invoice is None:
        raise NotFound("Invoice not found.")
    return invoice


def invoice_payment_data(invoice_id) -> dict:
    data = invoice_data(invoice_selectors.invoice_get(invoice_id=invoice_id))
    data["payment_attempts"] = [
        attempt_data(a) for a in selectors.attempt_list(invoice_id=invoice_id)
    ]
    return data


class InvoicePayApi(BillingGenericAPIView):
    """Charge the invoice now with the default card (or `payment_method_id`).

    200 with the invoice and its `payment_attempts` whatever the card said: `paid` when it was
    charged; still `open` with the latest attempt `failed` (decline code and message) when it
    was declined, or `pending` (with `next_retry_at`) when Stripe could not be reached: that
    attempt is retried automatically, never charged twice. 409 for a draft or void invoice,
    `no_payment_method` and `card_payments_disabled`; a paid invoice answers 200 unchanged.
    """

    permission_classes = [IsStaffOrTenantAdmin]
    serializer_class = InvoicePaymentSerializer
    queryset = PaymentAttempt.objects.none()

    @extend_schema(request=PayRequestSerializer, responses=InvoicePaymentSerializer)
    def post(self, request, invoice_id):
        invoice = _scoped_invoice(request, invoice_id)
        serializer = PayRequestSerializer(data=request.data or {})
        serializer.is_valid(raise_exception=True)
        collection.invoice_pay(
            invoice=invoice,
            payment_method_ref=serializer.validated_data.get("payment_method_id") or None,
            now=utcnow(),
        )
        return Response(invoice_payment_data(invoice.pk))


class InvoicePaymentAttemptsApi(BillingGenericAPIView):
    serializer_class = PaymentAttemptSerializer
    queryset = PaymentAttempt.objects.none()

    @extend_schema(
        responses=PaymentAttemptSerializer(many=True), operation_id="invoices_payment_attempts"
    )
    def get(self, request, invoice_id):
        invoice = _scoped_invoice(request, invoice_id)
        page = self.paginate_queryset(selectors.attempt_list(invoice_id=invoice.pk))
        return self.get_paginated_response([attempt_data(a) for a in page])


class InvoiceRefundsApi(BillingGenericAPIView):
    serializer_class = RefundSerializer
    queryset = Refund.objects.none()

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsStaff()]
        return super().get_permissions()

    @extend_schema(responses=RefundSerializer(many=True), operation_id="invoices_refunds_list")
    def get(self, request, invoice_id):
        invoice = _scoped_invoice(request, invoice_id)
        page = self.paginate_queryset(selectors.refund_list(invoice_id=invoice.pk))
        return self.get_paginated_response([refund_data(r) for r in page])

    @extend_schema(request=RefundCreateSerializer, responses={201: RefundSerializer})
    def post(self, request, invoice_id):
        invoice = _scoped_invoice(request, invoice_id)
        serializer = RefundCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        refund = refunds.invoice_refund(
            invoice_id=invoice.pk,
            amount=serializer.validated_data["amount"],
            reason=serializer.validated_data["reason"],
            now=utcnow(),
            actor=principal_of(request).actor,
        )
        refund = Refund.objects.select_related("credit_note").get(pk=refund.pk)
        return Response(refund_data(refund), status=status.HTTP_201_CREATED)
