"""Masking of sensitive attributes, shared by the text, JSON and plan-file writers."""

from __future__ import annotations

from typing import Any, Mapping

from .resource import AttributeChange

SENSITIVE = "(sensitive)"


def redact_attributes(attributes: Mapping[str, Any] | None, sensitive: frozenset[str]) -> dict[str, Any] | None:
    """A copy of ``attributes`` with every sensitive value replaced by ``(sensitive)``."""
    if attributes is None:
        return None
    return {k: (SENSITIVE if k in sensitive else v) for k, v in attributes.items()}


def redact_diff(diff: list[AttributeChange], sensitive: frozenset[str]) -> list[AttributeChange]:
    """The diff with old and new values of sensitive attributes replaced by ``(sensitive)``."""
    return [
        AttributeChange(c.path, SENSITIVE, SENSITIVE, c.op) if c.attribute in sensitive else c for c in diff
    ]


def has_sensitive_values(attributes: Mapping[str, Any] | None, sensitive: frozenset[str]) -> bool:
    """True when ``attributes`` carries a value for a sensitive name."""
    return bool(attributes) and any(k in sensitive for k in attributes)  # type: ignore[arg-type]
