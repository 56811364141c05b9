"""SalesforceApp: the emulated org as a :class:`~provisioner.sandbox.httpserver.SandboxApp`.

Routes:
- ``POST /services/oauth2/token``        OAuth (password, client_credentials, JWT bearer)
- ``GET  /services/oauth2/userinfo``, ``GET /id/<org>/<user>``  who the token belongs to
- ``POST /services/Soap/u/<ver>``        SOAP partner login
- ``POST /services/Soap/m/<ver>[/<org>]`` Metadata API
- ``/services/data[/vXX.X/...]``         REST data API and Bulk API 2.0
- ``/__sandbox/...``                      admin routes (see :mod:`.admin`; never counted, never faulted)
"""

from __future__ import annotations

import dataclasses
import re
from urllib.parse import urlencode
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ...clock import Clock
from ..credentials import SalesforceCredentials, demo_credentials
from ..httpserver import Request, Response
from ..race import RowLocks
from . import faults
from .admin import AdminRoutes
from .auth import DEFAULT_SESSION_SECONDS, Authenticator
from .metadata_api import MetadataService, operation_name
from .rest import NOT_FOUND, RestService, method_not_allowed, split_data_path
from .store import ORG_ID, OrgStore

REST_URI_LIMIT = 16_384
#: methods the org's APIs answer; anything else (TRACE, OPTIONS, CONNECT, made-up verbs) is 405
ALLOWED_METHODS = ("GET", "HEAD", "POST", "PATCH", "PUT", "DELETE")
_SOAP = re.compile(r"^/services/Soap/([um])/(\d+\.\d)(/.*)?$")


@dataclass
class SalesforceConfig:
    """How the emulated org is set up."""

    credentials: SalesforceCredentials = field(default_factory=demo_credentials)
    jwt_certificate: Path | None = None
    api_daily_limit: int = 100_000
    session_seconds: float = DEFAULT_SESSION_SECONDS
    #: race mode: concurrent upserts of one external id collide (see :mod:`provisioner.sandbox.race`)
    race: RowLocks | None = None
    organization_id: str = ORG_ID  # two sandboxes with different ids are two orgs (saved plans are bound to one)


