"""Dunning JSON: plain functions build it; the serializer classes describe it (OpenAPI) and
validate input."""

from rest_framework import serializers

from billing_project.shared.api.fields import StrictCharField
from dunning import policy as pure
from dunning.models import CaseStage, CaseStatus
from dunning.selectors import case_state, policy_terms
from invoicing.serializers import iso
from subscriptions.models.tenants import ServiceLevel, TenantStatus
from subscriptions.serializers.tenants import TenantSerializer


def _step_rows(case) -> list[dict]:
    terms = policy_terms(case.policy)
    events = {e.day: e for e in case.events.all() if e.kind == "step"}
    state = case_state(case, done_days=events.keys())
    rows = []
    for step in terms.steps:
        event = events.get(step.day)
        if event is not None:
            status = "done" if event.done else "in_progress"
        elif case.status in ("open", "paused"):
            status = "scheduled"
        else:
            status = "not_needed"
        rows.append(
            {
                "day": step.day,
                "actions": list(step.actions),
                "due_at": iso(pure.day_start(state, step.day)),
                "status": status,
                "executed_at": iso(event.at) if event else None,
                "outcome": event.outcome or None if event else None,
                "notice": event.notice or None if event else None,
                "notice_status": event.notice_status or None if event else None,
                "attempt_id": str(event.attempt_id) if event and event.attempt_id else None,
            }
        )
    return rows


def event_data(event) -> dict:
    return {
        "key": event.key,
        "kind": event.kind,
        "day": event.day,
        "actions": event.actions,
        "outcome": event.outcome or None,
        "notice": event.notice or None,
        "notice_subject": event.notice_subject or None,
        "notice_status": event.notice_status or None,
        "attempt_id": str(event.attempt_id) if event.attempt_id else None,
        "actor": event.actor or None,
        "at": iso(event.at),
    }


def case_data(case) -> dict:
    invoice = case.invoice
    return {
        "id": str(case.id),
        "tenant_id": str(case.tenant_id),
        "invoice_id": str(case.invoice_id),
        "invoice_number": invoice.number,
        "amount_due": invoice.amount_due,
        "currency": invoice.currency,
        "status": case.status,
        "stage": case.stage,
        "policy_id": str(case.policy_id),
        "opened_at": iso(case.opened_at),
        "next_action_at": iso(case.next_action_at),
        "paused_at": iso(case.paused_at),
        "suspended_at": iso(case.suspended_at),
        "cancelled_at": iso(case.cancelled_at),
        "closed_at": iso(case.closed_at),
        "closed_reason": case.closed_reason or None,
        "last_decline_code": case.last_decline_code or None,
        "retry_skipped_reason": case.retry_skipped_reason or None,
        "steps": _step_rows(case),
        "events": [event_data(e) for e in case.events.all()],
    }


def summary_data(summary: dict) -> dict:
    return {
        **summary,
        "oldest_opened_at": iso(summary["oldest_opened_at"]),
        "next_action_at": iso(summary["next_action_at"]),
    }


class CaseStepSerializer(serializers.Serializer):
    day = serializers.IntegerField()
    actions = serializers.ListField(child=StrictCharField())
    due_at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=["done", "in_progress", "scheduled", "not_needed"])
    executed_at = serializers.DateTimeField(allow_null=True)
    outcome = StrictCharField(allow_null=True)
    notice = StrictCharField(allow_null=True)
    notice_status = StrictCharField(allow_null=True)
    attempt_id = serializers.UUIDField(allow_null=True)


class CaseEventSerializer(serializers.Serializer):
    key = StrictCharField()
    kind = StrictCharField()
    day = serializers.IntegerField(allow_null=True)
    actions = serializers.ListField(child=StrictCharField())
    outcome = StrictCharField(allow_null=True)
    notice = StrictCharField(allow_null=True)
    notice_subject = StrictCharField(allow_null=True)
    notice_status = StrictCharField(allow_null=True)
    attempt_id = serializers.UUIDField(allow_null=True)
    actor = StrictCharField(allow_null=True)
    at = serializers.DateTimeField()


class DunningCaseSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    tenant_id = serializers.UUIDField()
    invoice_id = serializers.UUIDField()
    invoice_number = StrictCharField(allow_null=True)
    amount_due = serializers.IntegerField()
    currency = StrictCharField()
    status = serializers.ChoiceField(choices=CaseStatus.choices)
    stage = serializers.ChoiceField(choices=CaseStage.choices)
    policy_id = serializers.UUIDField()
    opened_at = serializers.DateTimeField()
    next_action_at = serializers.DateTimeField(allow_null=True)
    paused_at = serializers.DateTimeField(allow_null=True)
    suspended_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    closed_reason = StrictCharField(allow_null=True)
    last_decline_code = StrictCharField(allow_null=True)
    retry_skipped_reason = StrictCharField(allow_null=True)
    steps = CaseStepSerializer(many=True)
    events = CaseEventSerializer(many=True)


class RetryConfigSerializer(serializers.Serializer):
    """The guide's RETRY_CONFIG (validated by `dunning.policy.policy_from_config`)."""

    max_attempts = serializers.IntegerField(min_value=0, max_value=pure.MAX_DAY)
    retry_schedule = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=pure.MAX_DAY)
    )
    grace_period_days = serializers.IntegerField(min_value=0, max_value=pure.MAX_DAY)
    auto_suspend_after_days = serializers.IntegerField(
        min_value=1, max_value=pure.MAX_DAY, allow_null=True
    )
    auto_cancel_after_days = serializers.IntegerField(
        min_value=1, max_value=pure.MAX_DAY, allow_null=True
    )


class PolicyStepSerializer(serializers.Serializer):
    day = serializers.IntegerField()
    actions = serializers.ListField(child=StrictCharField())


class PolicyResponseSerializer(RetryConfigSerializer):
    id = serializers.UUIDField()
    name = StrictCharField()
    steps = PolicyStepSerializer(many=True)


def policy_data(policy) -> dict:
    terms = policy_terms(policy)
    return {
        **pure.config_of(terms),
        "id": str(policy.id),
        "name": policy.name,
        "steps": [{"day": s.day, "actions": list(s.actions)} for s in terms.steps],
    }


class DunningSummarySerializer(serializers.Serializer):
    open_cases = serializers.IntegerField()
    amount_due = serializers.DictField(child=serializers.IntegerField())
    stage = serializers.ChoiceField(choices=CaseStage.choices, allow_null=True)
    oldest_opened_at = serializers.DateTimeField(allow_null=True)
    next_action_at = serializers.DateTimeField(allow_null=True)
    case_ids = serializers.ListField(child=serializers.UUIDField())


class TenantWithDunningSerializer(TenantSerializer):
    """`GET tenants/{id}`: the tenant and its open-dunning summary (described for OpenAPI)."""

    dunning = DunningSummarySerializer(read_only=True)

    class Meta(TenantSerializer.Meta):
        fields = [*TenantSerializer.Meta.fields, "dunning"]
        read_only_fields = fields


class EntitlementSubscriptionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    plan = StrictCharField()
    status = StrictCharField()


class EntitlementsSerializer(serializers.Serializer):
    tenant_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=TenantStatus.choices)
    service_level = serializers.ChoiceField(choices=ServiceLevel.choices)
    subscription = EntitlementSubscriptionSerializer(allow_null=True)
    can_change_plan = serializers.BooleanField()
    can_subscribe = serializers.BooleanField()
    can_record_usage = serializers.BooleanField()
    can_pay = serializers.BooleanField()
    dunning = DunningSummarySerializer()
