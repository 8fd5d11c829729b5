"""Admin pages of the console outside any ModelAdmin (mounted at /admin/otp/ before the admin)."""

from django.urls import path

from console import safety

urlpatterns = [
    path("verify/", safety.otp_verify_view, name="otp_verify"),
    path("enrol/", safety.otp_enrol_view, name="otp_enrol"),
]
