"""EMAIL_URL to Django email settings: django-environ's parser, with two fixes of our own."""

from urllib.parse import unquote, urlsplit

import environ

CONSOLE_BACKEND = "billing_project.mail.ConsoleEmailBackend"


def email_settings(url: str) -> dict:
    """`filemail:///abs/path` keeps its leading slash (django-environ drops it, writing mail
    under the working directory); `consolemail://` prints mails without attachment bodies."""
    config = environ.Env.email_url_config(url)
    parts = urlsplit(url)
    if parts.scheme == "filemail":
        config["EMAIL_FILE_PATH"] = unquote(parts.netloc + parts.path)
    elif parts.scheme == "consolemail":
        config["EMAIL_BACKEND"] = CONSOLE_BACKEND
    return config
