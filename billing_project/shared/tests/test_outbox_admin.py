import pytest
from django.contrib.auth import get_user_model

from billing_project.shared.clock import utcnow
from billing_project.shared.models import OutboxMessage

pytestmark = pytest.mark.django_db


def test_admin_lists_what_the_outbox_holds(client):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(user)
    now = utcnow()
    OutboxMessage.objects.create(
        task="invoicing.deliver_invoice", kwargs={}, created_at=now, due_at=now, last_error="down"
    )
    response = client.get("/admin/shared/outboxmessage/")
    assert response.status_code == 200 and b"invoicing.deliver_invoice" in response.content
    assert client.get("/admin/shared/outboxmessage/add/").status_code == 403
