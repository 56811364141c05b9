"""``MarketoApp``: the emulated Marketo instance served by :class:`~provisioner.sandbox.httpserver.SandboxServer`.

It authenticates (client credentials → bearer token), enforces Marketo's limits (rate, concurrency,
daily quota, batch and body sizes, permissions), answers in Marketo's envelope and dispatches to
the handlers listed in :mod:`.routes`. Its data is one JSON-serialisable dict (``snapshot``/``restore``).
"""

from __future__ import annotations

import collections
import datetime as _dt
import hashlib
import hmac
import json
import threading
import uuid
from typing import Any
from urllib.parse import urlencode

from ...clock import Clock, SystemClock
from ..httpserver import Request, Response
from . import errors
from .admin import handle_admin
from .bodytypes import check_body
from .bulk import BulkWorkers
from .config import MarketoConfig
from .context import CallContext
from .errors import ApiError
from .race import Contention
from .routes import FORM, IDENTITY_PATH, ROUTES, Route, match, served
from .state import new_state, next_id

__all__ = ["MarketoApp", "MarketoConfig"]

#: Marketo's daily quota resets at midnight US Central Standard Time.
_CST = _dt.timezone(_dt.timedelta(hours=-6))
#: Marketo answers HTTP 414 when a GET request's URI exceeds 8 KB.
MAX_URI_BYTES = 8 * 1024
_CONTENT_TYPES = {"json": "application/json", "form": FORM,
                  "multipart": "multipart/form-data"}


