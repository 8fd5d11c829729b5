"""Invoice settings in the admin (one row): the seller's details, a logo uploaded or fetched from
a URL (the upload wins), and the JSON columns as forms: the address as its five parts, tax ids
as a list, custom fields as `Name: value` items. Registered from invoicing/admin.py."""

from django import forms
from django.contrib import admin, messages
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.html import format_html

from billing_project.shared.admin import BillingAdmin
from billing_project.shared.errors import BillingError
from billing_project.shared.json_forms import NameValueListField, StringListField
from invoicing.models import InvoiceSettings
from invoicing.services import branding

ADDRESS_LABELS = {
    "line1": "Street address",
    "city": "City",
    "state": "State / region",
    "postal_code": "Postal code",
    "country": "Country",
}


def _address_part(key: str) -> forms.CharField:
    return forms.CharField(label=ADDRESS_LABELS[key], required=False, max_length=200)


class InvoiceSettingsForm(forms.ModelForm):
    address_line1 = _address_part("line1")
    address_city = _address_part("city")
    address_state = _address_part("state")
    address_postal_code = _address_part("postal_code")
    address_country = _address_part("country")
    tax_ids = StringListField(
        label="Tax ids", help_text='One per item, as printed, e.g. "US EIN 12-3456789".'
    )
    custom_fields = NameValueListField(
        label="Custom fields", help_text='One "Name: value" per item, e.g. "Support: help@x.com".'
    )

    class Meta:
        model = InvoiceSettings
        fields = (
            "company_name",
            "company_email",
            "logo_file",
            "logo_url",
            "payment_terms",
            "tax_ids",
            "custom_fields",
            "accent_color",
            "footer",
            "payment_instructions",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        address = self.instance.company_address or {}
        for key in ADDRESS_LABELS:
            self.initial.setdefault(f"address_{key}", address.get(key, ""))

    def clean_logo_file(self):
        upload = self.cleaned_data.get("logo_file")
        if isinstance(upload, UploadedFile):
            upload.seek(0)
            try:
                extension = branding.logo_image_check(upload.read())
            except BillingError as exc:
                raise forms.ValidationError(exc.message) from None
            upload.seek(0)
            upload.name = f"logo.{extension}"
        return upload

    def clean(self):
        data = super().clean()
        address = {key: (data.get(f"address_{key}") or "").strip() for key in ADDRESS_LABELS}
        self.instance.company_address = {k: v for k, v in address.items() if v}
        # Set here: unfold's list widget reports itself "omitted", so the model form would skip
        # these defaulted fields when saving.
        for name in ("tax_ids", "custom_fields"):
            if name in data:
                setattr(self.instance, name, data[name])
        return data


ADDRESS_FIELDS = tuple(f"address_{key}" for key in ADDRESS_LABELS)
ON_EVERY_INVOICE = ("payment_terms", "tax_ids", "custom_fields", "accent_color", "footer",
                    "payment_instructions")  # fmt: skip


@admin.register(InvoiceSettings)
class InvoiceSettingsAdmin(BillingAdmin):
    form = InvoiceSettingsForm
    list_display = ("__str__", "company_name", "logo_preview", "updated_at")
    fieldsets = (
        (None, {"fields": ("company_name", "company_email", *ADDRESS_FIELDS)}),
        ("Logo", {"fields": ("logo_file", "logo_url", "logo_preview", "logo_error")}),
        (
            "On every invoice",
            {"fields": ON_EVERY_INVOICE},
        ),
    )
    readonly_fields = ("logo_preview", "logo_error")

    def has_add_permission(self, request):
        return not InvoiceSettings.objects.exists()

    @admin.display(description="logo (as on the PDF)")
    def logo_preview(self, obj):
        uri = branding.logo_data_uri(obj) if obj and obj.pk else ""
        if not uri:
            return "—"
        return format_html('<img src="{}" style="max-height: 60px; max-width: 240px;">', uri)

    def save_model(self, request, obj, form, change):
        obj.pk = 1
        now = timezone.now()
        obj.updated_at = now
        url_changed = "logo_url" in form.changed_data
        super().save_model(request, obj, form, change)
        if "logo_file" in form.changed_data and obj.logo_file:
            self.message_user(request, "Logo uploaded: invoices use it instead of the URL's.")
        if url_changed and obj.logo_url:
            try:
                branding.invoice_settings_set_logo_url(row=obj, url=obj.logo_url, now=now)
            except BillingError as exc:
                obj.logo_error = exc.message
                obj.save(update_fields=["logo_error"])
                self.message_user(request, f"Logo not stored: {exc.message}", messages.ERROR)
