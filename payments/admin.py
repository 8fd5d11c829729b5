"""Finance admin for the payment rail: attempts, webhook events (payload viewer, reprocess),
refunds and mirror failures. Everything here is read-only except the reprocess action;
dj-stripe registers (read-only) admins for its own mirror tables."""

import json

from django.contrib import admin, messages
from django.utils.html import format_html

from billing_project.shared.admin import ReadOnlyAdmin
from billing_project.shared.clock import utcnow
from billing_project.shared.money import format_money
from payments.models import MirrorFailure, PaymentAttempt, Refund, WebhookEvent
from payments.services.webhooks import webhook_event_reprocess


@admin.register(PaymentAttempt)
class PaymentAttemptAdmin(ReadOnlyAdmin):
    list_display = (
        "invoice",
        "number",
        "tenant",
        "money",
        "status",
        "decline_code",
        "stripe_payment_intent_id",
        "next_retry_at",
        "created_at",
    )
    list_filter = ("status", "decline_code", "trigger")
    search_fields = (
        "invoice__number",
        "stripe_payment_intent_id",
        "stripe_charge_id",
        "tenant__name",
    )
    list_select_related = ("invoice", "tenant")
    date_hierarchy = "created_at"
    money_fields = {"amount": "currency"}

    @admin.display(description="amount")
    def money(self, obj):
        return format_money(obj.amount, obj.currency)


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ("stripe_id", "type", "status", "attempts", "short_error", "received_at")
    list_filter = ("status", "type")
    search_fields = ("stripe_id", "type")
    date_hierarchy = "received_at"
    actions = ["reprocess"]
    exclude = ("payload",)
    readonly_fields = (
        "stripe_id",
        "type",
        "livemode",
        "status",
        "attempts",
        "result",
        "last_error",
        "next_attempt_at",
        "received_at",
        "processed_at",
        "pretty_payload",
    )

    def has_change_permission(self, request, obj=None):
        # The change page is the viewer; nothing on it is editable (every field is read-only).
        return request.user.is_staff

    @admin.display(description="error")
    def short_error(self, obj):
        return (obj.last_error.strip().splitlines() or [""])[-1][:120]

    @admin.display(description="payload")
    def pretty_payload(self, obj):
        text = json.dumps(obj.payload, indent=2, sort_keys=True, ensure_ascii=False)
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', text)

    @admin.action(description="Reprocess the selected events")
    def reprocess(self, request, queryset):
        outcomes = []
        for event in queryset:
            event = webhook_event_reprocess(event_id=event.pk, now=utcnow())
            outcomes.append(f"{event.stripe_id}: {event.status}")
        self.message_user(request, "; ".join(outcomes), messages.INFO)


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = (
        "invoice",
        "number",
        "money",
        "method",
        "status",
        "stripe_refund_id",
        "credit_note",
        "created_at",
    )
    list_filter = ("status", "method")
    search_fields = ("invoice__number", "stripe_refund_id", "credit_note__number")
    list_select_related = ("invoice", "credit_note")
    money_fields = {"amount": "currency"}

    @admin.display(description="amount")
    def money(self, obj):
        return format_money(obj.amount, obj.currency)


@admin.register(MirrorFailure)
class MirrorFailureAdmin(ReadOnlyAdmin):
    list_display = ("object_type", "stripe_id", "source", "at", "error")
    list_filter = ("object_type", "source")
    search_fields = ("stripe_id",)
