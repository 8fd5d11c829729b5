"""Seller branding for invoices: the InvoiceSettings row over settings.BILLING_COMPANY.

The logo is an uploaded file (`logo_file`: PNG, JPEG, GIF or WebP, at most 1 MB, its type read
from the bytes by Pillow, not from the name or the browser) or else the image of a logo URL.
A logo URL is fetched once, when saved, from public addresses only: the host is resolved and
every address must be global (no private, loopback, link-local, reserved or multicast IPs); the
connection goes to the vetted address (no second DNS lookup, no redirects), the body is limited
to 1 MB and must be image/*. Rendering never fetches anything (see pdf.py).
"""

import base64
import http.client
import io
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.base import ContentFile
from PIL import Image, UnidentifiedImageError

from billing_project.shared.errors import ValidationFailed
from invoicing.models import InvoiceSettings

MAX_LOGO_BYTES = 1024 * 1024
FETCH_TIMEOUT = 5.0
ADDRESS_KEYS = ("line1", "city", "state", "postal_code", "country")
ALLOWED_IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml", "image/webp")
# What an upload may be (no SVG: a file staff upload is a raster image Pillow can read).
UPLOAD_FORMATS = {"PNG": "png", "JPEG": "jpeg", "GIF": "gif", "WEBP": "webp"}
EXTENSION_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg",
                   "gif": "image/gif", "webp": "image/webp"}  # fmt: skip


@dataclass(frozen=True)
class Branding:
    company_name: str
    address_lines: tuple[str, ...]
    email: str
    tax_ids: tuple[str, ...]
    logo_data_uri: str
    accent_color: str
    payment_terms_label: str
    custom_fields: tuple[dict, ...]
    footer: str
    payment_instructions: str


def invoice_settings_get() -> InvoiceSettings:
    row = InvoiceSettings.objects.filter(pk=1).first()
    return row if row is not None else InvoiceSettings(pk=1)


def address_lines(address: dict) -> tuple[str, ...]:
    rest = " ".join(p for p in (address.get("state", ""), address.get("postal_code", "")) if p)
    city_line = ", ".join(p for p in (address.get("city", ""), rest) if p)
    return tuple(
        line for line in (address.get("line1", ""), city_line, address.get("country", "")) if line
    )


def logo_image_check(data: bytes) -> str:
    """The file extension of an uploaded logo (`png`, `jpeg`, `gif`, `webp`), read from its
    bytes. Raises ValidationFailed when it is too large or not one of those images."""
    if len(data) > MAX_LOGO_BYTES:
        raise ValidationFailed("The logo is larger than 1 MB.", errors={"logo_file": ["too large"]})
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            kind = image.format
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        kind = None
    if kind not in UPLOAD_FORMATS:
        message = "The logo must be a PNG, JPEG, GIF or WebP image."
        raise ValidationFailed(message, errors={"logo_file": [message]})
    return UPLOAD_FORMATS[kind]


def _read(field_file) -> bytes:
    try:
        with field_file.open("rb") as handle:
            data = handle.read(MAX_LOGO_BYTES + 1)
    except OSError:
        return b""
    return b"" if len(data) > MAX_LOGO_BYTES else data


def logo_data_uri(row: InvoiceSettings) -> str:
    """The logo as a data: URI for the PDF: the uploaded file when there is one, else the image
    fetched from the logo URL; "" when neither is stored (or readable)."""
    if row.logo_file:
        data = _read(row.logo_file)
        extension = PurePath(row.logo_file.name).suffix.lstrip(".").lower()
        content_type = EXTENSION_TYPES.get(extension, "")
        if data and content_type:
            return f"data:{content_type};base64,{base64.b64encode(data).decode()}"
    if not row.company_logo:
        return ""
    data = _read(row.company_logo)
    if not data:
        return ""
    content_type = row.logo_content_type or "image/png"
    return f"data:{content_type};base64,{base64.b64encode(data).decode()}"


def branding_current() -> Branding:
    company = settings.BILLING_COMPANY
    row = invoice_settings_get()
    # The seller's address is one whole: the settings row's when it has any part, otherwise
    # BILLING_COMPANY's (a row's Amsterdam never borrows the demo's state or street).
    own = {key: (row.company_address or {}).get(key) or "" for key in ADDRESS_KEYS}
    address = own if any(own.values()) else {key: company.get(key, "") for key in ADDRESS_KEYS}
    return Branding(
        company_name=row.company_name or company.get("name", ""),
        address_lines=address_lines(address),
        email=row.company_email or company.get("email", ""),
        tax_ids=tuple(row.tax_ids or company.get("tax_ids", ())),
        logo_data_uri=logo_data_uri(row),
        accent_color=row.accent_color or "#1f6feb",
        payment_terms_label=row.payment_terms,
        custom_fields=tuple(row.custom_fields or ()),
        footer=row.footer,
        payment_instructions=row.payment_instructions,
    )


class LogoFetchError(Exception):
    pass


def _public_address(host: str, port: int) -> str:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise LogoFetchError(f"cannot resolve {host}: {exc}") from exc
    addresses = {info[4][0] for info in infos}
    if not addresses:
        raise LogoFetchError(f"cannot resolve {host}")
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global or ip.is_multicast:
            raise LogoFetchError(f"{host} resolves to a non-public address ({ip})")
    return sorted(addresses)[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, port, ip, timeout):
        super().__init__(host, port, timeout=timeout)
        self._ip = ip

    def connect(self):
        self.sock = socket.create_connection((self._ip, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, ip, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._ip = ip

    def connect(self):
        sock = socket.create_connection((self._ip, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def logo_fetch(url: str) -> tuple[bytes, str]:
    """Download a logo from a public http(s) URL. Returns (bytes, content type)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LogoFetchError("the logo URL must be an absolute http(s) URL")
    if parts.username or parts.password:
        raise LogoFetchError("credentials in the logo URL are not allowed")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    ip = _public_address(parts.hostname, port)
    cls = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    conn = cls(parts.hostname, port, ip, FETCH_TIMEOUT)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request("GET", path, headers={"User-Agent": "LeanVibe-Billing/1.0"})
        response = conn.getresponse()
        if response.status != 200:
            raise LogoFetchError(f"the logo URL answered HTTP {response.status}")
        content_type = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
        if not content_type.startswith("image/"):
            raise LogoFetchError(f"the logo URL is not an image ({content_type or 'no type'})")
        length = response.getheader("Content-Length")
        if length and length.isdigit() and int(length) > MAX_LOGO_BYTES:
            raise LogoFetchError("the logo is larger than 1 MB")
        data = response.read(MAX_LOGO_BYTES + 1)
        if len(data) > MAX_LOGO_BYTES:
            raise LogoFetchError("the logo is larger than 1 MB")
        return data, content_type
    except (OSError, http.client.HTTPException) as exc:
        raise LogoFetchError(f"cannot fetch the logo: {exc}") from exc
    finally:
        conn.close()


def invoice_settings_set_logo_url(*, row: InvoiceSettings, url: str, now: datetime) -> None:
    """Fetch `url` once and store the image on `row` (saved). Raises ValidationFailed."""
    try:
        data, content_type = logo_fetch(url)
    except LogoFetchError as exc:
        raise ValidationFailed(str(exc), errors={"logo_url": [str(exc)]}) from exc
    extension = content_type.split("/")[-1].split("+")[0]
    row.logo_url = url
    row.logo_content_type = content_type
    row.logo_error = ""
    row.company_logo.save(f"logo.{extension}", ContentFile(data), save=False)
    row.updated_at = now
    row.save()
