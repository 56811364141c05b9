"""Check requests and responses against Adobe's Marketo OpenAPI (Swagger 2.0) documents.

The documents ship inside the package, in ``provisioner/sandbox/data/marketo-openapi`` with Adobe's
Apache-2.0 licence (override with ``MARKETO_OPENAPI_DIR``). Use :func:`check_request` in a client's tests to prove every request it
sends names a documented operation and only documented parameters; use :func:`check_response` to
validate a reply against the operation's 200-response schema.

Tolerance, because the documents are looser or stricter than the live API in known places:
response enums are not enforced (the live API returns values they omit, e.g. program type
"Event with Webinar"); ``required`` is enforced on the envelope only (record shapes vary by outcome:
a skipped record has no id); properties may be null; an untyped ``object`` accepts any value
(the specs use it for Java ``Object``). Parameter names the live API uses but the specs misspell
are listed in :data:`PARAMETER_ERRATA`.
"""

from __future__ import annotations

import functools
import json
import os
import re
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema

SPEC_FILES = ("swagger-identity.json", "swagger-mapi.json", "swagger-asset.json")
#: (method, path template) -> parameter names the live API reads that the spec spells differently.
PARAMETER_ERRATA: dict[tuple[str, str], frozenset[str]] = {
    # The spec declares "Name"; Marketo's docs, examples and clients send "name".
    ("GET", "/rest/asset/v1/channel/byName.json"): frozenset({"name"}),
}


class ContractError(AssertionError):
    """A request or response that does not match the OpenAPI documents."""


