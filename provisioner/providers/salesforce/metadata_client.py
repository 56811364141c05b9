"""Metadata API client: zeep with Salesforce's own WSDL (shipped in simple-salesforce), on our session.

Why not ``sf.mdapi.X.create()``: it folds every per-component SaveResult into one Exception.
Here each call returns one :class:`ComponentResult` per component (writes are partial since
API 34.0), batches to the 10-components-per-call limit, and reads missing components as None.
The WSDL, trimmed to the operations and types used, is parsed once per process (≈0.05 s) and shared.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import requests

from . import retry, wsdl

MAX_COMPONENTS = 10  # create/read/update/upsert/delete
METADATA_NS = "http://soap.sforce.com/2006/04/metadata"

_document_lock = threading.Lock()
_document: Any = None


def _wsdl_document(transport: Any, settings: Any) -> Any:
    """The parsed metadata WSDL (trimmed to what the tool calls: see :mod:`.wsdl`), shared by all clients
    in this process."""
    global _document
    with _document_lock:
        if _document is None:
            from zeep.wsdl import Document

            _document = Document(wsdl.trimmed_wsdl().as_uri(), transport, settings=settings)
        return _document


@dataclass
class ComponentResult:
    """The outcome of one component of a write call."""

    full_name: str
    success: bool
    created: bool = False
    errors: list[dict[str, Any]] = field(default_factory=list)

    def message(self) -> str:
        return "; ".join(f"{e.get('statusCode')}: {e.get('message')}" +
                         (f" (fields: {', '.join(e['fields'])})" if e.get("fields") else "") for e in self.errors)


def chunks(items: Sequence[Any], size: int = MAX_COMPONENTS) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def to_plain(value: Any) -> Any:
    """zeep objects → dicts/lists/scalars, dropping unset (None) values and empty lists."""
    from zeep.helpers import serialize_object

    return _strip(serialize_object(value, dict))


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if v is not None and v != [] and not k.startswith("_")}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


class MetadataClient:
    """readMetadata / upsertMetadata / deleteMetadata / listMetadata with per-component results."""

    def __init__(self, http: requests.Session, instance_url: str, api_version: str,
                 token: Callable[[], str], relogin: Callable[[], None] | None = None) -> None:
        from zeep import Client, Settings
        from zeep.transports import Transport

        settings = Settings(strict=False, xml_huge_tree=False, forbid_dtd=True, forbid_entities=True,
                            forbid_external=True)
        transport = Transport(session=http, timeout=120, operation_timeout=120)
        self._client = Client(_wsdl_document(transport, settings), transport=transport, settings=settings)
        self._endpoint = f"{instance_url}/services/Soap/m/{api_version}"
        self._service = self._client.create_service(f"{{{METADATA_NS}}}MetadataBinding", self._endpoint)
        self._header_type = self._client.get_element(f"{{{METADATA_NS}}}SessionHeader")
        self._token = token
        self._relogin = relogin

    def make(self, type_name: str, **values: Any) -> Any:
        """A zeep metadata object of ``type_name`` (CustomObject, CustomField, PermissionSet...)."""
        return self._client.get_type(f"{{{METADATA_NS}}}{type_name}")(**values)

    def _call(self, operation: str, *args: Any, what: str, safe: bool = True) -> Any:
        if operation not in wsdl.OPERATIONS:
            raise ValueError(f"{operation} is not in the trimmed WSDL: add it to wsdl.OPERATIONS")

        def run() -> Any:
            header = self._header_type(sessionId=self._token())
            try:
                return getattr(self._service, operation)(*args, _soapheaders=[header])
            except AttributeError:  # zeep's answer to an empty or non-XML reply: not a Metadata API
                from ..base import ConnectionError_
                raise ConnectionError_(f"{what}: {self._endpoint} answered with something that is not a SOAP "
                                       "message: check the instance URL (SF_INSTANCE_URL, or the org you log in to)") \
                    from None
        return retry.call(run, what=what, relogin=self._relogin)

    def read(self, type_name: str, full_names: Sequence[str]) -> dict[str, dict[str, Any] | None]:
        """Components by full name (None when missing), 10 per call."""
        found: dict[str, dict[str, Any] | None] = {name: None for name in full_names}
        for batch in chunks(list(full_names)):
            records = self._call("readMetadata", type_name, list(batch), what=f"read {type_name}")
            for record in as_list(records):  # one name may come back as an object, several as a list
                data = to_plain(record)
                name = (data or {}).get("fullName")
                if name:  # a missing component comes back with an empty fullName
                    key = next((n for n in batch if n.lower() == name.lower()), name)
                    found[key] = data
        return found

    def upsert(self, components: Sequence[Any]) -> list[ComponentResult]:
        """Create or update (idempotent, so safe to retry after a dropped reply), 10 per call."""
        return self._write("upsertMetadata", components)

    def delete(self, type_name: str, full_names: Sequence[str]) -> list[ComponentResult]:
        """Delete by full name; an already-missing component counts as deleted (a retried delete)."""
        results: list[ComponentResult] = []
        for batch in chunks(list(full_names)):
            raw = self._call("deleteMetadata", type_name, list(batch), what=f"delete {type_name}")
            for item in as_list(raw):
                result = _result(item)
                if not result.success and all(e.get("statusCode") == "INVALID_CROSS_REFERENCE_KEY"
                                               for e in result.errors):
                    result = ComponentResult(result.full_name, True)
                results.append(result)
        return results

    def _write(self, operation: str, components: Sequence[Any]) -> list[ComponentResult]:
        results: list[ComponentResult] = []
        for batch in chunks(list(components)):
            raw = self._call(operation, list(batch), what=operation)
            results.extend(_result(item) for item in as_list(raw))
        return results

    def list(self, queries: Sequence[tuple[str, str | None]]) -> list[dict[str, Any]]:
        """listMetadata, 3 queries per call (type, folder)."""
        out: list[dict[str, Any]] = []
        for batch in chunks(list(queries), 3):
            query_type = self._client.get_type(f"{{{METADATA_NS}}}ListMetadataQuery")
            raw = self._call("listMetadata", [query_type(type=t, folder=f) for t, f in batch],
                             float(self._service._binding_options["address"].rsplit("/", 1)[-1]),
                             what="listMetadata")
            out.extend(to_plain(item) for item in as_list(raw))
        return out


def as_list(raw: Any) -> list[Any]:
    """None → [], one item → [item], a list as it is (SOAP returns one record unwrapped)."""
    if raw is None:
        return []
    return raw if isinstance(raw, list) else [raw]


def _result(item: Any) -> ComponentResult:
    data = to_plain(item) or {}
    errors = data.get("errors") or []
    errors = errors if isinstance(errors, list) else [errors]
    return ComponentResult(data.get("fullName", ""), bool(data.get("success")), bool(data.get("created")),
                           [{"statusCode": e.get("statusCode"), "message": e.get("message"),
                             "fields": e.get("fields") or []} for e in errors])
