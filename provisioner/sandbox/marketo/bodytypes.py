"""Type-check a JSON request body against the operation's body schema in Adobe's OpenAPI documents.

Marketo binds a JSON body to typed request classes: a value of the wrong type fails the whole call
with 1001 ("Invalid value ... Required of type ..."; Adobe's error-code page: "generated whenever
there is a type mismatch, for example a string value specified for an integer parameter"), before
any record is looked at. The binding is as lenient as Java's usual JSON binding: a scalar reads as a
string, ``"12"`` as an integer and ``"true"``/``"false"`` as a boolean, while ``"yes"`` for a boolean,
a string for an array or an object for a string are refused.

Only properties the documents declare are checked (a lead record's own fields, which the documents
leave open, are checked record by record by the handlers, with record-level reasons). Required
properties are left to the handlers too, which answer them with Marketo's own codes (701/1002/1003).
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from . import contract, errors
from .errors import ApiError

_INTEGER = re.compile(r"^-?\d+$")


@functools.lru_cache(maxsize=None)
def body_schema(method: str, path: str) -> dict[str, Any] | None:
    """The body schema (``$ref``s resolved, as a plain tree) of the documented operation, or None."""
    spec, operation, _ = contract.find_operation(method, path)
    for parameter in operation.get("parameters", []):
        parameter = contract.resolve(spec, parameter)
        if parameter.get("in") == "body":
            return _tree(spec, parameter.get("schema", {}), 0)
    return None


def _tree(spec: dict[str, Any], node: Any, depth: int) -> dict[str, Any]:
    node = contract.resolve(spec, node)
    if not isinstance(node, dict) or depth > 12:
        return {}
    if node.get("type") == "object" and not node.get("properties") and "additionalProperties" not in node:
        return {}  # the documents' untyped ``object`` is Java's Object: any value
    out: dict[str, Any] = {}
    if node.get("type"):
        out["type"] = node["type"]
    if "items" in node:
        out["items"] = _tree(spec, node["items"], depth + 1)
    if node.get("properties"):
        out["properties"] = {k: _tree(spec, v, depth + 1) for k, v in node["properties"].items()}
    return out


def check_body(method: str, path: str, body: Any) -> None:
    """Raise :class:`ApiError` 1001 when a declared property of ``body`` has a type Marketo cannot bind."""
    schema = body_schema(method, path)
    if schema:
        problem = _mismatch(schema, body, "")
        if problem:
            where, value, kind = problem
            shown = value if isinstance(value, (str, int, float, bool)) else json.dumps(value)[:60]
            raise ApiError(errors.INVALID_VALUE, f"Invalid value '{shown}' for '{where}'. Required of type '{kind}'")


def _mismatch(schema: dict[str, Any], value: Any, where: str) -> tuple[str, Any, str] | None:
    """``(path, value, expected type)`` of the first value that does not bind, or None."""
    if value is None:
        return None
    kind = schema.get("type")
    if kind and not _binds(kind, value):
        return where or "<body>", value, kind
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            found = _mismatch(schema["items"], item, f"{where}[{i}]")
            if found:
                return found
    if isinstance(value, dict):
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                found = _mismatch(sub, value[name], f"{where}.{name}" if where else name)
                if found:
                    return found
    return None


def _binds(kind: str, value: Any) -> bool:
    if kind == "string":
        return isinstance(value, (str, int, float, bool))
    if kind == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or \
            (isinstance(value, float) and value.is_integer()) or \
            (isinstance(value, str) and _INTEGER.match(value.strip()) is not None)
    if kind == "number":
        if isinstance(value, bool):
            return False
        try:
            float(value)
        except (TypeError, ValueError):
            return False
        return True
    if kind == "boolean":
        return isinstance(value, bool) or (isinstance(value, str) and value.strip().lower() in ("true", "false"))
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    return True
