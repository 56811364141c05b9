"""Authentication: OAuth 2.0 token endpoint (password, client credentials, JWT bearer, refresh token), SOAP partner
login, and session checks for every API call.

Error bodies are Salesforce's: ``{"error": "invalid_grant", "error_description": "authentication
failure"}`` and friends for OAuth, ``INVALID_LOGIN`` faults for SOAP, ``INVALID_SESSION_ID`` for
calls with an unknown or expired session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509

from ...clock import Clock, SystemClock
from ..credentials import SalesforceCredentials
from ..httpserver import Request, Response
from . import soap
from .store import API_USER_ID, ORG_ID

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
DEFAULT_SESSION_SECONDS = 2 * 3600
SOAP_LOGIN_REMOVED_IN = 65.0
INVALID_LOGIN = "Invalid username, password, security token; or user locked out."


@dataclass
class Session:
    """One issued access token."""

    token: str
    user_id: str
    issued_at: float
    expires_at: float


class Authenticator:
    """Issues and checks sessions for one org (thread-safe)."""

    def __init__(self, credentials: SalesforceCredentials, jwt_certificate: Path | None,
                 session_seconds: float = DEFAULT_SESSION_SECONDS, organization_id: str = ORG_ID,
                 clock: Clock | None = None) -> None:
        self.credentials = credentials
        self.organization_id = organization_id
        self.clock: Clock = clock or SystemClock()  # sessions expire on it (``/__sandbox/clock`` moves it)
        self.session_seconds = session_seconds
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}
        self._signing_key = secrets.token_bytes(32)
        self._public_key: Any = None
        if jwt_certificate is not None:
            cert = x509.load_pem_x509_certificate(jwt_certificate.read_bytes())
            self._public_key = cert.public_key()

    # -- sessions ---------------------------------------------------------------
    def _issue(self) -> Session:
        token = f"{self.organization_id[:15]}!AQ{secrets.token_urlsafe(72)}"
        now = self.clock.time()
        session = Session(token, API_USER_ID, now, now + self.session_seconds)
        with self._lock:
            self._sessions[token] = session
        return session

    def check(self, token: str | None) -> Session | None:
        """The live session for ``token``, or None when unknown or expired."""
        if not token:
            return None
        with self._lock:
            session = self._sessions.get(token)
            if session and session.expires_at <= self.clock.time():
                del self._sessions[token]
                return None
            return session

    def userinfo(self, request: Request, base_url: str) -> Response:
        """``GET /services/oauth2/userinfo``: who the bearer token belongs to (OpenID Connect shape)."""
        header = request.headers.get("authorization", "")
        session = self.check(header[7:] if header.lower().startswith("bearer ") else None)
        if session is None:
            return Response.json({"error": "invalid_token", "error_description": "access token is invalid"},
                                 status=403)
        return Response.json({"sub": f"{base_url}/id/{self.organization_id}/{session.user_id}",
                              "user_id": session.user_id, "organization_id": self.organization_id, "preferred_username": self.credentials.username})

    def expire_all(self) -> int:
        """Expire every session (a sandbox admin action: tests of re-authentication)."""
        with self._lock:
            count = len(self._sessions)
            self._sessions.clear()
            return count

    @staticmethod
    def bearer(request: Request) -> str | None:
        """The token of an ``Authorization: Bearer`` (or ``OAuth``) header."""
        value = request.headers.get("authorization", "")
        for scheme in ("Bearer ", "OAuth "):
            if value.startswith(scheme):
                return value[len(scheme):].strip()
        return None

    # -- OAuth ------------------------------------------------------------------
    def oauth_token(self, request: Request, base_url: str) -> Response:
        """``POST /services/oauth2/token``."""
        form = {k: v[0] for k, v in request.form().items()} if request.body else {}
        for k, v in request.query.items():
            form.setdefault(k, v[0])
        grant = form.get("grant_type", "")
        creds = self.credentials
        if grant == "password":
            if form.get("client_id") != creds.client_id:
                return _oauth_error("invalid_client_id", "client identifier invalid")
            if not hmac.compare_digest(form.get("client_secret", ""), creds.client_secret):
                return _oauth_error("invalid_client", "invalid client credentials")
            if form.get("username") != creds.username or not hmac.compare_digest(
                    form.get("password", ""), creds.password + creds.security_token):
                return _oauth_error("invalid_grant", "authentication failure")
        elif grant == "client_credentials":
            if form.get("client_id") != creds.client_id:
                return _oauth_error("invalid_client_id", "client identifier invalid")
            if not hmac.compare_digest(form.get("client_secret", ""), creds.client_secret):
                return _oauth_error("invalid_client", "invalid client credentials")
        elif grant == "refresh_token":
            # The connected app may not require its secret for this grant (the Salesforce CLI's
            # auth URLs carry none); when one is sent it must be right.
            if form.get("client_id") != creds.client_id:
                return _oauth_error("invalid_client_id", "client identifier invalid")
            if "client_secret" in form and not hmac.compare_digest(form["client_secret"], creds.client_secret):
                return _oauth_error("invalid_client", "invalid client credentials")
            if not creds.refresh_token or not hmac.compare_digest(form.get("refresh_token", ""), creds.refresh_token):
                return _oauth_error("invalid_grant", "expired access/refresh token")
        elif grant == JWT_GRANT:
            problem = self._check_assertion(form.get("assertion", ""), base_url)
            if problem:
                return problem
        else:
            return _oauth_error("unsupported_grant_type", "grant type not supported")
        session = self._issue()
        issued_ms = str(int(session.issued_at * 1000))
        identity = f"{base_url}/id/{self.organization_id}/{session.user_id}"
        signature = base64.b64encode(hmac.new(self._signing_key, (identity + issued_ms).encode(),
                                              hashlib.sha256).digest()).decode()
        return Response.json({
            "access_token": session.token, "instance_url": base_url, "id": identity, "token_type": "Bearer",
            "issued_at": issued_ms, "signature": signature, "scope": "api",
        })

    def _check_assertion(self, assertion: str, base_url: str) -> Response | None:
        if self._public_key is None:
            return _oauth_error("invalid_grant", "invalid assertion")
        try:
            claims = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            return _oauth_error("invalid_grant", "invalid assertion")
        if claims.get("iss") != self.credentials.consumer_key:
            return _oauth_error("invalid_client_id", "client identifier invalid")
        audiences = [base_url, base_url + "/", "https://login.salesforce.com", "https://test.salesforce.com"]
        try:
            jwt.decode(assertion, self._public_key, algorithms=["RS256"], audience=audiences,
                       options={"require": ["exp", "iss", "sub", "aud"]})
        except jwt.InvalidAudienceError:
            return _oauth_error("invalid_grant", "audience is invalid")
        except jwt.ExpiredSignatureError:
            return _oauth_error("invalid_grant", "expired authorization code")
        except jwt.PyJWTError:
            return _oauth_error("invalid_grant", "invalid assertion")
        if claims.get("sub") != self.credentials.username:
            return _oauth_error("invalid_grant", "user hasn't approved this consumer")
        return None

    # -- identity ---------------------------------------------------------------------
    def identity(self, request: Request, base_url: str, openid: bool) -> Response:
        """``/services/oauth2/userinfo`` (OpenID shape) or the identity URL ``/id/<org>/<user>``."""
        session = self.check(self.bearer(request))
        if session is None:
            return Response(403, b"Bad_OAuth_Token", {"Content-Type": "text/plain"})
        identity = f"{base_url}/id/{self.organization_id}/{session.user_id}"
        username = self.credentials.username
        if openid:
            return Response.json({
                "sub": identity, "user_id": session.user_id, "organization_id": self.organization_id,
                "preferred_username": username, "nickname": "integration", "name": "Integration User",
                "email": username, "email_verified": True, "given_name": "Integration", "family_name": "User",
                "zoneinfo": "America/Los_Angeles", "active": True, "user_type": "STANDARD", "language": "en_US",
                "locale": "en_US", "utcOffset": -28800000,
            })
        return Response.json({
            "id": identity, "asserted_user": True, "user_id": session.user_id,
            "organization_id": self.organization_id,
            "username": username, "nick_name": "integration", "display_name": "Integration User",
            "email": username, "email_verified": True, "first_name": "Integration", "last_name": "User",
            "active": True, "user_type": "STANDARD", "language": "en_US", "locale": "en_US",
            "urls": {"rest": f"{base_url}/services/data/v{{version}}/",
                     "metadata": f"{base_url}/services/Soap/m/{{version}}/{self.organization_id[:15]}"},
        })

    # -- SOAP partner login -------------------------------------------------------
    def soap_login(self, request: Request, base_url: str, version: str) -> Response:
        """``POST /services/Soap/u/<version>`` with a ``login`` call."""
        try:
            _header, op = soap.parse_envelope(request.body)
        except soap.SoapError as exc:
            return soap.fault("INVALID_REQUEST", str(exc), fault_ns="urn:fault.partner.soap.sforce.com")
        if soap.local(op) != "login":
            return soap.fault("INVALID_OPERATION", f"The sandbox partner API only supports login, not "
                                                   f"{soap.local(op)}", fault_ns="urn:fault.partner.soap.sforce.com")
        if float(version) >= SOAP_LOGIN_REMOVED_IN:
            # login() is gone from the SOAP API from this version on (password login is retired).
            return soap.fault_raw("soapenv:Client", "No operation available for request "
                                                    "{urn:partner.soap.sforce.com}login, please check the WSDL "
                                                    "for the service.")
        creds = self.credentials
        username = soap.child_text(op, "username") or ""
        password = soap.child_text(op, "password") or ""
        if username != creds.username or not hmac.compare_digest(password, creds.password + creds.security_token):
            detail = ('<detail><sf:LoginFault xsi:type="sf:LoginFault"><sf:exceptionCode>INVALID_LOGIN'
                      f'</sf:exceptionCode><sf:exceptionMessage>{INVALID_LOGIN}</sf:exceptionMessage>'
                      '</sf:LoginFault></detail>')
            return soap.fault("INVALID_LOGIN", INVALID_LOGIN, fault_ns="urn:fault.partner.soap.sforce.com",
                              detail=detail)
        session = self._issue()
        org15 = self.organization_id[:15]
        body = (
            "<loginResponse><result>"
            f"<metadataServerUrl>{base_url}/services/Soap/m/{version}/{org15}</metadataServerUrl>"
            "<passwordExpired>false</passwordExpired><sandbox>true</sandbox>"
            f"<serverUrl>{base_url}/services/Soap/u/{version}/{org15}</serverUrl>"
            f"<sessionId>{session.token}</sessionId><userId>{session.user_id}</userId>"
            "<userInfo><accessibilityMode>false</accessibilityMode><currencySymbol>$</currencySymbol>"
            f"<orgDefaultCurrencyIsoCode>USD</orgDefaultCurrencyIsoCode>"
            f"<organizationId>{self.organization_id}</organizationId>"
            "<organizationMultiCurrency>false</organizationMultiCurrency>"
            "<organizationName>provisioner sandbox</organizationName>"
            f"<profileId>00e5g000000ABCDAA4</profileId><sessionSecondsValid>{int(self.session_seconds)}"
            f"</sessionSecondsValid><userEmail>{creds.username}</userEmail>"
            f"<userFullName>Integration User</userFullName><userId>{session.user_id}</userId>"
            f"<userName>{creds.username}</userName><userTimeZone>America/Los_Angeles</userTimeZone>"
            "</userInfo></result></loginResponse>"
        )
        return Response.xml(soap.envelope(body, default_ns=soap.PARTNER_NS))


def _oauth_error(code: str, description: str) -> Response:
    return Response.json({"error": code, "error_description": description}, status=400)


def invalid_session_rest() -> Response:
    """The REST answer to a missing, unknown or expired session."""
    return Response.json([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}], status=401)
