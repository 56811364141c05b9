"""``MarketoClient``: the one client for every Marketo call (assets, schema, leads, activities, bulk).

Every request, the token request included, goes through one loop (:meth:`MarketoClient._call`): one
token cache renewed on 601/602, one :class:`~.ratelimit.RateLimiter`, one retry policy with backoff
(:mod:`.retry`), and one mapping of failures to typed :class:`~.errors.MarketoError` errors. Lists are paged
in one place too: :meth:`~MarketoClient.pages` by ``nextPageToken``, :meth:`~MarketoClient.browse` by
offset (the asset API). The client
secret travels only in the token request's query string (as Marketo's identity API requires) and the
token only in the ``Authorization`` header; neither is ever put in a message, a repr or a log line.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Iterator, Mapping
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import orjson
import requests
from urllib3.exceptions import NameResolutionError, NewConnectionError

from ...clock import SYSTEM_CLOCK, Clock
from ...http import make_session
from . import permissions, redact
from .errors import MarketoError, PermissionMissing, QuotaExceeded, WriteOutcomeUnknown
from .ratelimit import Budget, RateLimiter, WindowFile
from .retry import (WINDOW_FULL, REJECTED_BEFORE_PROCESSING, RETRYABLE_CODES, TOKEN_CODES, RetryPolicy,
                    is_retryable)
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


def json_bytes(value: Any) -> bytes:
    """``value`` as a JSON request body. orjson writes the 300 records of a REST call about ten times faster
    than the json module; what it refuses (an integer beyond 64 bits, a lone surrogate) the json module
    writes, as requests would have."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return json.dumps(value, allow_nan=False).encode("utf-8")


