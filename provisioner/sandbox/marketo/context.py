"""One API call as a handler sees it: path values, parameters read (and remembered), parsed bodies."""

from __future__ import annotations

import json
import re
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qs

from ..httpserver import Request
from . import errors
from .errors import ApiError


class CallContext:
    """Parameter access for a handler; every name read is recorded so the contract test can check it."""

    def __init__(self, request: Request, path_params: dict[str, str]) -> None:
        self.request = request
        self.path_params = path_params
        self.reads: set[str] = set()
        self._form: dict[str, list[str]] | None = None
        self._json: Any = None
        self._parts: dict[str, bytes] | None = None

    # -- query string -------------------------------------------------------
    def query(self, name: str, default: str | None = None) -> str | None:
        """First value of a query parameter."""
        self.reads.add(name)
        return self.request.arg(name, default)

    def query_list(self, name: str) -> list[str]:
        """A comma-separated (or repeated) query parameter as a list of non-empty values."""
        self.reads.add(name)
        values: list[str] = []
        for raw in self.request.query.get(name, []):
            values.extend(v.strip() for v in raw.split(",") if v.strip())
        return values

    def query_int(self, name: str, default: int) -> int:
        """An integer query parameter (1001, Marketo's code for a type mismatch, when it is not one)."""
        value = self.query(name)
        if value in (None, ""):
            return default
        try:
            return int(value)
        except ValueError:
            raise ApiError(errors.INVALID_VALUE, f"Invalid value '{value}' for '{name}'. Required of type 'integer'")

    # -- bodies -------------------------------------------------------------
    def form(self, name: str) -> str | None:
        """A form parameter: a field of the application/x-www-form-urlencoded body, else of the query string.

        Marketo reads form parameters as a Java servlet does, from either place (marketorestpython sends
        create_program's and clone_program's parameters in the query string with an empty body).
        """
        self.reads.add(name)
        if self._form is None:
            self._form = parse_qs(self.request.body.decode("utf-8", "replace"), keep_blank_values=True)
        values = self._form.get(name) or self.request.query.get(name)
        return values[0] if values else None

    def form_json(self, name: str) -> Any:
        """A form field that carries JSON (Marketo's ``folder={"id":12,"type":"Folder"}``), or None.

        Read as leniently as Marketo does: single quotes and bare words are accepted
        (marketorestpython sends ``folder={'id': 12, 'type': Folder}``).
        """
        raw = self.form(name)
        if raw in (None, ""):
            return None
        try:
            return json.loads(raw)
        except ValueError:
            pass
        try:
            return json.loads(_strict_json(raw))
        except ValueError:
            raise ApiError(errors.INVALID_DATA, f"Invalid JSON in '{name}'")

    def body(self) -> dict[str, Any]:
        """The JSON body (609 when it is not a JSON object)."""
        if self._json is None:
            try:
                self._json = json.loads(self.request.body.decode("utf-8") or "{}")
            except ValueError:
                raise ApiError.of(errors.INVALID_JSON)
            if not isinstance(self._json, dict):
                raise ApiError.of(errors.INVALID_JSON)
        return self._json

    def field(self, name: str, default: Any = None) -> Any:
        """A top-level key of the JSON body."""
        self.reads.add(name)
        return self.body().get(name, default)

    def input_list(self, name: str, max_records: int) -> list[Any]:
        """The body's record list (``input``/``attributes``): required, a list, at most ``max_records``."""
        records = self.field(name)
        if records is None or records == []:
            raise ApiError(errors.MISSING_PARAMETER, f"Missing value for required parameter '{name}'")
        if not isinstance(records, list):
            raise ApiError(errors.INVALID_DATA, f"'{name}' must be a list")
        if len(records) > max_records:
            raise ApiError(errors.INVALID_DATA, f"Batch size {len(records)} exceeds the limit of {max_records}")
        return records

    def file(self, name: str = "file") -> bytes:
        """A file part of a multipart/form-data body (613 when the body is not valid multipart)."""
        self.reads.add(name)
        if self._parts is None:
            self._parts = _parse_multipart(self.request)
        if name not in self._parts:
            raise ApiError(errors.MISSING_PARAMETER, f"Missing value for required parameter '{name}'")
        return self._parts[name]


_LENIENT_TOKEN = re.compile(r"""'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|([A-Za-z_][\w.\-]*)|([^'"A-Za-z_]+)""")


def _strict_json(text: str) -> str:
    """A lenient JSON text (single-quoted strings, bare words) rewritten as strict JSON."""
    out = []
    for m in _LENIENT_TOKEN.finditer(text):
        single, double, word, other = m.groups()
        if single is not None:
            out.append(json.dumps(single.replace("\\'", "'")))
        elif double is not None:
            out.append(f'"{double}"')
        elif word is not None:
            out.append(word if word in ("true", "false", "null") else json.dumps(word))
        else:
            out.append(other)
    return "".join(out)


def _parse_multipart(request: Request) -> dict[str, bytes]:
    content_type = request.headers.get("content-type", "")
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + request.body)
    if not message.is_multipart():
        raise ApiError.of(errors.INVALID_MULTIPART)
    parts: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            parts[str(name)] = part.get_payload(decode=True) or b""
    return parts
