"""gunicorn's logs as JSON lines (python-json-logger), the access log included.

`gunicorn.conf.py` sets `logger_class` to `JsonLogger`. Each request is one line on stdout:
`{"time", "level", "logger": "gunicorn.access", "message": "GET /health 200", "method", "path",
"query", "status", "duration_ms", "bytes", "remote_addr", "user_agent", "referer", "pid"}`.
No request header other than User-Agent and Referer is logged: never an Authorization token.
The query string is logged (tokens never travel in it: the API reads them from the header only).
"""

import logging
import traceback

from gunicorn.glogging import Logger
from pythonjsonlogger.json import JsonFormatter

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s %(process)d"
RENAME = {"asctime": "time", "levelname": "level", "name": "logger", "process": "pid"}
DATEFMT = "%Y-%m-%dT%H:%M:%S%z"


def json_formatter() -> logging.Formatter:
    return JsonFormatter(FORMAT, rename_fields=RENAME, datefmt=DATEFMT)


class JsonLogger(Logger):
    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(json_formatter())

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        try:
            status = resp.status
            if isinstance(status, str):
                status = status.split(None, 1)[0]
            method = environ.get("REQUEST_METHOD", "-")
            path = environ.get("PATH_INFO", "-")
            sent = getattr(resp, "sent", None)
            self.access_log.info(
                "%s %s %s",
                method,
                path,
                status,
                extra={
                    "method": method,
                    "path": path,
                    "query": environ.get("QUERY_STRING", ""),
                    "status": int(status),
                    "duration_ms": round(request_time.total_seconds() * 1000, 3),
                    "bytes": sent,
                    "remote_addr": environ.get("REMOTE_ADDR", "-"),
                    "user_agent": environ.get("HTTP_USER_AGENT", ""),
                    "referer": environ.get("HTTP_REFERER", ""),
                },
            )
        except Exception:
            self.error(traceback.format_exc())
