"""``MarketoClient``: the one client for every Marketo call (assets, schema, and later leads and bulk).

Every request goes through one token cache, one :class:`~.ratelimit.RateLimiter` and one retry loop,
and comes back as the envelope's ``result`` or a typed :class:`~.errors.MarketoError`. The client
secret travels only in the token request's query string (as Marketo's identity API requires) and the
token only in the ``Authorization`` header; neither is ever put in a message, a repr or a log line.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping
from zoneinfo import ZoneInfo

import requests
from urllib3.exceptions import NewConnectionError

from ...clock import SYSTEM_CLOCK, Clock
from ...http import make_session
from . import permissions, redact
from .errors import MarketoError, PermissionMissing, QuotaExceeded, WriteOutcomeUnknown
from .ratelimit import Budget, RateLimiter
from .retry import REJECTED_BEFORE_PROCESSING, RETRYABLE_CODES, TOKEN_CODES, RetryPolicy, is_retryable
from .settings import MarketoSettings

log = logging.getLogger(__name__)

TOKEN_PATH = "/identity/oauth/token"
#: Marketo's daily quota resets at midnight in Marketo's home time zone (US Central).
QUOTA_ZONE = ZoneInfo("America/Chicago")


def quota_reset_after(moment: datetime | None = None) -> datetime:
    """The next midnight America/Chicago after ``moment`` (now by default), when the 607 quota resets."""
    local = (moment or datetime.now(QUOTA_ZONE)).astimezone(QUOTA_ZONE)
    return datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), QUOTA_ZONE)


@dataclass
class PreflightReport:
    """Which permission areas were proven, which are missing (603) and which could not be checked."""

    ok: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unchecked: dict[str, str] = field(default_factory=dict)  # area -> why


class MarketoClient:
    """Authenticated, rate-limited, retrying access to one Marketo instance (thread-safe).

    ``clock`` times the rate window, the token's life and the waits between retries (tests pass a
    simulated one shared with the sandbox)."""

    def __init__(self, settings: MarketoSettings, budget: Budget | None = None, retry: RetryPolicy | None = None,
                 session: requests.Session | None = None, timeout_s: float = 60.0, clock: Clock = SYSTEM_CLOCK) -> None:
        redact.install()  # urllib3 logs request lines, the token request's secret included, at DEBUG
        self.settings = settings
        self.clock = clock
        self.limiter = RateLimiter(budget, clock)
        self.retry = retry or RetryPolicy()
        self.session = session or make_session(settings.ca_bundle, pool_size=max(10, self.limiter.budget.concurrent))
        self.timeout_s = timeout_s
        self._token_lock = threading.Lock()
        self._token: str | None = None
        self._token_expires = 0.0
        self._proven: set[str] = set()
        self._preflight: PreflightReport | None = None
        self._stats_lock = threading.Lock()
        self.calls = 0  # HTTP requests sent, token requests included
        self.retried: Counter[str] = Counter()  # failures retried, by code
        self.token_fetches = 0
        self._rng = random.Random()

    def __repr__(self) -> str:
        return f"MarketoClient(endpoint={self.settings.endpoint!r}, client_id={self.settings.client_id!r})"

    # -- public request methods -----------------------------------------------------
    def get(self, path: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        """GET ``path`` (``/rest/...``); the envelope's ``result`` ([] when Marketo found nothing)."""
        return self.envelope("GET", path, params=params).get("result") or []

    def post_json(self, path: str, body: Any, params: Mapping[str, Any] | None = None, *,
                  idempotent: bool = False) -> list[Any]:
        """POST a JSON body. Say ``idempotent=True`` only when sending it twice does no harm."""
        return self.envelope("POST", path, params=params, json_body=body, idempotent=idempotent).get("result") or []

    def post_form(self, path: str, data: Mapping[str, Any], *, idempotent: bool = False) -> list[Any]:
        """POST an application/x-www-form-urlencoded body (the asset API's writes)."""
        return self.envelope("POST", path, form=data, idempotent=idempotent).get("result") or []

    def post_multipart(self, path: str, files: Mapping[str, Any], data: Mapping[str, Any] | None = None,
                       params: Mapping[str, Any] | None = None, *, idempotent: bool = False) -> list[Any]:
        """POST multipart/form-data (bulk imports): ``files`` as requests takes them."""
        return self.envelope("POST", path, params=params, form=data, files=files,
                             idempotent=idempotent).get("result") or []

    def get_text(self, path: str) -> str:
        """GET a file reply (a bulk import's ``failures.json``/``warnings.json`` are CSV, not envelopes),
        with the same token, limiter and retry rules as :meth:`envelope`; an envelope error raises."""
        url = self.settings.endpoint + path
        attempt, renewals = 0, 0
        while True:
            attempt += 1
            token = self.access_token()
            try:
                with self.limiter.slot():
                    self._bump_calls()
                    response = self.session.get(url, headers={"Authorization": f"Bearer {token}"},
                                                timeout=self.timeout_s)
            except requests.RequestException as exc:
                code, message = transport_failure(exc, self.settings.endpoint)
            else:
                data = _json(response) if "json" in response.headers.get("Content-Type", "") else None
                if response.status_code == 200 and not isinstance(data, dict):
                    return response.text
                if response.status_code != 200:
                    code, message = f"HTTP {response.status_code}", f"HTTP {response.status_code} {response.reason}"
                else:
                    assert isinstance(data, dict)
                    first = (data.get("errors") or [{}])[0]
                    code, message = str(first.get("code", "unknown")), str(first.get("message", "unknown error"))
            if code in TOKEN_CODES and renewals < 2:
                renewals += 1
                self._drop_token(token)
                attempt -= 1
                continue
            if code == "607":
                raise QuotaExceeded(message, quota_reset_after(), path)
            if is_retryable(code, True) and attempt < self.retry.attempts_for(code):
                self._count_retry(code)
                self.clock.sleep(self.retry.delay(attempt, code, self._rng))
                continue
            raise MarketoError(code, message, path)

    def envelope(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json_body: Any = None,
                 form: Mapping[str, Any] | None = None, files: Mapping[str, Any] | None = None,
                 idempotent: bool | None = None) -> dict[str, Any]:
        """The whole successful envelope (for ``nextPageToken``/``moreResult``/``warnings``), or an error.

        GETs are always retried; a POST only on failures Marketo answers before processing, unless
        ``idempotent``. A POST whose outcome is unknown raises :class:`WriteOutcomeUnknown`.
        """
        safe = method == "GET" or bool(idempotent)
        url = self.settings.endpoint + path
        attempt, renewals = 0, 0
        while True:
            attempt += 1
            token = self.access_token()
            code, message, payload = self._send(method, url, token, params, json_body, form, files)
            if code is None:
                area = permissions.area_of(path)
                if area:
                    self._proven.add(area)
                return payload
            if code in TOKEN_CODES and renewals < 2:
                renewals += 1
                self._drop_token(token)
                self._count_retry(code)
                attempt -= 1
                continue
            if code == "607":
                raise QuotaExceeded(message, quota_reset_after(), path)
            if code == "603":
                raise PermissionMissing([permissions.area_of(path) or "an API permission this call needs"], path)
            if is_retryable(code, safe) and attempt < self.retry.attempts_for(code):
                delay = self.retry.delay(attempt, code, self._rng)
                log.info("Marketo %s on %s %s: retrying in %.1fs (attempt %d)", code, method, path, delay, attempt)
                self._count_retry(code)
                self.clock.sleep(delay)
                continue
            maybe_applied = code not in REJECTED_BEFORE_PROCESSING and (
                code in RETRYABLE_CODES or code.startswith("HTTP 5") or code == "connection")
            if maybe_applied and not safe:
                raise WriteOutcomeUnknown(code, f"{message}; the write may or may not have been applied", path)
            raise MarketoError(code, message, path)

    # -- permissions ----------------------------------------------------------------------
    def preflight(self) -> PreflightReport:
        """Check every permission area the tool needs with one cheap read each (areas already proven by
        an earlier successful call are not asked again), and say which are missing."""
        report = PreflightReport()
        for area in permissions.REQUIRED:
            if area in self._proven:
                report.ok.append(area)
                continue
            path, query = permissions.PROBES[area]
            try:
                self.envelope("GET", path, params=query)
                report.ok.append(area)
            except PermissionMissing:
                report.missing.append(area)
            except QuotaExceeded:
                raise
            except MarketoError as exc:  # e.g. 610: the instance does not serve the probe
                report.unchecked[area] = f"{exc.code}: {exc.message}"
                log.warning("Could not check the %s permission (%s %s)", area, exc.code, exc.message)
        return report

    def ensure_preflight(self) -> PreflightReport:
        """Run :meth:`preflight` once per client; raise :class:`PermissionMissing` naming every missing area."""
        if self._preflight is None:
            self._preflight = self.preflight()
        if self._preflight.missing:
            raise PermissionMissing(self._preflight.missing)
        return self._preflight

    # -- token ----------------------------------------------------------------------------
    def access_token(self) -> str:
        """The cached token, fetched again when it has (almost) expired."""
        with self._token_lock:
            if self._token is None or self.clock.monotonic() >= self._token_expires:
                self._fetch_token()
            assert self._token is not None
            return self._token

    def _drop_token(self, token: str) -> None:
        with self._token_lock:
            if self._token == token:  # another thread may already have renewed it
                self._token = None

    def _fetch_token(self) -> None:
        """client_credentials against /identity/oauth/token (idempotent: retried on 5xx and drops)."""
        params = {"grant_type": "client_credentials", "client_id": self.settings.client_id,
                  "client_secret": self.settings.client_secret}
        url = self.settings.endpoint + TOKEN_PATH
        for attempt in range(1, self.retry.max_attempts + 1):
            try:
                with self.limiter.slot():
                    self._bump_calls()
                    response = self.session.post(url, params=params, timeout=self.timeout_s)
            except requests.RequestException as exc:
                # requests' message includes the URL, and with it the client secret: never shown.
                code, message = transport_failure(exc, self.settings.endpoint)
            else:
                if response.status_code == 200:
                    data = _json(response)
                    if isinstance(data, dict) and data.get("access_token"):
                        life = float(data.get("expires_in") or 0)
                        self._token = str(data["access_token"])
                        # renew a little before expiry: 10 % of the life, at most a minute
                        self._token_expires = self.clock.monotonic() + life - min(60.0, life * 0.1)
                        self.token_fetches += 1
                        return
                    code, message = "identity", "the identity endpoint returned no access_token"
                elif response.status_code >= 500:
                    code, message = f"HTTP {response.status_code}", "identity endpoint unavailable"
                else:
                    data = _json(response)
                    detail = data.get("error_description") or data.get("error") if isinstance(data, dict) else ""
                    raise MarketoError(
                        "identity", f"authentication failed (HTTP {response.status_code}: {detail}). Check "
                        "MARKETO_CLIENT_ID and MARKETO_CLIENT_SECRET (Admin > LaunchPoint > View Details) and that "
                        "MARKETO_ENDPOINT is the instance's REST endpoint", TOKEN_PATH) from None
            if code == "tls":
                raise MarketoError(code, message, TOKEN_PATH) from None
            if attempt < self.retry.max_attempts:
                self._count_retry(code)
                self.clock.sleep(self.retry.delay(attempt, code, self._rng))
        raise MarketoError(code, message, TOKEN_PATH) from None

    # -- transport ----------------------------------------------------------------------
    def _send(self, method: str, url: str, token: str, params: Mapping[str, Any] | None, json_body: Any,
              form: Mapping[str, Any] | None, files: Mapping[str, Any] | None
              ) -> tuple[str | None, str, dict[str, Any]]:
        """One HTTP exchange: ``(None, "", envelope)`` on success, else ``(code, message, {})``."""
        try:
            with self.limiter.slot():
                self._bump_calls()
                response = self.session.request(
                    method, url, params=params, json=json_body, data=form, files=files,
                    headers={"Authorization": f"Bearer {token}"}, timeout=self.timeout_s)
        except requests.RequestException as exc:
            code, message = transport_failure(exc, self.settings.endpoint)
            return code, message, {}
        if response.status_code != 200:
            return f"HTTP {response.status_code}", f"HTTP {response.status_code} {response.reason}", {}
        data = _json(response)
        if not isinstance(data, dict):
            return "HTTP 200", "the reply is not a Marketo envelope", {}
        if data.get("success"):
            return None, "", data
        first = (data.get("errors") or [{}])[0]
        return str(first.get("code", "unknown")), str(first.get("message", "unknown error")), {}

    def _bump_calls(self) -> None:
        with self._stats_lock:
            self.calls += 1

    def _count_retry(self, code: str) -> None:
        with self._stats_lock:
            self.retried[code] += 1


