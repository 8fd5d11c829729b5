"""The console email backend of `make run`: messages as Django prints them, with the plain text
body only; the HTML alternative and attachments are one line each (the demo invoice email is
~35 lines instead of ~400, most of them a base64 PDF)."""

from django.core.mail.backends.console import EmailBackend


class ConsoleEmailBackend(EmailBackend):
    def write_message(self, message):
        msg = message.message()
        for part in msg.walk():
            if part.is_multipart() or (
                part.get_content_type() == "text/plain"
                and part.get_content_disposition() != "attachment"
            ):
                continue
            size = len(part.get_payload(decode=True) or b"")
            name = part.get_filename() or "body"
            del part["Content-Transfer-Encoding"]
            part.set_payload(f"[{name}: {part.get_content_type()}, {size} bytes, not shown]\n")
        charset = msg.get_charset().get_output_charset() if msg.get_charset() else "utf-8"
        self.stream.write(f"{msg.as_bytes().decode(charset)}\n{'-' * 79}\n")
