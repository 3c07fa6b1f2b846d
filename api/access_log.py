"""Keep capabilities out of the access log: a signed download link's token is the permission itself.

uvicorn writes one `uvicorn.access` record per request with the path among its arguments; the filter
replaces the token in `/api/v1/downloads/<token>` before any handler formats the record.
"""

from __future__ import annotations

import logging
import re

ACCESS_LOGGER = "uvicorn.access"
REDACTED = "[redacted]"
_DOWNLOAD_TOKEN = re.compile(r"(/api/v1/downloads/)[^\s?\"]+")


def redact(text: str) -> str:
    return _DOWNLOAD_TOKEN.sub(rf"\g<1>{REDACTED}", text)


class RedactDownloadTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


def install(logger_name: str = ACCESS_LOGGER) -> None:
    """Add the filter to the access logger once (idempotent: every app built in a process shares it).

    A filter on the logger survives uvicorn's own logging set-up (`dictConfig` replaces handlers, not
    filters), and applies whatever handlers and format the deployment configures.
    """
    logger = logging.getLogger(logger_name)
    if not any(isinstance(existing, RedactDownloadTokens) for existing in logger.filters):
        logger.addFilter(RedactDownloadTokens())
