"""HTTP for reactivating subscriptions and for coupons. Creating, listing, reading and
changing subscriptions is served by `invoicing.apis.subscriptions` (they bill as they act)."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from billing_project.shared.api.permissions import IsStaff, ReadAnyWriteAdmin, principal_of
from billing_project.shared.api.views import BillingGenericAPIView, parse_uuid
from billing_project.shared.clock import utcnow
from billing_project.shared.errors import NotFound
from subscriptions import selectors
from subscriptions.models import Coupon, Subscription
from subscriptions.services import coupons as coupon_services
from subscriptions.services import subscriptions as services
from subscriptions.subscription_serializers import (
    CouponCreateSerializer,
    CouponSerializer,
    SubscriptionSerializer,
)


def subscription_for_request(request, subscription_id) -> Subscription:
    subscription_id = parse_uuid(subscription_id, not_found=True)
    principal = principal_of(request)
    tenant_id = None if principal.is_staff else principal.tenant_id
    sub = selectors.subscription_get(subscription_id=subscription_id, tenant_id=tenant_id)
    if sub is None:
        raise NotFound("Subscription not found.")
    return sub


class SubscriptionReactivateApi(BillingGenericAPIView):
    permission_classes = [ReadAnyWriteAdmin]
    serializer_class = SubscriptionSerializer
    queryset = Subscription.objects.none()

    @extend_schema(request=None, responses=SubscriptionSerializer)
    def post(self, request, subscription_id):
        sub = subscription_for_request(request, subscription_id)
        sub = services.subscription_reactivate(
            subscription=sub, now=utcnow(), actor=principal_of(request).actor
        )
        sub = selectors.subscription_get(subscription_id=sub.pk)
        return Response(SubscriptionSerializer(sub).data)


class CouponListCreateApi(BillingGenericAPIView):
    permission_classes = [IsStaff]
    serializer_class = CouponSerializer
    queryset = Coupon.objects.none()

    @extend_schema(operation_id="coupons_list", responses=CouponSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(Coupon.objects.order_by("-created_at", "id"))
        return self.get_paginated_response(CouponSerializer(page, many=True).data)

    @extend_schema(request=CouponCreateSerializer, responses={201: CouponSerializer})
    def post(self, request):
        serializer = CouponCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        coupon = coupon_services.coupon_create(**serializer.validated_data, now=utcnow())
        return Response(CouponSerializer(coupon).data, status=status.HTTP_201_CREATED)
