"""Logging filters."""

import logging


class DropTemplateLookups(logging.Filter):
    """Django's template engine logs each failed variable lookup at DEBUG with the whole template
    context in the message, so a page that shows a secret once (a new API token) would write it
    to the log. Those records are dropped; the logger's warnings and errors pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG
