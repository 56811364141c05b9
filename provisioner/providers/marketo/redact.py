"""Keep the client secret out of third-party debug logs.

Marketo's identity API takes the client secret in the query string, and urllib3 logs every request
line (query included) at DEBUG. :class:`provisioner.redaction.RedactingFilter` on urllib3's
logger masks ``client_secret=…`` and ``access_token=…`` before any handler sees the record.
"""

from __future__ import annotations

import logging

from ...redaction import install_log_filter

URLLIB3_LOGGER = "urllib3.connectionpool"


def install() -> None:
    """Add the redacting filter to urllib3's connection-pool logger once."""
    install_log_filter(logging.getLogger(URLLIB3_LOGGER))
