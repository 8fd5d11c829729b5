"""HTTP for `coupons` (staff)."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from billing_project.shared.api.permissions import IsStaff
from billing_project.shared.api.views import BillingGenericAPIView
from billing_project.shared.clock import utcnow
from subscriptions import selectors
from subscriptions.models import Coupon
from subscriptions.serializers.coupons import (
    COUPON_CREATE_REQUEST,
    CouponCreateSerializer,
    CouponSerializer,
)
from subscriptions.services import coupons


class CouponListCreateApi(BillingGenericAPIView):
    permission_classes = [IsStaff]
    serializer_class = CouponSerializer
    queryset = Coupon.objects.none()
    request_body_required = ("post",)

    @extend_schema(operation_id="coupons_list", responses=CouponSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(selectors.coupon_list())
        return self.get_paginated_response(CouponSerializer(page, many=True).data)

    @extend_schema(
        request=COUPON_CREATE_REQUEST,
        responses={201: CouponSerializer},
        description="Staff. `expires_at` is in the future; a taken code is 409 `coupon_exists`.",
    )
    def post(self, request):
        serializer = CouponCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        coupon = coupons.coupon_create(**serializer.validated_data, now=utcnow())
        return Response(CouponSerializer(coupon).data, status=status.HTTP_201_CREATED)
