"""An email backend that behaves like an SMTP server that is down."""

from django.core.mail.backends.base import BaseEmailBackend


class SmtpDownBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("SMTP server unreachable")
