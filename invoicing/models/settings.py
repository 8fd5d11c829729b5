from django.db import models


class InvoiceSettings(models.Model):
    """Seller branding on invoices: one row (pk=1); blank fields fall back to BILLING_COMPANY."""

    company_name = models.CharField(max_length=200, blank=True)
    company_address = models.JSONField(
        default=dict, blank=True, help_text="{line1, city, state, postal_code, country}"
    )
    company_email = models.EmailField(blank=True)
    logo_url = models.URLField(blank=True, help_text="Fetched once when saved, then stored")
    company_logo = models.FileField(
        upload_to="branding/", blank=True, help_text="The image fetched from the logo URL"
    )
    # An uploaded logo wins over the URL's (branding.logo_data_uri); type and size are checked
    # (PNG, JPEG, GIF or WebP, at most 1 MB) by branding.logo_image_check.
    logo_file = models.ImageField(
        "logo file",
        upload_to="branding/uploads/",
        blank=True,
        help_text="PNG, JPEG, GIF or WebP, at most 1 MB; used instead of the logo URL's image",
    )
    logo_content_type = models.CharField(max_length=50, blank=True)
    logo_error = models.CharField(max_length=500, blank=True)
    payment_terms = models.CharField(max_length=50, blank=True, help_text='Label, e.g. "Net 30"')
    custom_fields = models.JSONField(default=list, blank=True, help_text="[{name, value}]")
    tax_ids = models.JSONField(default=list, blank=True, help_text='["US EIN 12-3456789"]')
    accent_color = models.CharField(max_length=7, default="#1f6feb")
    footer = models.TextField(blank=True)
    payment_instructions = models.TextField(blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "invoice settings"
        verbose_name_plural = "invoice settings"

    def __str__(self) -> str:
        return "Invoice settings"
