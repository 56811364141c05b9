"""SOQL literals escaped, and long IN lists split so no query passes Salesforce's limits.

Two limits apply: SOQL text of at most 100,000 characters, and (queries go in a GET URL) a
request URI of at most 16,384 bytes once URL-encoded. The URI limit is the one that bites.
"""

from __future__ import annotations

from typing import Iterable, Iterator

MAX_QUERY_CHARS = 100_000
MAX_URI_BYTES = 16_384
URI_HEADROOM = 512  # /services/data/vXX.X/query?q= and a little to spare
_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f", '"': '\\"'}
_ESCAPE_TABLE = str.maketrans(_ESCAPES)  # the same escapes, applied in C (matching quotes every e-mail)
#: The bytes ``urllib.parse.quote(text, safe="")`` leaves as they are (RFC 3986 unreserved); every other byte
#: of the UTF-8 text becomes ``%XX``, three characters.
_UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~"


def quote(value: str) -> str:
    """A SOQL string literal: ``o'brien`` → ``'o\\'brien'``."""
    return "'" + str(value).translate(_ESCAPE_TABLE) + "'"


def _encoded(text: str) -> int:
    """``len(urllib.parse.quote(text, safe=""))``, counted without building the encoded text."""
    raw = text.encode("utf-8")
    return len(raw) + 2 * len(raw.translate(None, _UNRESERVED))


def in_chunks(template: str, values: Iterable[str], max_chars: int = MAX_QUERY_CHARS,
              max_encoded: int | None = MAX_URI_BYTES - URI_HEADROOM) -> Iterator[str]:
    """Queries from ``template`` (one ``{values}`` slot) whose IN lists keep each query inside both limits
    (``max_encoded=None``: no URI limit, the query travels in a request body)."""
    base = template.replace("{values}", "")
    limited = max_encoded is not None  # unlimited: the encoded size stays 0 against a room of 0
    chars_room = max_chars - len(base)
    encoded_room = max_encoded - _encoded(base) if max_encoded is not None else 0
    chunk: list[str] = []
    chars = encoded = 0
    for value in dict.fromkeys(values):  # unique, order kept
        literal = quote(value)
        add_chars = len(literal) + 1
        add_encoded = _encoded(literal) + 3 if limited else 0  # and a comma (%2C)
        if chunk and (chars + add_chars > chars_room or encoded + add_encoded > encoded_room):
            yield template.format(values=",".join(chunk))
            chunk, chars, encoded = [], 0, 0
        chunk.append(literal)
        chars, encoded = chars + add_chars, encoded + add_encoded
    if chunk:
        yield template.format(values=",".join(chunk))