class MarketoClient:
    """Authenticated, rate-limited, retrying access to one Marketo instance (thread-safe).

    ``clock`` times the rate window, the token's life and the waits between retries (tests pass a
    simulated one shared with the sandbox)."""

    def __init__(self, settings: MarketoSettings, budget: Budget | None = None, retry: RetryPolicy | None = None,
                 session: requests.Session | None = None, timeout_s: float = 60.0, clock: Clock = SYSTEM_CLOCK,
                 window: WindowFile | None = None) -> None:
        redact.install()  # urllib3 logs request lines, the token request's secret included, at DEBUG
        self.settings = settings
        self.clock = clock
        self.limiter = RateLimiter(budget, clock, shared=window)
        self.retry = retry or RetryPolicy()
        self.session = session or make_session(settings.ca_bundle, pool_size=max(10, self.limiter.budget.concurrent))
        self.timeout_s = timeout_s
        self._token_lock = threading.Lock()
        self._token: str | None = None
        self._token_expires = 0.0
        self.api_user: str | None = None  # the API-only user the token belongs to (the token reply's scope)
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

    def pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[list[Any]]:
        """GET ``path`` page after page, following ``nextPageToken`` while ``moreResult`` (or, where an API
        sets no ``moreResult``, while a page came back with a new token); yields each page's ``result``."""
        query = dict(params or {})
        seen: set[str] = set()
        while True:
            reply = self.envelope("GET", path, params=query)
            yield reply.get("result") or []
            token = reply.get("nextPageToken")
            more = reply.get("moreResult", bool(reply.get("result")))
            if not token or not more or token in seen:
                return
            seen.add(token)
            query["nextPageToken"] = token

    def browse(self, path: str, params: Mapping[str, Any] | None = None, page_size: int = 200
               ) -> Iterator[list[Any]]:
        """GET an asset API list page after page by ``offset``/``maxReturn`` (the asset API has no paging
        token), until a page comes back short; yields each page's ``result``."""
        offset = 0
        while True:
            page = self.get(path, {**(params or {}), "maxReturn": page_size, "offset": offset})
            yield page
            if len(page) < page_size:
                return
            offset += page_size

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
        """GET a file reply (a bulk import's ``failures.json``/``warnings.json`` are CSV, not envelopes);
        an envelope in its place is an error."""
        return self._call("GET", path, FILE, safe=True)

    def envelope(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json_body: Any = None,
                 form: Mapping[str, Any] | None = None, files: Mapping[str, Any] | None = None,
                 idempotent: bool | None = None) -> dict[str, Any]:
        """The whole successful envelope (for ``nextPageToken``/``moreResult``/``warnings``), or an error.

        GETs are always retried; a POST only on failures Marketo answers before processing, unless
        ``idempotent``. A POST whose outcome is unknown raises :class:`WriteOutcomeUnknown`.
        """
        payload = self._call(method, path, ENVELOPE, safe=method == "GET" or bool(idempotent), params=params,
                             json_body=json_body, form=form, files=files)
        area = permissions.area_of(path)
        if area:
            self._proven.add(area)
        return payload

    # -- the one request loop ----------------------------------------------------------
    def _call(self, method: str, path: str, kind: str, *, safe: bool, params: Mapping[str, Any] | None = None,
              json_body: Any = None, form: Mapping[str, Any] | None = None,
              files: Mapping[str, Any] | None = None) -> Any:
        """Every Marketo call, the token request included: authenticate (header only), send within the rate
        budget, renew the token on 601/602, retry what is retryable with backoff, map failures to errors.

        ``kind`` says what a reply is (:data:`ENVELOPE`, :data:`FILE` or :data:`TOKEN`); ``safe`` whether
        sending the request twice does no harm (then failures that may have been applied are retried too).
        """
        url = self.settings.endpoint + path
        body = json_bytes(json_body) if json_body is not None else None  # encoded once, whatever the retries
        attempt, renewals = 0, 0
        while True:
            attempt += 1
            token = None if kind == TOKEN else self.access_token()
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            if body is not None:
                headers["Content-Type"] = "application/json"
            pause = None
            try:
                with self.limiter.slot() as ticket:
                    self._bump_calls()
                    response = self.session.request(method, url, params=params, data=form if body is None else body,
                                                    files=files, headers=headers, timeout=self.timeout_s)
                    code, message, value = read_reply(kind, response)
                    if code == WINDOW_FULL:  # every caller pauses, then one probes (see RateLimiter._settle)
                        # The first 606 of a streak waits the whole window: every call this client cannot
                        # see (another run's, another integration's) made before it has then left the
                        # window. Marketo refusing again means someone keeps filling it: back off and probe.
                        pause = (self.limiter.budget.window_s if self.limiter.refusals == 0
                                 else self.retry.delay(max(attempt, self.limiter.refusals + 1), code, self._rng))
                        ticket.refused_for_rate(pause)
            except requests.RequestException as exc:
                code, message = transport_failure(exc, self.settings.endpoint)
            else:
                if code is None:
                    return value
            if token and code in TOKEN_CODES and renewals < 2:
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
                delay = pause if pause is not None else self.retry.delay(attempt, code, self._rng)
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
    def preflight(self, areas: Iterable[str] = permissions.REQUIRED) -> PreflightReport:
        """Check the permission ``areas`` (every area the tool knows by default) with one cheap read each
        (areas already proven by an earlier successful call are not asked again), and say which are missing."""
        report = PreflightReport()
        wanted = set(areas)
        for area in [a for a in permissions.REQUIRED if a in wanted]:
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

    def ensure_preflight(self, areas: Iterable[str] = permissions.REQUIRED) -> PreflightReport:
        """Check ``areas`` before the first write (each at most once per client; only the areas the run
        writes: a plan's kinds or a sync's targets); raise :class:`PermissionMissing` naming every missing one."""
        wanted = set(areas)
        done = self._preflight = self._preflight or PreflightReport()
        found = self.preflight(wanted - {*done.ok, *done.missing, *done.unchecked})
        done.ok += found.ok
        done.missing += found.missing
        done.unchecked.update(found.unchecked)
        missing = [a for a in done.missing if a in wanted]
        if missing:
            raise PermissionMissing(missing)
        return done

    def identity(self) -> dict[str, str]:
        """Which instance and API user this client works as, for binding a saved plan to them.

        The instance is the munchkin id of ``<munchkin>.mktorest.com`` (else the endpoint's host);
        the user is the API-only user Marketo names in the token reply.
        """
        self.access_token()
        host = urlsplit(self.settings.endpoint).netloc.rsplit("@", 1)[-1].lower()
        instance = host.split(".", 1)[0].upper() if host.endswith(".mktorest.com") else host
        return {"instance": instance, "user": self.api_user or "(unknown)"}

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
        """client_credentials against /identity/oauth/token, through the one request loop (idempotent)."""
        params = {"grant_type": "client_credentials", "client_id": self.settings.client_id,
                  "client_secret": self.settings.client_secret}
        data = self._call("POST", TOKEN_PATH, TOKEN, safe=True, params=params)
        life = float(data.get("expires_in") or 0)
        self._token = str(data["access_token"])
        self.api_user = str(data.get("scope") or "") or None
        # renew a little before expiry: 10 % of the life, at most a minute
        self._token_expires = self.clock.monotonic() + life - min(60.0, life * 0.1)
        self.token_fetches += 1

    # -- statistics ----------------------------------------------------------------------
    def _bump_calls(self) -> None:
        with self._stats_lock:
            self.calls += 1

    def _count_retry(self, code: str) -> None:
        with self._stats_lock:
            self.retried[code] += 1


