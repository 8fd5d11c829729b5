"""`GET/POST alerts/rules`, `GET alerts/firings` (staff)."""

from decimal import Decimal

from django.core.validators import URLValidator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from analytics.calculations.alerts import PeriodError, parse_period
from analytics.models import AlertAction, AlertComparison, AlertFiring, AlertMetric, AlertRule
from analytics.services.alerts import alert_rule_create
from billing_project.shared.api.fields import StrictCharField
from billing_project.shared.api.permissions import IsStaff
from billing_project.shared.api.views import BillingGenericAPIView, parse_uuid
from billing_project.shared.clock import utcnow
from billing_project.shared.errors import Conflict

# The guide's action names: paging on-call is the signed webhook, the billing team an email.
ACTION_ALIASES = {"page_on_call_engineer": AlertAction.WEBHOOK, "notify_billing_team": "email"}
# Metrics measured against a floor (accuracy) default to "lt", the rates and times to "gt".
DEFAULT_COMPARISON = {AlertMetric.USAGE_ACCURACY: AlertComparison.LT}


class AlertRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = AlertRule
        fields = ["id", "name", "metric", "comparison", "threshold", "period", "action",
                  "target", "enabled", "created_at", "updated_at"]  # fmt: skip


class AlertRuleCreateSerializer(serializers.Serializer):
    metric = serializers.ChoiceField(choices=AlertMetric.choices)
    threshold = serializers.DecimalField(
        max_digits=12, decimal_places=4, min_value=Decimal(0), max_value=Decimal(10**6)
    )
    period = StrictCharField(max_length=8, help_text='"15m", "1h", "1d" (5m to 31d)')
    action = serializers.ChoiceField(
        choices=[*AlertAction.values, *ACTION_ALIASES],
        help_text="email | webhook | log; the guide's page_on_call_engineer (webhook) and "
        "notify_billing_team (email) are accepted.",
    )
    comparison = serializers.ChoiceField(
        choices=AlertComparison.choices, required=False, allow_null=True
    )
    target = StrictCharField(
        max_length=500, required=False, allow_blank=True, allow_null=True,
        help_text="Email address (email) or http(s) URL (webhook); blank: the setting's.",
    )  # fmt: skip
    name = StrictCharField(max_length=200, required=False, allow_blank=True, allow_null=True)
    enabled = serializers.BooleanField(required=False, default=True)

    def validate_period(self, value):
        try:
            parse_period(value)
        except PeriodError as exc:
            raise serializers.ValidationError(str(exc)) from None
        return value

    def validate_action(self, value):
        return str(ACTION_ALIASES.get(value, value))

    def validate(self, attrs):
        if attrs["metric"] != AlertMetric.INVOICE_GENERATION_TIME and attrs["threshold"] > 100:
            raise serializers.ValidationError({"threshold": ["A rate is a percent (0 to 100)."]})
        target = (attrs.get("target") or "").strip()
        action = attrs["action"]
        if target and action == AlertAction.LOG:
            raise serializers.ValidationError({"target": ["A log action takes no target."]})
        if target and action == AlertAction.EMAIL:
            try:
                serializers.EmailField().run_validation(target)
            except serializers.ValidationError:
                raise serializers.ValidationError(
                    {"target": ["Enter a valid email address."]}
                ) from None
        if target and action == AlertAction.WEBHOOK:
            try:
                URLValidator(schemes=["http", "https"])(target)
            except Exception:
                raise serializers.ValidationError(
                    {"target": ["Enter a valid http(s) URL."]}
                ) from None
        attrs["target"] = target
        attrs["comparison"] = attrs.get("comparison") or DEFAULT_COMPARISON.get(
            attrs["metric"], AlertComparison.GT
        )
        attrs["name"] = (attrs.get("name") or "").strip() or (
            f"{attrs['metric']} {attrs['comparison']} {attrs['threshold'].normalize()} "
            f"over {attrs['period']}"
        )
        return attrs


class AlertFiringSerializer(serializers.ModelSerializer):
    rule_id = serializers.UUIDField(read_only=True)
    rule_name = serializers.CharField(source="rule.name", read_only=True)
    metric = serializers.CharField(source="rule.metric", read_only=True)

    class Meta:
        model = AlertFiring
        fields = ["id", "rule_id", "rule_name", "metric", "period_start", "period_end",
                  "window_start", "window_end", "value", "threshold", "fired_at",
                  "delivered_at", "attempts", "last_error"]  # fmt: skip


class AlertRuleListCreateApi(BillingGenericAPIView):
    permission_classes = [IsStaff]
    serializer_class = AlertRuleSerializer
    queryset = AlertRule.objects.none()
    request_body_required = ("post",)

    @extend_schema(operation_id="alert_rules_list", responses=AlertRuleSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(AlertRule.objects.order_by("name", "id"))
        return self.get_paginated_response(AlertRuleSerializer(page, many=True).data)

    @extend_schema(
        request=AlertRuleCreateSerializer,
        responses={201: AlertRuleSerializer},
        description="Staff. The guide's `{metric, threshold, period, action}` plus "
        "`comparison`, `target`, `name`, `enabled`; a taken name is 409 `alert_rule_exists`.",
    )
    def post(self, request):
        serializer = AlertRuleCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if AlertRule.objects.filter(name=data["name"]).exists():
            raise Conflict("An alert rule with this name exists.", code="alert_rule_exists")
        rule = alert_rule_create(**data, now=utcnow())
        return Response(AlertRuleSerializer(rule).data, status=status.HTTP_201_CREATED)


class AlertFiringListApi(BillingGenericAPIView):
    permission_classes = [IsStaff]
    serializer_class = AlertFiringSerializer
    queryset = AlertFiring.objects.none()

    @extend_schema(
        operation_id="alert_firings_list",
        responses=AlertFiringSerializer(many=True),
        parameters=[OpenApiParameter("rule_id", OpenApiTypes.UUID, required=False)],
    )
    def get(self, request):
        firings = AlertFiring.objects.select_related("rule").order_by("-fired_at", "id")
        rule_id = request.query_params.get("rule_id")
        if rule_id:
            firings = firings.filter(rule_id=parse_uuid(rule_id, field="rule_id"))
        page = self.paginate_queryset(firings)
        return self.get_paginated_response(AlertFiringSerializer(page, many=True).data)
