"""Keep the client secret out of third-party debug logs.

Marketo's identity API takes the client secret in the query string, and urllib3 logs every request
line (query included) at DEBUG. A filter on urllib3's logger masks ``client_secret=…`` and
``access_token=…`` before any handler sees the record.
"""

from __future__ import annotations

import logging
import re

_SECRET_QUERY = re.compile(r"((?:client_secret|access_token)=)[^&\s\"']+", re.IGNORECASE)
URLLIB3_LOGGER = "urllib3.connectionpool"


def mask(text: str) -> str:
    """``text`` with secret query values replaced by ``***``."""
    return _SECRET_QUERY.sub(r"\1***", text)


class SecretQueryFilter(logging.Filter):
    """Rewrites a record's message with secret query values masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install() -> None:
    """Add the filter to urllib3's connection-pool logger once."""
    logger = logging.getLogger(URLLIB3_LOGGER)
    if not any(isinstance(f, SecretQueryFilter) for f in logger.filters):
        logger.addFilter(SecretQueryFilter())