class SalesforceApp:
    """Routes HTTP requests to auth, Metadata API, REST and Bulk 2.0 over one :class:`OrgStore`."""

    fault_kinds: tuple[str, ...] = faults.FAULT_KINDS

    def __init__(self, config: SalesforceConfig | None = None,
                 on_save: Callable[[], str | None] | None = None, clock: Clock | None = None) -> None:
        self.config = config or SalesforceConfig()
        self.store = OrgStore(api_daily_limit=self.config.api_daily_limit)
        self.auth = Authenticator(self.config.credentials, self.config.jwt_certificate, self.config.session_seconds,
                                  self.config.organization_id, clock)
        self.metadata = MetadataService(self.store, self.auth)
        self.rest = RestService(self.store, self.auth, race=self.config.race)
        self.admin_routes = AdminRoutes(self, on_save)

    # -- state ---------------------------------------------------------------------
    @property
    def race(self) -> RowLocks | None:
        """The row locks of race mode, or None (the switch :class:`~provisioner.sandbox.runtime.Sandbox` sets)."""
        return self.rest.race

    @race.setter
    def race(self, locks: RowLocks | None) -> None:
        self.rest.race = locks

    def snapshot(self) -> dict[str, Any]:
        """The org's state as JSON-ready data."""
        return self.store.snapshot()

    def restore(self, data: dict[str, Any]) -> None:
        """Load a :meth:`snapshot`."""
        self.store.restore(data)

    # -- SandboxApp protocol -------------------------------------------------------
    def route_name(self, request: Request) -> str:
        """Calls grouped by operation, e.g. ``POST /services/Soap/m readMetadata``."""
        path, method = request.path, request.method
        if path.startswith("/services/oauth2/"):
            return f"{method} {path.rstrip('/')}"
        m = _SOAP.match(path)
        if m:
            return f"{method} /services/Soap/u login" if m.group(1) == "u" else \
                f"{method} /services/Soap/m {operation_name(request.body)}"
        if path.startswith("/id/"):
            return f"{method} /id"
        if path.startswith("/services/data"):
            version, parts = split_data_path(path)
            if version is None or not parts:
                return f"{method} /services/data"
            return f"{method} /services/data/{_data_route(parts)}"
        return f"{method} other"

    def handle(self, request: Request) -> Response:
        """Serve one API request."""
        base_url = f"https://{request.headers.get('host', '127.0.0.1')}"
        path = request.path
        if request.method not in ALLOWED_METHODS:
            return method_not_allowed(request.method)
        if path.rstrip("/") == "/services/oauth2/token":
            if request.method != "POST":
                return Response.json(NOT_FOUND, status=404)
            return self.auth.oauth_token(request, base_url)
        if path.rstrip("/") == "/services/oauth2/userinfo" and request.method in ("GET", "POST"):
            return self.auth.identity(request, base_url, openid=True)
        if path.startswith("/id/") and request.method == "GET":
            return self.auth.identity(request, base_url, openid=False)
        if path.rstrip("/") == "/services/oauth2/userinfo" and request.method == "GET":
            return self.auth.userinfo(request, base_url)
        m = _SOAP.match(path)
        if m and request.method == "POST":
            if m.group(1) == "u":
                return self.auth.soap_login(request, base_url, m.group(2))
            return self.metadata.handle(request)
        if path.startswith("/services/data"):
            if request.method == "HEAD":  # REST resources answer HEAD as GET, headers only (the server drops the body)
                request = dataclasses.replace(request, method="GET")
            too_long = uri_limit_response(request)
            return too_long or self.rest.handle(request)
        return Response.json(NOT_FOUND, status=404)

    def fault_response(self, kind: str, request: Request) -> Response:
        return faults.fault_response(kind, request)

    def faultable(self, request: Request) -> bool:
        """Every API route may fault; sandbox admin routes never do."""
        return not request.path.startswith("/__sandbox/")

    def error_response(self, status: int, code: str, message: str) -> Response:
        """Errors raised before routing (malformed HTTP) and emulator bugs, in the REST error shape."""
        return Response.json([{"errorCode": code, "message": message}], status=status)

    def handle_admin(self, request: Request) -> Response:
        """Serve ``/__sandbox/...`` (not counted in stats, never faulted)."""
        return self.admin_routes.handle(request)


def uri_limit_response(request: Request) -> Response | None:
    """REST limits the URI and URI + headers to 16,384 bytes: 414 URI Too Long, 431 Header Fields Too Large.

    The URI is rebuilt from the parsed query with form encoding (what requests sends), so the
    length matches the client's to within the encoding of unusual characters.
    """
    query = urlencode(request.query, doseq=True)
    uri = len(request.path) + (len(query) + 1 if query else 0)
    if uri > REST_URI_LIMIT:
        return Response.text("URI Too Long", status=414)
    headers = sum(len(k) + len(v) + 4 for k, v in request.headers.items())
    if uri + headers > REST_URI_LIMIT:
        return Response.text("Request Header Fields Too Large", status=431)
    return None


def _data_route(parts: list[str]) -> str:
    """``sobjects/Lead/00Q...`` -> ``sobjects/{id}``: one stats bucket per operation, not per record."""
    head = parts[0]
    if head in ("query", "queryAll"):
        return head if len(parts) == 1 else f"{head}/{{locator}}"
    if head == "composite" and len(parts) >= 2 and parts[1] == "sobjects":
        return "composite/sobjects" if len(parts) == 2 else "composite/sobjects/{type}/{externalIdField}"
    if head == "sobjects":
        if len(parts) == 1:
            return "sobjects"
        if len(parts) == 2:
            return "sobjects/{type}"
        if len(parts) == 3:
            return "sobjects/{type}/describe" if parts[2] == "describe" else "sobjects/{type}/{id}"
        return "sobjects/{type}/{externalIdField}/{value}"
    if head == "jobs" and len(parts) >= 2:
        kind = parts[1] if parts[1] in ("ingest", "query") else "{kind}"
        if len(parts) == 2:
            return f"jobs/{kind}"
        if len(parts) == 3:
            return f"jobs/{kind}/{{id}}"
        return f"jobs/{kind}/{{id}}/{parts[3]}"
    return head
