"""2FA for staff (django-otp, TOTP): the second login step and self-service enrolment.

A staff user with a confirmed TOTP device signs in with the password and is then asked for the
6-digit code before any admin page opens (`StaffOTPMiddleware`); a user without a device signs
in with the password only. `/admin/otp/enrol/` lets a signed-in staff user add a device: it shows
the otpauth:// URI and its secret (and a QR code when the `qrcode` package is installed) and turns
the device on once a code from the authenticator app is entered.
"""

from base64 import b32encode
from urllib.parse import quote

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

OTP_PREFIX = "/admin/otp/"
# Admin pages open to a signed-in user who has not entered the code yet.
UNVERIFIED_PATHS = ("/admin/login/", "/admin/logout/", "/admin/jsi18n/", OTP_PREFIX + "verify/")
ENROL_DEVICE_NAME = "authenticator"


def needs_otp(user) -> bool:
    return bool(
        user.is_authenticated
        and user.is_staff
        and not user.is_verified()
        and user_has_device(user, confirmed=True)
    )


class StaffOTPMiddleware:
    """After django_otp's OTPMiddleware: an admin request of a staff user who has a confirmed
    device but has not entered a code in this session goes to the code page first."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path
        admin_page = path.startswith("/admin/") and not path.startswith(UNVERIFIED_PATHS)
        if admin_page and needs_otp(request.user):
            target = reverse("otp_verify")
            return HttpResponseRedirect(f"{target}?next={quote(request.get_full_path())}")
        return self.get_response(request)


class TokenForm(forms.Form):
    otp_token = forms.CharField(
        label="Code from your authenticator app",
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or reverse("admin:index")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return reverse("admin:index")
    return target


def _page(request, template: str, context: dict, *, full: bool):
    base = (
        admin.site.each_context(request)
        if full
        else {
            "site_header": admin.site.site_header,
            "site_title": admin.site.site_title,
            "has_permission": False,
        }
    )
    return render(request, template, {**base, **context})


@staff_member_required
def otp_verify_view(request):
    """The second login step: the code of one of the user's confirmed devices."""
    if not needs_otp(request.user):
        return HttpResponseRedirect(_next_url(request))
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["otp_token"].strip())
        if device is not None:
            otp_login(request, device)
            return HttpResponseRedirect(_next_url(request))
        form.add_error("otp_token", "That code is not valid (or too many tries: wait a minute).")
    context = {"title": "Two-factor authentication", "form": form, "next": _next_url(request)}
    return _page(request, "admin/otp/verify.html", context, full=False)


def _qr_svg(uri: str) -> str:
    try:
        import qrcode
        import qrcode.image.svg
    except ImportError:
        return ""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage)
    return image.to_string(encoding="unicode")


@staff_member_required
def otp_enrol_view(request):
    """Add a TOTP device for the signed-in staff user (one confirmed device per user here;
    a superuser removes a lost one in the admin's TOTP devices page)."""
    user = request.user
    if user_has_device(user, confirmed=True):
        context = {"title": "Two-factor authentication", "enrolled": True}
        return _page(request, "admin/otp/enrol.html", context, full=True)
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by(
        "pk"
    ).first() or TOTPDevice.objects.create(user=user, name=ENROL_DEVICE_NAME, confirmed=False)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["otp_token"].strip()):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
            otp_login(request, device)
            messages.success(request, "Two-factor authentication is on for your account.")
            return HttpResponseRedirect(reverse("admin:index"))
        form.add_error("otp_token", "That code is not valid: check the time on your phone.")
    uri = device.config_url
    qr = _qr_svg(uri)
    context = {
        "title": "Two-factor authentication",
        "form": form,
        "otpauth_uri": uri,
        "secret": b32encode(device.bin_key).decode(),
        "qr_svg": mark_safe(qr) if qr else "",  # noqa: S308 (made here from our own URI)
        "uri_link": format_html('<a href="{}">{}</a>', uri, "open in an authenticator app"),
    }
    return _page(request, "admin/otp/enrol.html", context, full=True)
