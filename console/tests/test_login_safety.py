"""Login throttling (django-axes) and 2FA for staff (django-otp TOTP)."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import BillingClient

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"


def login(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password})


def totp_now(device) -> str:
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits).token():06d}"


def test_five_bad_passwords_lock_the_login_for_that_username(token_for):
    user = get_user_model().objects.create_superuser("finance", "f@example.com", "right-pw")
    token = token_for("staff", username="finance")
    client = Client()
    for _ in range(5):
        response = login(client, "finance", "wrong")
        assert response.status_code in (200, 429)
    locked = login(client, "finance", "right-pw")
    assert locked.status_code == 429 and b"Account locked" in locked.content
    assert "_auth_user_id" not in client.session
    # Another username from the same address is not locked.
    get_user_model().objects.create_superuser("other", "o@example.com", "pw2")
    assert login(Client(), "other", "pw2").status_code == 302
    # The JSON API's bearer tokens never pass through the login: unaffected.
    assert BillingClient(token).get("invoices").status_code == 200
    assert user.is_active


def test_a_good_login_resets_the_count():
    get_user_model().objects.create_superuser("finance", "f@example.com", "right-pw")
    client = Client()
    for _ in range(4):
        login(client, "finance", "wrong")
    assert login(client, "finance", "right-pw").status_code == 302
    client.post("/admin/logout/")
    for _ in range(4):
        login(client, "finance", "wrong")
    assert login(client, "finance", "right-pw").status_code == 302


def test_login_attempts_are_shown_read_only(superuser_web):
    login(Client(), "nobody", "wrong")
    page = superuser_web.get("/admin/axes/accessattempt/")
    assert page.status_code == 200 and b"nobody" in page.content
    assert superuser_web.get("/admin/axes/accessattempt/add/").status_code == 403


def test_staff_without_a_device_sign_in_with_the_password_only():
    get_user_model().objects.create_superuser("boss", "b@example.com", "pw")
    client = Client()
    assert login(client, "boss", "pw").status_code == 302
    assert client.get("/admin/").status_code == 200


def test_staff_with_a_device_must_enter_the_code():
    user = get_user_model().objects.create_superuser("boss", "b@example.com", "pw")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client = Client()
    assert login(client, "boss", "pw").status_code == 302
    page = client.get("/admin/invoicing/invoice/")
    assert page.status_code == 302
    assert page["Location"].startswith("/admin/otp/verify/?next=/admin/invoicing/invoice/")
    assert client.get(page["Location"]).status_code == 200
    wrong = client.post("/admin/otp/verify/", {"otp_token": "000000", "next": "/admin/"})
    if totp_now(device) != "000000":
        assert wrong.status_code == 200 and b"not valid" in wrong.content
    device.refresh_from_db()
    device.throttle_reset()
    ok = client.post(
        "/admin/otp/verify/", {"otp_token": totp_now(device), "next": "/admin/invoicing/invoice/"}
    )
    assert ok.status_code == 302 and ok["Location"] == "/admin/invoicing/invoice/"
    assert client.get("/admin/invoicing/invoice/").status_code == 200


def test_the_code_page_refuses_an_outside_next():
    user = get_user_model().objects.create_superuser("boss", "b@example.com", "pw")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client = Client()
    login(client, "boss", "pw")
    ok = client.post(
        "/admin/otp/verify/", {"otp_token": totp_now(device), "next": "https://evil.example/"}
    )
    assert ok.status_code == 302 and ok["Location"] == "/admin/"


def test_enrol_a_device_then_the_next_login_asks_for_a_code(role_user):
    user = role_user("auditor", password="pw-auditor")
    client = Client()
    assert login(client, user.username, "pw-auditor").status_code == 302
    page = client.get("/admin/otp/enrol/")
    assert page.status_code == 200
    uri, secret = page.context["otpauth_uri"], page.context["secret"]
    assert uri.startswith("otpauth://totp/LeanVibe%20Billing%3Aauditor?secret=" + secret)
    device = TOTPDevice.objects.get(user=user)
    assert not device.confirmed
    bad = client.post("/admin/otp/enrol/", {"otp_token": "12"})
    assert bad.status_code == 200 and not TOTPDevice.objects.get(pk=device.pk).confirmed
    device.refresh_from_db()
    device.throttle_reset()
    done = client.post("/admin/otp/enrol/", {"otp_token": totp_now(device)})
    assert done.status_code == 302
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    assert client.get("/admin/").status_code == 200  # this session is verified
    assert b"is on" in client.get("/admin/otp/enrol/").content
    fresh = Client()
    login(fresh, user.username, "pw-auditor")
    assert fresh.get("/admin/")["Location"].startswith("/admin/otp/verify/")
