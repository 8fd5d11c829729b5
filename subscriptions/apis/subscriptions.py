"""HTTP for reactivating subscriptions. Creating, listing, reading and changing subscriptions
is served by `invoicing.apis.subscriptions` (they bill as they act)."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from billing_project.shared.api.permissions import ReadAnyWriteAdmin, principal_of
from billing_project.shared.api.views import BillingGenericAPIView, parse_uuid
from billing_project.shared.clock import utcnow
from billing_project.shared.errors import NotFound
from subscriptions import selectors
from subscriptions.models import Subscription
from subscriptions.serializers.subscriptions import SubscriptionSerializer
from subscriptions.services import subscriptions as services


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
