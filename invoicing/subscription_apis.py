"""`POST subscriptions` and `PATCH subscriptions/{id}` bill as they act (a use case of
invoicing): the first period's fee at once, an upgrade's proration at once. Reads are the
subscriptions app's views; the responses keep its shapes."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from billing_project.shared.api.permissions import principal_of
from billing_project.shared.api.views import tenant_scope
from billing_project.shared.clock import utcnow
from billing_project.shared.errors import Conflict, ValidationFailed
from invoicing.services.use_cases import (
    subscription_change_plan_and_invoice,
    subscription_start_and_invoice,
)
from subscriptions import selectors
from subscriptions import subscription_apis as base
from subscriptions.services import subscriptions as subscription_services
from subscriptions.services.tenants import tenant_get
from subscriptions.subscription_serializers import (
    SubscriptionChangeResultSerializer,
    SubscriptionCreateSerializer,
    SubscriptionSerializer,
    SubscriptionUpdateSerializer,
)


class SubscriptionListCreateApi(base.SubscriptionListCreateApi):
    @extend_schema(request=SubscriptionCreateSerializer, responses={201: SubscriptionSerializer})
    def post(self, request):
        serializer = SubscriptionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        tenant_id = tenant_scope(request, data.get("tenant_id"))
        if tenant_id is None:
            raise ValidationFailed(
                "tenant_id is required.", errors={"tenant_id": ["This field is required."]}
            )
        tenant = tenant_get(tenant_id=tenant_id)
        plan = base.plan_or_400(data["plan_id"])
        now = utcnow()
        if selectors.subscription_live_for_tenant(tenant_id=tenant.pk) is not None:
            raise Conflict(
                "The tenant already has a live subscription.", code="subscription_exists"
            )
        if data.get("payment_method_id"):
            base.attach_payment_method(
                tenant=tenant, payment_method_id=data["payment_method_id"], now=now
            )
        sub, _invoice = subscription_start_and_invoice(
            tenant=tenant,
            plan=plan,
            now=now,
            actor=principal_of(request).actor,
            trial_period_days=data.get("trial_period_days"),
            coupon_code=data.get("coupon_code") or None,
        )
        sub = selectors.subscription_get(subscription_id=sub.pk)
        return Response(SubscriptionSerializer(sub).data, status=status.HTTP_201_CREATED)


class SubscriptionDetailApi(base.SubscriptionDetailApi):
    @extend_schema(
        request=SubscriptionUpdateSerializer, responses=SubscriptionChangeResultSerializer
    )
    def patch(self, request, subscription_id):
        sub = base.subscription_for_request(request, subscription_id)
        serializer = SubscriptionUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        actor = principal_of(request).actor
        now = utcnow()
        change = None
        if "plan_id" in data:
            sub, change, _invoice = subscription_change_plan_and_invoice(
                subscription=sub,
                plan=base.plan_or_400(data["plan_id"]),
                prorate=data["prorate"],
                now=now,
                actor=actor,
            )
        elif data["cancel_at_period_end"]:
            sub = subscription_services.subscription_cancel(
                subscription=sub,
                reason=data.get("cancellation_reason") or "",
                now=now,
                actor=actor,
            )
        else:
            sub = subscription_services.subscription_reactivate(
                subscription=sub, now=now, actor=actor
            )
        sub = selectors.subscription_get(subscription_id=sub.pk)
        return Response(SubscriptionChangeResultSerializer(sub, context={"change": change}).data)