def spec_dir() -> Path:
    """Where the OpenAPI documents are: ``MARKETO_OPENAPI_DIR`` if set, else the copy in the package."""
    configured = os.environ.get("MARKETO_OPENAPI_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parent.parent / "data" / "marketo-openapi"


@functools.lru_cache(maxsize=4)
def load_specs(directory: str | None = None) -> tuple[dict[str, Any], ...]:
    """The three documents, parsed (cached per directory)."""
    base = Path(directory) if directory else spec_dir()
    missing = [name for name in SPEC_FILES if not (base / name).is_file()]
    if missing:
        raise FileNotFoundError(f"Marketo OpenAPI documents {missing} not found in {base}: reinstall the "
                                "package, or point MARKETO_OPENAPI_DIR at a folder holding them")
    return tuple(json.loads((base / name).read_text(encoding="utf-8")) for name in SPEC_FILES)


@functools.lru_cache(maxsize=1)
def _templates() -> list[tuple[re.Pattern[str], str, int]]:
    found = []
    for index, spec in enumerate(load_specs()):
        for template in spec["paths"]:
            regex = re.sub(r"\\\{(\w+)\\\}", r"[^/]+", re.escape(template))
            literal = len(re.sub(r"\{\w+\}", "", template))
            found.append((re.compile(f"^{regex}$"), template, index, literal))
    # the most literal template wins: program/byName.json before program/{id}.json
    found.sort(key=lambda item: -item[3])
    return [(pattern, template, index) for pattern, template, index, _ in found]


def find_operation(method: str, path: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    """``(spec, operation, path_template)`` documenting ``method path`` (a path or a full URL).

    Raises :class:`ContractError` when no document has that path and method.
    """
    path = urlsplit(path).path or path
    for pattern, template, index in _templates():
        if pattern.match(path):
            spec = load_specs()[index]
            operation = spec["paths"][template].get(method.lower())
            if operation is not None:
                return spec, operation, template
    raise ContractError(f"{method.upper()} {path}: no such operation in the Marketo OpenAPI documents")


def resolve(spec: dict[str, Any], node: Any) -> Any:
    """``node`` with its ``$ref``s followed to the definition they name."""
    while isinstance(node, dict) and "$ref" in node:
        node = spec["definitions"][node["$ref"].split("/")[-1]]
    return node


def declared_parameters(spec: dict[str, Any], operation: dict[str, Any]) -> dict[str, dict[str, bool]]:
    """Declared parameter names by location (query, path, formData, body = the body schema's properties),
    each mapped to whether it is required."""
    declared: dict[str, dict[str, bool]] = {"query": {}, "path": {}, "formData": {}, "body": {}, "header": {}}
    for parameter in operation.get("parameters", []):
        parameter = resolve(spec, parameter)
        if parameter["in"] == "body":
            schema = resolve(spec, parameter.get("schema", {}))
            required = set(schema.get("required", [])) if parameter.get("required") else set()
            for name in schema.get("properties", {}):
                declared["body"][name] = name in required
        else:
            declared[parameter["in"]][parameter["name"]] = bool(parameter.get("required"))
    return declared


def check_request(method: str, url: str, params: dict[str, Any] | None = None,
                  body: dict[str, Any] | str | bytes | None = None, files: dict[str, Any] | None = None,
                  content_type: str | None = None) -> None:
    """Raise :class:`ContractError` unless the request matches a documented operation and its parameters.

    ``params`` are extra query parameters (as given to requests); ``body`` is the JSON object or the
    form fields (a dict, or an urlencoded string); ``files`` names multipart file parts;
    ``content_type``, when given for a request with a body, must be one the operation consumes.
    """
    query_values = {**parse_qs(urlsplit(url).query, keep_blank_values=True),
                    **{k: [str(v)] for k, v in (params or {}).items()}}
    form_body = (content_type or "").split(";")[0].strip().lower() == "application/x-www-form-urlencoded"
    if isinstance(body, (str, bytes)) and form_body:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        body = {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}
    in_form = isinstance(body, dict) and str(body.get("_method", "")).upper() == "GET" and form_body
    body_get = method.upper() == "POST" and (query_values.get("_method", [""])[0].upper() == "GET" or in_form)
    if body_get:
        # Marketo's body-carrying GET (documented for URLs over 8 KB): _method=GET in the URL or a form
        # body; a form body's fields are the query parameters, a JSON body (compound keys) stays a body
        method = "GET"
        query_values.pop("_method", None)
        if form_body and isinstance(body, dict):
            query_values.update({k: [str(v)] for k, v in body.items() if k != "_method"})
            body = None
    spec, operation, template = find_operation(method, url)
    declared = declared_parameters(spec, operation)
    errata = PARAMETER_ERRATA.get((method.upper(), template), frozenset())
    query = set(query_values)
    problems = [f"query parameter {n!r}" for n in sorted(query - set(declared["query"]) - errata)]
    spelled = {n.lower() for n in query & errata}  # an errata spelling stands in for the spec's one
    problems += [f"missing required query parameter {n!r}" for n, req in declared["query"].items()
                 if req and n not in query and n.lower() not in spelled and not body_get]
    media = (content_type or "").split(";")[0].strip().lower()
    consumes = operation.get("consumes") or spec.get("consumes") or []
    if media and (body or files) and media not in consumes:
        problems.append(f"content type {media!r} (the operation consumes {consumes})")
    if isinstance(body, (str, bytes)):
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        try:
            body = json.loads(text)
        except ValueError:
            body = {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}
    sent = set(body or {}) | set(files or {})
    allowed = set(declared["body"]) | set(declared["formData"])
    problems += [f"body/form parameter {n!r}" for n in sorted(sent - allowed - errata)]
    required = {n for n, req in {**declared["body"], **declared["formData"]}.items() if req}
    if body is not None or files:
        problems += [f"missing required body/form parameter {n!r}" for n in sorted(required - sent)]
    if problems:
        raise ContractError(f"{method.upper()} {template}: not in the spec: " + "; ".join(problems))


def check_prepared(request: Any) -> None:
    """:func:`check_request` for a ``requests.PreparedRequest``: the exact request a client sent.

    Decodes JSON, urlencoded and multipart bodies (multipart parts with a filename count as files).
    """
    content_type = request.headers.get("Content-Type", "") or ""
    body: Any = request.body
    files: dict[str, Any] | None = None
    if body is not None and content_type.startswith("multipart/form-data"):
        raw = body if isinstance(body, bytes) else body.encode("utf-8")
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw)
        fields: dict[str, Any] = {}
        files = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            (files if part.get_filename() else fields)[str(name)] = True
        body = fields
    check_request(request.method, request.url, body=body, files=files, content_type=content_type or None)


def response_hook(response: Any, *args: Any, **kwargs: Any) -> Any:
    """A requests response hook that raises :class:`ContractError` for a request outside the spec.

    ``session.hooks["response"].append(contract.response_hook)`` checks every call a client makes.
    """
    check_prepared(response.request)
    return response


def _tolerant(spec: dict[str, Any], node: Any, top: bool, depth: int = 0, nullable: bool = True) -> Any:
    """Swagger 2 schema -> JSON Schema with the tolerance described in the module docstring."""
    node = resolve(spec, node)
    if not isinstance(node, dict) or depth > 30:
        return {}
    kind = node.get("type")
    if kind == "file" or (kind == "object" and "properties" not in node and "additionalProperties" not in node):
        return {}
    out: dict[str, Any] = {}
    if kind:
        out["type"] = [kind, "null"] if nullable and not top else kind
    if "items" in node:
        out["items"] = _tolerant(spec, node["items"], False, depth + 1)
    if "properties" in node:
        out["properties"] = {k: _tolerant(spec, v, False, depth + 1, nullable=not top)
                             for k, v in node["properties"].items()}
        if top and node.get("required"):
            out["required"] = list(node["required"])
    if isinstance(node.get("additionalProperties"), dict):
        out["additionalProperties"] = _tolerant(spec, node["additionalProperties"], False, depth + 1)
    return out


def response_schema(method: str, path: str) -> dict[str, Any]:
    """The tolerant JSON Schema of the operation's 200 response (``{}`` when it documents none)."""
    spec, operation, _ = find_operation(method, path)
    response = operation.get("responses", {}).get("200", {})
    return _tolerant(spec, response.get("schema", {}), True)


def check_response(method: str, path: str, payload: Any) -> None:
    """Raise :class:`ContractError` unless ``payload`` validates against the 200-response schema."""
    schema = response_schema(method, path)
    validator = jsonschema.Draft4Validator(schema)
    problems = sorted(validator.iter_errors(payload), key=lambda e: list(e.absolute_path))
    if problems:
        details = "; ".join(f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in problems[:5])
        raise ContractError(f"{method.upper()} {path}: response does not match the spec: {details}")