def _digest(token: str) -> str:
    """What the state keeps of an access token (a state file never holds a usable token)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class MarketoApp:
    """The emulated instance (a :class:`~provisioner.sandbox.httpserver.SandboxApp`)."""

    #: Faults it can inject besides dropped connections: HTTP 502 and Marketo's retryable codes.
    fault_kinds: tuple[str, ...] = ("502", "604", "606", "608", "611", "615", "713")
    #: Every operation served (the contract test enumerates it).
    routes: tuple[Route, ...] = ROUTES

    def __init__(self, config: MarketoConfig | None = None, ui_url: str = "https://app-sandbox.marketo.com",
                 clock: Clock | None = None) -> None:
        self.config = config or MarketoConfig()
        #: Token lifetimes, the rate window and the quota day run on it (``/__sandbox/clock`` moves it).
        self.clock: Clock = clock or SystemClock()
        self.ui_url = ui_url
        self.lock = threading.RLock()
        self.state: dict[str, Any] = new_state(self.config.channels)
        self._window: collections.deque[float] = collections.deque()
        self._quota_day: _dt.date | None = None
        self._quota_used = 0
        #: Calls refused for Marketo's limits by code (606 window, 615 concurrency, 607 quota), injected faults
        #: not included: what a client that keeps to the limits never meets (``GET /__sandbox/stats``).
        self.refused: collections.Counter[str] = collections.Counter()
        #: The token handed out until it expires; kept in memory only (the state holds digests).
        self._current_token: tuple[str, float] | None = None
        #: Parameter names each route's handler has read so far (checked against the specs).
        self.param_reads: dict[str, set[str]] = collections.defaultdict(set)
        self.bulk = BulkWorkers(self)
        self.contention = Contention(self.lock, self.config.race_window_s)

    # -- SandboxApp protocol --------------------------------------------------------
    def route_name(self, request: Request) -> str:
        """``"METHOD /spec/path/{template}"``, or ``"METHOD (unknown route)"`` for paths not served."""
        route, _, _ = match(served(request).method, request.path)
        return route.name if route else f"{request.method} (unknown route)"

    def faultable(self, request: Request) -> bool:
        """Every API route may fault, the identity endpoint included; the ``/__sandbox/`` routes never."""
        return not request.path.startswith("/__sandbox/")

    def fault_response(self, kind: str, request: Request) -> Response:
        """HTTP 502, or a Marketo error code in an HTTP 200 envelope (identity has no envelope: 502)."""
        if kind == "502" or request.path == IDENTITY_PATH:
            return Response.text("<html><body><h1>502 Bad Gateway</h1></body></html>", 502, "text/html")
        messages = {"604": errors.TIMED_OUT, "608": errors.UNAVAILABLE, "611": errors.SYSTEM_ERROR,
                    "615": errors.CONCURRENCY, "713": errors.TRANSIENT,
                    "606": ("606", errors.rate_limit_message(self.config.rate_limit_calls,
                                                             self.config.rate_limit_window_s))}
        with self.lock:
            return self._failure(ApiError.of(messages[kind]))

    def handle(self, request: Request) -> Response:
        """Serve one API call: identity, or authenticate → limits → permission → handler → envelope."""
        sent, request = request, served(request)
        route, path_params, other_method = match(request.method, request.path)
        limit = self.config.max_bulk_file_bytes if route and route.body == "multipart" else self.config.max_body_bytes
        if len(sent.body) > limit:
            return Response.text("Request Entity Too Large", 413)
        if len(sent.path) + len(urlencode(sent.query, doseq=True)) + 1 > MAX_URI_BYTES:
            return Response.text("Request-URI Too Long", 414)
        if route is not None and route.path == IDENTITY_PATH:
            return self._identity(request)
        with self.lock:
            try:
                if route is None:
                    raise ApiError.of(errors.METHOD_NOT_SUPPORTED if other_method else errors.NOT_FOUND)
                self._authenticate(request)
                self._admit(request)
                if route.permission and route.permission not in self.config.permissions:
                    raise ApiError.of(errors.ACCESS_DENIED)
                self._check_content_type(route, request)
                ctx = CallContext(request, path_params)
                if route.body == "json":
                    check_body(route.method, route.path, ctx.body())
                try:
                    reply = route.handler(self, ctx)
                finally:
                    self.param_reads[route.name] |= ctx.reads
            except ApiError as exc:
                return self._failure(exc)
            if isinstance(reply, Response):
                return reply
            return self._success(reply)

    @property
    def race(self) -> bool:
        """Race mode (``sandbox serve --race``): concurrent upserts of one key race as on a real instance."""
        return self.config.race

    @race.setter
    def race(self, on: Any) -> None:
        """True/False, or a runtime's row-lock object for race mode: its ``hold_seconds`` becomes the window."""
        self.config.race = bool(on)
        hold = getattr(on, "hold_seconds", None)
        if hold is not None:
            self.contention.window_s = float(hold)

    def error_response(self, status: int, code: str, message: str) -> Response:
        """What never reaches :meth:`handle` (malformed HTTP) or an emulator bug, as Marketo answers it
        (the HTTP server's optional hook): 413/414 as plain HTTP errors, a failure inside the instance as
        611 "System error" in an HTTP 200 envelope, anything else as its status with Marketo's envelope."""
        if status in (413, 414):
            return Response.text(message, status)
        with self.lock:
            if status >= 500:
                return self._failure(ApiError.of(errors.SYSTEM_ERROR))
            failure = self._failure(ApiError(str(status), message))
        failure.status = status
        return failure

    def stats_extra(self) -> dict[str, Any]:
        """Added to ``GET /__sandbox/stats``: the calls refused for the instance's limits, by code."""
        with self.lock:
            return {"refused": dict(sorted(self.refused.items()))}

    def reset_stats_extra(self) -> None:
        with self.lock:
            self.refused.clear()

    def handle_admin(self, request: Request) -> Response:
        """Serve ``/__sandbox/...`` (see :mod:`.admin`; not counted in stats, never faulted)."""
        return handle_admin(self, request)

    def forget_current_token(self) -> None:
        """Hand out a new token on the next identity call (after a restore or a forced expiry)."""
        self._current_token = None

    def close(self) -> None:
        """Stop the bulk import workers (the runtime calls this when the sandbox stops)."""
        self.bulk.stop()

    # -- state ----------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """The whole instance state as plain JSON data (for ``--state FILE``)."""
        with self.lock:
            return json.loads(json.dumps(self.state))

    def restore(self, state: dict[str, Any]) -> None:
        """Replace the state with a snapshot; unfinished imports are queued again."""
        with self.lock:
            self.state = json.loads(json.dumps(state))
            self.forget_current_token()  # the restored state may not know it
            unfinished = [b for b in self.state["batches"].values() if b["status"] in ("Queued", "Importing")]
            for batch in unfinished:
                batch["status"] = "Queued"
            if unfinished:
                self.bulk.notify()

    # -- identity ---------------------------------------------------------------------
    def _identity(self, request: Request) -> Response:
        client_id, secret = request.arg("client_id"), request.arg("client_secret")
        if request.arg("grant_type") != "client_credentials":
            return Response.json({"error": "unsupported_grant_type",
                                  "error_description": "grant_type must be client_credentials"}, 400)
        if not client_id or not secret:
            return Response.json({"error": "invalid_request",
                                  "error_description": "client_id and client_secret are required"}, 400)
        if not (hmac.compare_digest(client_id.encode(), self.config.client_id.encode())
                and hmac.compare_digest(secret.encode(), self.config.client_secret.encode())):
            return Response.json({"error": "unauthorized", "error_description": "Bad client credentials"}, 401)
        now = self.clock.time()
        with self.lock:
            if self._current_token is None or self._current_token[1] - now < 1:
                token = f"{uuid.uuid4()}:sbx"
                self._current_token = (token, now + self.config.token_ttl_seconds)
                tokens = self.state["tokens"]
                tokens[_digest(token)] = {"expires_at": self._current_token[1]}
                for old in [t for t, v in tokens.items() if v["expires_at"] < now - 86400]:
                    del tokens[old]
            token, expires_at = self._current_token
        return Response.json({"access_token": token, "token_type": "bearer", "expires_in": int(expires_at - now),
                              "scope": self.config.api_user})

    def _authenticate(self, request: Request) -> None:
        """The bearer token of the ``Authorization`` header, and only there.

        Adobe removed the ``access_token`` query parameter (announced for 2026-01-31, enforced since
        2026-07-31): a token in the URL is not read, so the call has no token and gets 600, the code
        Adobe documents for a call that carries none.
        """
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        if not token:
            raise ApiError.of(errors.EMPTY_TOKEN)
        known = self.state["tokens"].get(_digest(token))
        if known is None:
            raise ApiError.of(errors.INVALID_TOKEN)
        if known["expires_at"] <= self.clock.time():
            raise ApiError.of(errors.EXPIRED_TOKEN)

    # -- limits ------------------------------------------------------------------------
    def _admit(self, request: Request) -> None:
        """Concurrency (615), rolling rate window (606) and daily quota (607); admitted calls count."""
        if request.in_flight > self.config.max_concurrent:
            self.refused["615"] += 1
            raise ApiError.of(errors.CONCURRENCY)
        now = self.clock.monotonic()
        while self._window and now - self._window[0] >= self.config.rate_limit_window_s:
            self._window.popleft()
        if len(self._window) >= self.config.rate_limit_calls:
            self.refused["606"] += 1
            raise ApiError("606", errors.rate_limit_message(self.config.rate_limit_calls,
                                                            self.config.rate_limit_window_s))
        today = _dt.datetime.fromtimestamp(self.clock.time(), _CST).date()
        if today != self._quota_day:
            self._quota_day, self._quota_used = today, 0
        if self._quota_used >= self.config.daily_quota:
            self.refused["607"] += 1
            raise ApiError.of(errors.DAILY_QUOTA)
        self._window.append(now)
        self._quota_used += 1

    def calls_today(self) -> tuple[_dt.date, int]:
        """The quota day (US Central) and the calls admitted on it (what ``stats/usage.json`` reports)."""
        with self.lock:
            today = _dt.datetime.now(_CST).date()
            return today, self._quota_used if self._quota_day == today else 0

    @staticmethod
    def _check_content_type(route: Route, request: Request) -> None:
        if route.body == "none" or not request.body:
            if route.body in ("json", "multipart") and not request.body:
                raise ApiError.of(errors.INVALID_CONTENT_TYPE if route.body == "multipart" else errors.INVALID_JSON)
            return
        sent = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if sent != _CONTENT_TYPES[route.body]:
            raise ApiError(errors.INVALID_CONTENT_TYPE[0],
                           f"{errors.INVALID_CONTENT_TYPE[1]}: expected {_CONTENT_TYPES[route.body]}")

    # -- envelope ----------------------------------------------------------------------
    def _request_id(self) -> str:
        return f"{next_id(self.state, 'request'):x}#{uuid.uuid4().hex[:11]}"

    def _success(self, reply: dict[str, Any]) -> Response:
        body: dict[str, Any] = {"requestId": self._request_id(), "success": True, "errors": [],
                                "warnings": reply.get("warnings", [])}
        for key in ("result", "nextPageToken", "moreResult"):
            if reply.get(key) is not None:
                body[key] = reply[key]
        return Response.json(body)

    def _failure(self, exc: ApiError) -> Response:
        return Response.json({"requestId": self._request_id(), "success": False, "warnings": [],
                              "errors": [{"code": exc.code, "message": exc.message}]})
