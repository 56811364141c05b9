"""Keep secrets out of everything the tool prints, logs or writes.

Three layers, so that one forgotten message cannot leak:

- at the source, :func:`strip_userinfo` takes ``user:password@`` out of an endpoint URL before any
  client, message or plan sees it (neither Salesforce nor Marketo uses HTTP basic auth);
- :func:`redact` masks what looks like a secret anywhere in a text: URL userinfo, secret query
  values (``client_secret=``, ``access_token=``, ...), bearer tokens, Salesforce session ids, and
  the exact values of the secret variables the tool was given (:func:`remember`);
- :func:`install_output_guard` passes the CLI's stdout, stderr and log records through
  :func:`redact`.
"""

from __future__ import annotations

import io
import logging
import re
import sys
import threading
from typing import Any, Callable, Iterable, Mapping, TextIO
from urllib.parse import urlsplit, urlunsplit

MASK = "***"

#: Environment variables whose values are secrets (SFDX_AUTH_URL carries a refresh token).
SECRET_VARIABLES = ("SF_PASSWORD", "SF_SECURITY_TOKEN", "SF_ACCESS_TOKEN", "SF_CLIENT_SECRET", "SFDX_AUTH_URL",
                    "MARKETO_CLIENT_SECRET")
#: Environment variables holding URLs whose userinfo is a secret.
URL_VARIABLES = ("SF_LOGIN_URL", "SF_INSTANCE_URL", "MARKETO_ENDPOINT", "SFDX_AUTH_URL")
#: Shorter values are not masked by value (they would mask ordinary words); the patterns still apply.
MIN_SECRET_LENGTH = 6

_USERINFO = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.\-]*://)(?P<userinfo>[^\s/@'\"<>]+)@", re.IGNORECASE)
_QUERY = re.compile(r"(\b(?:client_secret|access_token|refresh_token|password|assertion|sessionId|code)=)"
                    r"[^&\s\"'<>]+", re.IGNORECASE)
#: "Bearer <token>" (a token has a digit: "Bearer authentication" in prose is left alone).
_BEARER = re.compile(r"\b(Bearer)\s+(?=[A-Za-z!._~+/=:\-]*\d)[A-Za-z0-9!._~+/=:\-]{8,}")
_SALESFORCE_SESSION = re.compile(r"\b00D[A-Za-z0-9]{12,15}![A-Za-z0-9._\-]{16,}")

_known: set[str] = set()
_longest_first: tuple[str, ...] = ()  # _known, longest first (a secret containing another is masked whole)
_lock = threading.Lock()


def strip_userinfo(url: str) -> tuple[str, bool]:
    """``url`` without ``user:password@``, and whether it had any."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _USERINFO.sub(r"\g<scheme>", url), "@" in url
    if "@" not in parts.netloc:
        return url, False
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1])), True


def remember(values: Iterable[str | None]) -> None:
    """Mask these exact values wherever they appear from now on (process-wide)."""
    global _longest_first
    with _lock:
        _known.update(v for v in values if v and len(v) >= MIN_SECRET_LENGTH)
        _longest_first = tuple(sorted(_known, key=len, reverse=True))


def remember_environment(env: Mapping[str, str]) -> None:
    """Remember the secret variables' values and the passwords in the URL variables' userinfo."""
    values = [env.get(name) for name in SECRET_VARIABLES]
    for name in URL_VARIABLES:
        match = _USERINFO.search(env.get(name) or "")
        if match:
            user, _, password = match.group("userinfo").partition(":")
            values += [password, match.group("userinfo")]
    remember(values)


def redact(text: str) -> str:
    """``text`` with every recognisable secret replaced by ``***``."""
    if not text:
        return text
    # Each pattern runs only when the text holds a character it cannot match without: a plan of thousands
    # of lines passes through here line by line.
    if "@" in text:
        text = _USERINFO.sub(rf"\g<scheme>{MASK}@", text)
    if "=" in text:
        text = _QUERY.sub(rf"\1{MASK}", text)
    if "Bearer" in text:
        text = _BEARER.sub(rf"\1 {MASK}", text)
    if "!" in text:
        text = _SALESFORCE_SESSION.sub(MASK, text)
    for value in _longest_first:  # a tuple replaced whole by remember(): safe to read without the lock
        if value in text:
            text = text.replace(value, MASK)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a log record's message (arguments merged) through ``mask`` (:func:`redact` by default)."""

    def __init__(self, mask: Callable[[str], str] | None = None) -> None:
        super().__init__()
        self.mask = mask or redact

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = self.mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class RedactingStream(io.TextIOBase):
    """A text stream that writes through :func:`redact` to the stream it wraps.

    Writes are buffered up to the end of a line, so a secret split over two ``write`` calls is
    still recognised; ``flush`` writes what is left.
    """

    def __init__(self, wrapped: TextIO) -> None:
        self.wrapped = wrapped
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        if "\n" in self._pending:
            done, _, self._pending = self._pending.rpartition("\n")
            self.wrapped.write(redact(done + "\n"))
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self.wrapped.write(redact(self._pending))
            self._pending = ""
        self.wrapped.flush()

    def isatty(self) -> bool:
        return self.wrapped.isatty()

    def writable(self) -> bool:
        return True

    @property
    def buffer(self) -> Any:
        """No binary side door: click would write bytes to it, past the redaction."""
        raise AttributeError("buffer")

    def fileno(self) -> int:
        return self.wrapped.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.wrapped, "encoding", "utf-8")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)


def install_log_filter(logger: logging.Logger | None = None) -> None:
    """Add :class:`RedactingFilter` to ``logger`` (the root logger by default) and its handlers, once;
    for the root logger also to Python's last-resort handler, which prints warnings when nothing
    else is configured."""
    root = logger is None
    logger = logger or logging.getLogger()
    targets: list[Any] = [logger, *logger.handlers]
    if root and logging.lastResort is not None:
        targets.append(logging.lastResort)
    for target in targets:
        if not any(isinstance(f, RedactingFilter) for f in target.filters):
            target.addFilter(RedactingFilter())


def install_output_guard(env: Mapping[str, str]) -> None:
    """For one CLI run: remember ``env``'s secrets, and pass stdout, stderr and log records through
    :func:`redact`. Idempotent; the streams are wrapped where the command will find them."""
    remember_environment(env)
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if not isinstance(stream, RedactingStream):
            setattr(sys, name, RedactingStream(stream))
    install_log_filter()
