"""SOQL literals escaped, and long IN lists split so no query passes Salesforce's length limit."""

from __future__ import annotations

from typing import Iterable, Iterator

MAX_QUERY_CHARS = 100_000
_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f", '"': '\\"'}


def quote(value: str) -> str:
    """A SOQL string literal: ``o'brien`` → ``'o\\'brien'``."""
    return "'" + "".join(_ESCAPES.get(c, c) for c in str(value)) + "'"


def in_chunks(template: str, values: Iterable[str], limit: int = MAX_QUERY_CHARS) -> Iterator[str]:
    """Queries from ``template`` (with one ``{values}`` slot) whose IN lists keep each under ``limit`` chars."""
    room = limit - len(template) + len("{values}")
    chunk: list[str] = []
    size = 0
    for value in dict.fromkeys(values):  # unique, order kept
        literal = quote(value)
        if chunk and size + len(literal) + 1 > room:
            yield template.format(values=",".join(chunk))
            chunk, size = [], 0
        chunk.append(literal)
        size += len(literal) + 1
    if chunk:
        yield template.format(values=",".join(chunk))
