"""Check documents against schemas/manifest.schema.json and turn errors into located findings."""

from __future__ import annotations

import difflib
import json
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable

from .findings import Finding
from .schema_fastpath import FastValidator, UnsupportedSchema
from .yaml_loader import Document, Path


@lru_cache(maxsize=None)
def load_schema(name: str = "manifest.schema.json") -> dict[str, Any]:
    """The published JSON Schema shipped with the package (schemas/ at the repo root links here)."""
    return json.loads(resources.files("provisioner.schemas").joinpath(name).read_text("utf-8"))


@lru_cache(maxsize=None)
def _validator() -> Any:
    """The full jsonschema validator, imported only when a document is invalid (it costs ~0.2 s)."""
    import jsonschema

    return jsonschema.Draft202012Validator(load_schema())


@lru_cache(maxsize=None)
def _fast_validator() -> FastValidator | None:
    try:
        return FastValidator(load_schema())
    except UnsupportedSchema:
        return None


def dotted(path: Iterable[Any]) -> str:
    """``('spec', 'objects', 1, 'fields')`` → ``spec.objects[1].fields``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "document"


def _suggest(word: str, options: Iterable[str]) -> str:
    match = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.6)
    return f"did you mean '{match[0]}'?" if match else ""


def _describe(error: Any, doc: Document) -> list[Finding]:
    path: Path = tuple(error.absolute_path)
    where = dotted(path)
    validator = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    if validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = schema.get("properties", {})
        findings = []
        for key in error.instance:
            if key not in allowed:
                hint = _suggest(key, allowed) or f"allowed keys: {', '.join(sorted(allowed))}"
                findings.append(Finding(doc.location(path + (key,), key=True),
                                        f"{where}: unknown key '{key}'", hint, "schema"))
        return findings
    if validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return [Finding(doc.location(path, key=True), f"{where}: missing required key '{missing}'", "", "schema")]
    if validator in ("enum", "const"):
        options = schema.get("enum") or [schema.get("const")]
        hint = _suggest(error.instance, options) or "allowed: " + ", ".join(map(str, options))
        return [Finding(doc.location(path), f"{where}: {error.instance!r} is not allowed here", hint, "schema")]
    if validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return [Finding(doc.location(path), f"{where}: must be {_article(expected)}, got {_kind(error.instance)}",
                        "", "schema")]
    if validator in ("maxLength", "minLength") and isinstance(error.instance, str):
        limit = error.validator_value
        shown = error.instance if len(error.instance) <= 40 else error.instance[:37] + "..."
        if validator == "maxLength":
            return [Finding(doc.location(path), f"{where}: {shown!r} is {len(error.instance)} characters, longer than "
                            f"the {limit} allowed", (schema.get("description") or "").strip(), "schema")]
        return [Finding(doc.location(path), f"{where}: must not be empty", "", "schema")]
    return [Finding(doc.location(path), f"{where}: {error.message}", "", "schema")]


def _article(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def _kind(value: Any) -> str:
    names = {dict: "a mapping", list: "a list", str: "text", bool: "true/false", int: "a number",
             float: "a number", type(None): "nothing (null)"}
    return f"{names.get(type(value), type(value).__name__)} ({value!r})" if not isinstance(value, (dict, list)) \
        else names[type(value)]


def check_document(doc: Document) -> list[Finding]:
    """All schema findings for one document, each at the line of the offending key or value."""
    if not isinstance(doc.data, dict):
        return [Finding(doc.location(()), "a manifest document must be a mapping with apiVersion, kind, metadata and spec",
                        "start the document with 'apiVersion: provisioner/v1'", "schema")]
    fast = _fast_validator()
    if fast is not None and fast(doc.data):
        return []
    findings: list[Finding] = []
    errors = sorted(_validator().iter_errors(doc.data), key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    for error in errors:
        findings.extend(_describe(error, doc))
    unique: dict[str, Finding] = {}
    for f in findings:
        unique.setdefault(f.render(), f)
    return sorted(unique.values(), key=lambda f: (f.location.line, f.location.column))
