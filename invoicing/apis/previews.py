"""HTTP for previews: `invoices/upcoming` and `subscriptions/{id}/preview` (nothing stored)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from billing_project.shared.api.permissions import IsAuthenticatedPrincipal, principal_of
from billing_project.shared.api.views import BillingGenericAPIView, tenant_scope
from billing_project.shared.clock import utcnow
from billing_project.shared.errors import ValidationFailed
from invoicing.serializers import InvoiceLineSerializer, InvoiceSerializer
from invoicing.services.previews import invoice_upcoming, subscription_change_preview
from subscriptions import selectors
from subscriptions.apis.subscriptions import subscription_for_request
from subscriptions.models import Subscription
from subscriptions.serializers.subscriptions import SubscriptionUpdateSerializer


class PreviewLineSerializer(InvoiceLineSerializer):
    id = serializers.UUIDField(allow_null=True, help_text="Always null: nothing is stored.")


class PreviewInvoiceSerializer(InvoiceSerializer):
    id = serializers.UUIDField(allow_null=True, help_text="Always null: nothing is stored.")
    number = serializers.CharField(allow_null=True, help_text="Always null.")
    contract_version = serializers.IntegerField(allow_null=True)
    lines = PreviewLineSerializer(many=True)


class UpcomingInvoiceSerializer(serializers.Serializer):
    tenant_id = serializers.UUIDField()
    subscription_id = serializers.UUIDField()
    invoice = PreviewInvoiceSerializer(allow_null=True, help_text="Null when nothing is owed.")


class PlanChangeSerializer(serializers.Serializer):
    kind = serializers.CharField()
    from_plan_id = serializers.UUIDField(allow_null=True)
    to_plan_id = serializers.UUIDField(allow_null=True)
    effective_at = serializers.DateTimeField(allow_null=True)


class PlanChangePreviewSerializer(serializers.Serializer):
    subscription_id = serializers.UUIDField()
    change = PlanChangeSerializer()
    proration_invoice = PreviewInvoiceSerializer(allow_null=True)
    next_invoice = PreviewInvoiceSerializer(allow_null=True)


class PlanChangePreviewRequest(serializers.Serializer):
    plan_id = serializers.CharField(max_length=64, help_text="A plan id or slug.")
    prorate = serializers.BooleanField(required=False, default=True)


class InvoiceUpcomingApi(BillingGenericAPIView):
    permission_classes = [IsAuthenticatedPrincipal]
    serializer_class = UpcomingInvoiceSerializer
    queryset = Subscription.objects.none()

    @extend_schema(
        operation_id="invoices_upcoming",
        parameters=[
            OpenApiParameter("tenant_id", OpenApiTypes.UUID, description="staff: required")
        ],
        responses=UpcomingInvoiceSerializer,
        description=(
            "The tenant's next invoice as the billing cycle would issue it now: the next "
            "period's fee (or contract base price), the usage so far at the plan's or the "
            "contract's prices, discounts and true-ups. Nothing is stored."
        ),
    )
    def get(self, request):
        tenant_id = tenant_scope(request, request.query_params.get("tenant_id"))
        if tenant_id is None:
            raise ValidationFailed(
                "tenant_id is required.", errors={"tenant_id": ["This field is required."]}
            )
        return Response(invoice_upcoming(tenant_id=tenant_id, now=utcnow()))


class SubscriptionPreviewApi(BillingGenericAPIView):
    permission_classes = [IsAuthenticatedPrincipal]
    serializer_class = PlanChangePreviewSerializer
    queryset = Subscription.objects.none()
    request_body_required = ("post",)

    @extend_schema(
        request=PlanChangePreviewRequest,
        responses=PlanChangePreviewSerializer,
        description=(
            "What `PATCH subscriptions/{id}` with `{plan_id, prorate}` would do now: the change, "
            "its proration invoice and the next period invoice after it, with the same refusals "
            "(409 same plan, suspended account, ...). Nothing is stored."
        ),
    )
    def post(self, request, subscription_id):
        sub = subscription_for_request(request, subscription_id)
        serializer = SubscriptionUpdateSerializer(
            data={"plan_id": request.data.get("plan_id"), "prorate": request.data.get("prorate")}
            if isinstance(request.data, dict)
            else {}
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        plan = selectors.plan_by_id_or_slug(data["plan_id"])
        if plan is None:
            raise ValidationFailed(
                f"Unknown plan {data['plan_id']!r}.", errors={"plan_id": ["Unknown plan."]}
            )
        answer = subscription_change_preview(
            subscription=sub,
            plan=plan,
            prorate=data["prorate"],
            now=utcnow(),
            actor=principal_of(request).actor,
        )
        return Response(answer)
