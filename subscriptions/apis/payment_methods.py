"""HTTP for `payment-methods`: cards attached to the tenant's Stripe customer (tenant_admin, staff).

With no Stripe key configured (manual collection) the list answers normally (it is empty: no
card can be attached) and the writes answer 409 `card_payments_disabled`, after an unknown id's
404.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from billing_project.shared.api.permissions import IsStaffOrTenantAdmin
from billing_project.shared.api.views import BillingGenericAPIView, parse_uuid, tenant_scope
from billing_project.shared.clock import utcnow
from billing_project.shared.errors import NotFound, ValidationFailed
from subscriptions import selectors
from subscriptions.models import PaymentMethod
from subscriptions.serializers.payment_methods import (
    PaymentMethodCreateSerializer,
    PaymentMethodSerializer,
)
from subscriptions.services import payment_methods, tenants

TENANT_ID_PARAM = OpenApiParameter(
    "tenant_id", OpenApiTypes.UUID, required=False, description="Staff: one tenant's methods."
)


class _PaymentMethodApi(BillingGenericAPIView):
    permission_classes = [IsStaffOrTenantAdmin]
    serializer_class = PaymentMethodSerializer
    queryset = PaymentMethod.objects.none()

    def _payment_method(self, request, payment_method_id) -> PaymentMethod:
        payment_method_id = parse_uuid(payment_method_id, not_found=True)
        payment_method = selectors.payment_method_get(
            payment_method_id=payment_method_id, tenant_id=tenant_scope(request)
        )
        if payment_method is None:
            raise NotFound("Payment method not found.")
        return payment_method


class PaymentMethodListCreateApi(_PaymentMethodApi):
    @extend_schema(
        parameters=[TENANT_ID_PARAM],
        responses=PaymentMethodSerializer(many=True),
        operation_id="payment_methods_list",
    )
    def get(self, request):
        tenant_id = tenant_scope(request, request.query_params.get("tenant_id"))
        page = self.paginate_queryset(selectors.payment_method_list(tenant_id=tenant_id))
        return self.get_paginated_response(PaymentMethodSerializer(page, many=True).data)

    @extend_schema(
        request=PaymentMethodCreateSerializer,
        responses={201: PaymentMethodSerializer},
        operation_id="payment_methods_create",
    )
    def post(self, request):
        payment_methods.card_payments_require()
        serializer = PaymentMethodCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tenant_id = tenant_scope(request, serializer.validated_data.get("tenant_id"))
        if tenant_id is None:
            raise ValidationFailed(
                "tenant_id is required for staff.",
                errors={"tenant_id": ["This field is required."]},
            )
        payment_method = payment_methods.payment_method_create(
            tenant=tenants.tenant_get(tenant_id=tenant_id),
            stripe_payment_method_id=serializer.validated_data["stripe_payment_method_id"],
            now=utcnow(),
        )
        data = PaymentMethodSerializer(payment_method).data
        return Response(data, status=status.HTTP_201_CREATED)


class PaymentMethodDetailApi(_PaymentMethodApi):
    @extend_schema(request=None, responses={204: None}, operation_id="payment_methods_delete")
    def delete(self, request, payment_method_id):
        payment_method = self._payment_method(request, payment_method_id)
        payment_methods.card_payments_require()
        payment_methods.payment_method_delete(payment_method=payment_method, now=utcnow())
        return Response(status=status.HTTP_204_NO_CONTENT)


class PaymentMethodDefaultApi(_PaymentMethodApi):
    @extend_schema(
        request=None,
        responses=PaymentMethodSerializer,
        operation_id="payment_methods_set_default",
    )
    def patch(self, request, payment_method_id):
        payment_method = self._payment_method(request, payment_method_id)
        payment_methods.card_payments_require()
        payment_method = payment_methods.payment_method_set_default(
            payment_method=payment_method, now=utcnow()
        )
        return Response(PaymentMethodSerializer(payment_method).data)