def transport_failure(exc: requests.RequestException, endpoint: str) -> tuple[str, str]:
    """A code and a secret-free message for a failed exchange: ``tls`` (never retried: fix the CA),
    ``connect`` (nothing was sent: always safe to retry) or ``connection`` (dropped mid-call: the
    server may have acted, so only idempotent requests are retried)."""
    if isinstance(exc, requests.exceptions.SSLError):
        return "tls", (f"TLS verification of {endpoint} failed: set MARKETO_CA_BUNDLE to the CA certificate that "
                       "signs it (or check the host name in MARKETO_ENDPOINT)")
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if isinstance(exc, requests.exceptions.ConnectTimeout) or isinstance(reason, NewConnectionError):
        return "connect", f"could not connect to {endpoint} ({type(exc).__name__})"
    return "connection", f"the connection to {endpoint} dropped mid-call ({type(exc).__name__})"


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def connect(env: Mapping[str, str], budget: Budget | None = None,
            session_factory: Callable[[str | None], requests.Session] | None = None) -> MarketoClient:
    """A client from MARKETO_* variables (no call is made until the first request)."""
    settings = MarketoSettings.from_env(env)
    session = session_factory(settings.ca_bundle) if session_factory else None
    return MarketoClient(settings, budget=budget, session=session)
