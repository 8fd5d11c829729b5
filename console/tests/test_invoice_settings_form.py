"""Invoice settings through the admin: a logo uploaded (checked for type and size, stored under
MEDIA_ROOT, on the PDF instead of the URL's image) and the JSON columns as forms."""

import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from pypdf import PdfReader

from billing_project.shared.json_forms import PrettyJSONField
from console.tests.helpers import billed
from invoicing.models import InvoiceSettings
from invoicing.services import branding, documents
from subscriptions.tests.test_catalog_admin import form_data

pytestmark = pytest.mark.django_db

URL = "/admin/invoicing/invoicesettings/"


def image_bytes(kind: str = "PNG", size=(40, 20)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, kind)
    return buffer.getvalue()


def save_settings(client, **values):
    """Post the settings page (the add page the first time) as shown, with `values`."""
    row = InvoiceSettings.objects.first()
    url = f"{URL}{row.pk}/change/" if row else f"{URL}add/"
    shown = form_data(client.get(url))
    shown.pop("logo_file", None)  # a file input posts nothing unless a file is chosen
    data = {**shown, **values}
    return client.post(url, data, follow=True)


def pdf_images(data: bytes) -> int:
    return sum(len(page.images) for page in PdfReader(io.BytesIO(data)).pages)


def test_an_uploaded_logo_is_stored_and_on_the_invoice_pdf(superuser_web, tenant):
    _, invoice = billed(tenant)
    assert pdf_images(documents.invoice_pdf_bytes(invoice)) == 0
    upload = SimpleUploadedFile("brand.PNG", image_bytes(), content_type="image/png")
    response = save_settings(superuser_web, company_name="Acme", logo_file=upload)
    assert "Logo uploaded" in response.content.decode()
    row = InvoiceSettings.objects.get()
    assert (
        row.logo_file.name.startswith("branding/uploads/logo") and row.logo_file.name[-4:] == ".png"
    )
    assert row.logo_file.storage.exists(row.logo_file.name)  # under MEDIA_ROOT
    assert branding.branding_current().logo_data_uri.startswith("data:image/png;base64,")
    assert pdf_images(documents.invoice_pdf_bytes(invoice)) == 1
    page = superuser_web.get(f"{URL}{row.pk}/change/").content.decode()
    assert 'src="data:image/png;base64,' in page  # the preview shows what the PDF uses


def test_the_upload_wins_over_the_url_image_and_clearing_it_falls_back(superuser_web):
    row = InvoiceSettings.objects.create(pk=1, logo_url="https://x.example/l.gif",
                                         logo_content_type="image/gif")  # fmt: skip
    row.company_logo.save("logo.gif", ContentFile(image_bytes("GIF")), save=True)
    upload = SimpleUploadedFile("l.webp", image_bytes("WEBP"), content_type="image/webp")
    save_settings(superuser_web, logo_file=upload)
    assert branding.branding_current().logo_data_uri.startswith("data:image/webp;base64,")
    save_settings(superuser_web, **{"logo_file-clear": "on"})
    assert not InvoiceSettings.objects.get().logo_file
    assert branding.branding_current().logo_data_uri.startswith("data:image/gif;base64,")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("logo.png", b"not an image at all", "Upload a valid image"),
        ("logo.bmp", image_bytes("BMP"), "must be a PNG, JPEG, GIF or WebP image"),
        ("big.png", image_bytes("PNG", size=(1, 1)) + b"\0" * (1024 * 1024), "larger than 1 MB"),
    ],
)
def test_a_logo_that_is_no_image_or_too_large_is_refused(superuser_web, name, content, message):
    upload = SimpleUploadedFile(name, content, content_type="image/png")
    response = save_settings(superuser_web, company_name="Acme", logo_file=upload)
    assert message in response.content.decode()
    assert not InvoiceSettings.objects.exists()


def test_address_tax_ids_and_custom_fields_are_forms_not_json(superuser_web):
    save_settings(
        superuser_web,
        address_line1="1 Canal St",
        address_city="Amsterdam",
        address_country="NL",
        tax_ids=["NL VAT NL123456789B01", "", "KvK 1234"],
        custom_fields=["Support: help@acme.example", "Web: https://acme.example"],
    )
    row = InvoiceSettings.objects.get()
    assert row.company_address == {"line1": "1 Canal St", "city": "Amsterdam", "country": "NL"}
    assert row.tax_ids == ["NL VAT NL123456789B01", "KvK 1234"]
    assert row.custom_fields == [
        {"name": "Support", "value": "help@acme.example"},
        {"name": "Web", "value": "https://acme.example"},
    ]
    page = superuser_web.get(f"{URL}1/change/").content.decode()
    assert 'value="Support: help@acme.example"' in page and 'value="Amsterdam"' in page
    # Saving the page unchanged keeps everything.
    save_settings(superuser_web)
    assert InvoiceSettings.objects.get().custom_fields == row.custom_fields


def test_a_custom_field_without_a_name_is_refused_with_a_message(superuser_web):
    response = save_settings(superuser_web, custom_fields=["Support: help@acme.example", "oops"])
    assert (
        "Item 2 (&quot;oops&quot;): write it as &quot;Name: value&quot;"
        in response.content.decode()
    )
    assert not InvoiceSettings.objects.exists()


def test_json_without_a_form_of_its_own_is_refused_with_the_parsers_message():
    field = PrettyJSONField()
    assert field.clean('{"a": [1, 2]}') == {"a": [1, 2]}
    assert field.prepare_value({"a": 1}) == '{\n  "a": 1\n}'
    with pytest.raises(Exception) as exc:
        field.clean('{"a": 1,}')
    assert "Not valid JSON: " in str(exc.value) and "line 1, column 9" in str(exc.value)
