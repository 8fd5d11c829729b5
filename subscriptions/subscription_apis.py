"""HTTP for subscriptions."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from billing_project.shared.api.permissions import ReadAnyWriteAdmin, principal_of
from billing_project.shared.api.views import BillingGenericAPIView, parse_uuid, tenant_scope
from billing_project.shared.clock import utcnow
from billing_project.shared.errors import NotFound, ValidationFailed
from subscriptions import selectors
from subscriptions.models import Subscription
from subscriptions.models.subscriptions import SubscriptionStatus
from subscriptions.services import coupons as coupon_services
from subscriptions.services import subscriptions as services
from subscriptions.services.tenants import tenant_get
from subscriptions.subscription_serializers import (
    SubscriptionChangeResultSerializer,
    SubscriptionCreateSerializer,
    SubscriptionSerializer,
    SubscriptionUpdateSerializer,
)


def plan_or_400(value):
    plan = selectors.plan_by_id_or_slug(value)
    if plan is None:
        raise ValidationFailed(f"Unknown plan {value!r}.", errors={"plan_id": ["Unknown plan."]})
    return plan


def subscription_for_request(request, subscription_id) -> Subscription:
    subscription_id = parse_uuid(subscription_id, not_found=True)
    principal = principal_of(request)
    tenant_id = None if principal.is_staff else principal.tenant_id
    sub = selectors.subscription_get(subscription_id=subscription_id, tenant_id=tenant_id)
    if sub is None:
        raise NotFound("Subscription not found.")
    return sub


def attach_payment_method(*, tenant, payment_method_id: str, now) -> None:
    """`payment_method_id` is our id or a Stripe pm_... id; either becomes the default."""
    from subscriptions.services import payment_methods

    if payment_method_id.startswith("pm_"):
        payment_methods.payment_method_attach_for_tenant(
            tenant=tenant, stripe_payment_method_id=payment_method_id, make_default=True, now=now
        )
        return
    method_id = parse_uuid(payment_method_id, field="payment_method_id")
    method = tenant.payment_methods.filter(pk=method_id).first()
    if method is None:
        raise NotFound("Payment method not found.")
    payment_methods.payment_method_set_default(payment_method=method, now=now)


class SubscriptionListCreateApi(BillingGenericAPIView):
    permission_classes = [ReadAnyWriteAdmin]
    serializer_class = SubscriptionSerializer
    queryset = Subscription.objects.none()

    @extend_schema(
        operation_id="subscriptions_list",
        parameters=[
            OpenApiParameter("tenant_id", str, description="staff only"),
            OpenApiParameter("status", str, enum=SubscriptionStatus.values),
        ],
        responses=SubscriptionSerializer(many=True),
    )
    def get(self, request):
        tenant_id = tenant_scope(request, request.query_params.get("tenant_id"))
        wanted = request.query_params.get("status") or None
        if wanted and wanted not in SubscriptionStatus.values:
            raise ValidationFailed("Unknown status.", errors={"status": ["Unknown status."]})
        page = self.paginate_queryset(
            selectors.subscription_list(tenant_id=tenant_id, status=wanted)
        )
        return self.get_paginated_response(SubscriptionSerializer(page, many=True).data)

    @extend_schema(request=SubscriptionCreateSerializer, responses={201: SubscriptionSerializer})
    def post(self, request):
        serializer = SubscriptionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        principal = principal_of(request)
        tenant_id = tenant_scope(request, data.get("tenant_id"))
        if tenant_id is None:
            raise ValidationFailed(
                "tenant_id is required.", errors={"tenant_id": ["This field is required."]}
            )
        tenant = tenant_get(tenant_id=tenant_id)
        plan = plan_or_400(data["plan_id"])
        now = utcnow()
        if selectors.subscription_live_for_tenant(tenant_id=tenant.pk) is not None:
            from billing_project.shared.errors import Conflict

            raise Conflict(
                "The tenant already has a live subscription.", code="subscription_exists"
            )
        if data.get("payment_method_id"):
            # Everything that can refuse the request is checked before the card is attached
            # at Stripe, which no rollback can undo.
            if data.get("coupon_code"):
                coupon_services.coupon_check(
                    code=data["coupon_code"], now=now, currency=plan.currency
                )
            services.subscription_create_check(
                tenant=tenant, plan=plan, trial_period_days=data.get("trial_period_days")
            )
            attach_payment_method(
                tenant=tenant, payment_method_id=data["payment_method_id"], now=now
            )
        sub = self.start_subscription(
            tenant=tenant,
            plan=plan,
            now=now,
            actor=principal.actor,
            trial_period_days=data.get("trial_period_days"),
            coupon_code=data.get("coupon_code") or None,
        )
        sub = selectors.subscription_get(subscription_id=sub.pk)
        return Response(SubscriptionSerializer(sub).data, status=status.HTTP_201_CREATED)

    def start_subscription(self, **kwargs) -> Subscription:
        """Invoicing overrides this to bill the first period in the same request."""
        return services.subscription_create(**kwargs)


class SubscriptionDetailApi(BillingGenericAPIView):
    permission_classes = [ReadAnyWriteAdmin]
    serializer_class = SubscriptionSerializer
    queryset = Subscription.objects.none()

    @extend_schema(responses=SubscriptionSerializer)
    def get(self, request, subscription_id):
        return Response(
            SubscriptionSerializer(subscription_for_request(request, subscription_id)).data
        )

    @extend_schema(
        request=SubscriptionUpdateSerializer, responses=SubscriptionChangeResultSerializer
    )
    def patch(self, request, subscription_id):
        sub = subscription_for_request(request, subscription_id)
        serializer = SubscriptionUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        actor = principal_of(request).actor
        now = utcnow()
        change = None
        if "plan_id" in data:
            sub, change = self.change_plan(
                subscription=sub,
                plan=plan_or_400(data["plan_id"]),
                prorate=data["prorate"],
                now=now,
                actor=actor,
            )
        elif data["cancel_at_period_end"]:
            sub = services.subscription_cancel(
                subscription=sub,
                reason=data.get("cancellation_reason") or "",
                now=now,
                actor=actor,
            )
        else:
            sub = services.subscription_reactivate(subscription=sub, now=now, actor=actor)
        sub = selectors.subscription_get(subscription_id=sub.pk)
        return Response(SubscriptionChangeResultSerializer(sub, context={"change": change}).data)

    def change_plan(self, **kwargs):
        """Invoicing overrides this to bill an upgrade's proration in the same request."""
        return services.subscription_change_plan(**kwargs)


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
