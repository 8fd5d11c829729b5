"""EMAIL_URL as the README writes it, and the console backend of `make run`."""

import base64
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

from django.core.mail import EmailMultiAlternatives

from billing_project.mail import ConsoleEmailBackend
from billing_project.settings.mailurl import CONSOLE_BACKEND, email_settings

ROOT = Path(__file__).resolve().parent.parent.parent


def test_filemail_keeps_an_absolute_path():
    config = email_settings("filemail:///var/tmp/lvb-mail")
    assert config["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend"
    assert config["EMAIL_FILE_PATH"] == "/var/tmp/lvb-mail"
    assert email_settings("filemail://outbox/mail")["EMAIL_FILE_PATH"] == "outbox/mail"


def test_consolemail_prints_without_attachment_bodies_and_other_schemes_pass_through():
    assert email_settings("consolemail://")["EMAIL_BACKEND"] == CONSOLE_BACKEND
    smtp = email_settings("smtp+tls://user:pw@mail.example:587")
    assert smtp["EMAIL_HOST"] == "mail.example"
    assert smtp["EMAIL_USE_TLS"] is True


def test_filemail_from_the_environment_writes_where_it_says(tmp_path):
    outbox = tmp_path / "mail"
    code = (
        "import django; django.setup()\n"
        "from django.core.mail import send_mail\n"
        "send_mail('Invoice', 'Hello', 'billing@example.com', ['ap@example.com'])\n"
    )
    env = {
        **os.environ,
        "EMAIL_URL": f"filemail://{outbox}",
        "DJANGO_SETTINGS_MODULE": "billing_project.settings.local",
        "PYTHONPATH": str(ROOT),
    }
    # From another working directory: a path that lost its leading slash would land there.
    subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, check=True)
    written = list(outbox.iterdir())
    assert len(written) == 1
    assert "Subject: Invoice" in written[0].read_text()


def test_console_backend_shows_the_message_and_names_attachments_in_one_line():
    pdf = b"%PDF-1.7 " + os.urandom(30_000)
    message = EmailMultiAlternatives(
        "Invoice INV-2026-000001", "Your invoice is attached.", "billing@example.com", ["a@b.c"]
    )
    message.attach_alternative("<p>Your invoice is attached.</p>", "text/html")
    message.attach("INV-2026-000001.pdf", pdf, "application/pdf")
    out = StringIO()
    assert ConsoleEmailBackend(stream=out).send_messages([message]) == 1
    text = out.getvalue()
    assert "Subject: Invoice INV-2026-000001" in text
    assert "Your invoice is attached." in text
    assert "[INV-2026-000001.pdf: application/pdf, 30009 bytes, not shown]" in text
    assert "[body: text/html, 32 bytes, not shown]" in text
    assert base64.b64encode(pdf[:300]).decode()[:60] not in text
    assert len(text.splitlines()) < 60
