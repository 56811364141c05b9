"""Attendees' personal data stays where it belongs: private files, and nothing personal in what is shown.

- :func:`private_file` / :func:`private_dir`: the ledger, the rejects file and the sync's other files are
  created 0600 in a folder created 0700 (umask does not widen them).
- :func:`redact`: masks e-mail addresses (plain or URL-encoded) and the SOQL text of ``q=`` URL parameters
  (a match query carries e-mails and names) in any text about to be logged, shown or put in an error.
- :func:`install_log_filter`: the same on every record of the loggers that print request lines (urllib3)
  and of the tool's own loggers, so ``--verbose`` output holds no personal data.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from .redaction import RedactingFilter
from .redaction import redact as secrets_redacted

#: An e-mail address as text or URL-encoded (``%40``), quoted in SOQL or not.
_EMAIL = re.compile(r"[A-Za-z0-9._%+'!#$&*/=?^`{|}~-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
#: The SOQL of a query URL (``/query/?q=SELECT ...``), up to the next parameter or the end of the URL.
_SOQL_PARAM = re.compile(r"([?&]q=)[^&\s\"']+")
#: A SOQL statement written out in a message: its WHERE clause holds the values that were looked up.
_SOQL_WHERE = re.compile(r"(\bFROM\s+\w+\s+WHERE\b).*?(?=\s+ORDER BY\b|\s+LIMIT\b|$|\n)")
_SECRETS = re.compile(r"((?:client_secret|access_token)=)[^&\s\"']+", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` with query URLs' SOQL, WHERE clauses and e-mail addresses masked, and every secret
    :func:`provisioner.redaction.redact` knows (tokens, client secrets, URL userinfo)."""
    text = _SOQL_PARAM.sub(r"\1<query redacted>", text)
    text = _SOQL_WHERE.sub(r"\1 <redacted>", text)
    text = _SECRETS.sub(r"\1***", text)
    return secrets_redacted(_EMAIL.sub("<e-mail>", text))


class PersonalDataFilter(RedactingFilter):
    """Rewrites each record's message through :func:`redact` (personal data and secrets) before any handler
    sees it."""

    def __init__(self) -> None:
        super().__init__(mask=redact)


LOGGERS = ("urllib3.connectionpool", "simple_salesforce", "zeep", "provisioner")


def install_log_filter() -> None:
    """Add :class:`PersonalDataFilter` once to each logger that may print a request or a record."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, PersonalDataFilter) for f in logger.filters):
            logger.addFilter(PersonalDataFilter())


def private_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` (and missing parents) with mode 0700; an existing folder is left as it is."""
    folder = Path(path)
    missing = []
    probe = folder
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for created in reversed(missing):
        created.mkdir(mode=0o700, exist_ok=True)
        os.chmod(created, 0o700)  # mkdir's mode is narrowed by umask, never widened: make it exact
    return folder


def private_file(path: str | os.PathLike[str]) -> Path:
    """Make sure ``path`` exists with mode 0600 (its folder created 0700 when missing); returns it."""
    target = Path(path)
    private_dir(target.parent if str(target.parent) else ".")
    fd = os.open(target, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600)
    os.close(fd)
    os.chmod(target, 0o600)
    return target