#: What a reply is: a Marketo envelope, a file (CSV), or the identity endpoint's token.
ENVELOPE, FILE, TOKEN = "envelope", "file", "token"


def read_reply(kind: str, response: requests.Response) -> tuple[str | None, str, Any]:
    """``(None, "", value)`` for a reply of ``kind`` that succeeded, else ``(code, message, None)``.

    Codes are Marketo's (``"606"``), ``"HTTP 502"`` for an HTTP failure, or ``"identity"`` for a token
    request Marketo refused (never retried: the credentials or the endpoint are wrong).
    """
    data = _json(response) if kind != FILE or "json" in response.headers.get("Content-Type", "") else None
    if kind == TOKEN:
        if response.status_code == 200:
            if isinstance(data, dict) and data.get("access_token"):
                return None, "", data
            return "identity", "the identity endpoint returned no access_token", None
        if response.status_code >= 500:
            return f"HTTP {response.status_code}", "identity endpoint unavailable", None
        detail = data.get("error_description") or data.get("error") if isinstance(data, dict) else ""
        return "identity", (f"authentication failed (HTTP {response.status_code}: {detail}). Check "
                            "MARKETO_CLIENT_ID and MARKETO_CLIENT_SECRET (Admin > LaunchPoint > View Details) and "
                            "that MARKETO_ENDPOINT is the instance's REST endpoint"), None
    if response.status_code != 200:
        return f"HTTP {response.status_code}", f"HTTP {response.status_code} {response.reason}", None
    if kind == FILE and not isinstance(data, dict):
        return None, "", response.text
    if not isinstance(data, dict):
        return "HTTP 200", "the reply is not a Marketo envelope", None
    if data.get("success") and kind == ENVELOPE:
        return None, "", data
    first = (data.get("errors") or [{}])[0]
    return str(first.get("code", "unknown")), str(first.get("message", "unknown error")), None


def transport_failure(exc: requests.RequestException, endpoint: str) -> tuple[str, str]:
    """A code and a secret-free message for a failed exchange: ``tls`` (never retried: fix the CA), ``dns``
    (never retried: fix the host name),
    ``connect`` (nothing was sent: always safe to retry) or ``connection`` (dropped mid-call: the
    server may have acted, so only idempotent requests are retried)."""
    if isinstance(exc, requests.exceptions.SSLError):
        return "tls", (f"TLS verification of {endpoint} failed: set MARKETO_CA_BUNDLE to the CA certificate that "
                       "signs it (or check the host name in MARKETO_ENDPOINT)")
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if isinstance(reason, NameResolutionError):
        host = endpoint.split("://", 1)[-1]
        return "dns", (f"the host name {host} does not resolve (DNS): check MARKETO_ENDPOINT for a typo (Admin > "
                       "Web Services > REST API endpoint, such as https://123-ABC-456.mktorest.com)")
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
