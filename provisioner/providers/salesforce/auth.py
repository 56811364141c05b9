"""Log in to Salesforce: the Salesforce CLI's login, an SFDX auth URL (refresh token), access token,
JWT bearer, client credentials, or SOAP username/password.

Each flow returns a :class:`Session` (instance URL + access token + user id). Failures raise
:class:`AuthError` with Salesforce's own error code and description, never a secret.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import requests

from ..base import ConnectionError_
from .diagnose import not_salesforce, transport_problem
from .settings import SalesforceSettings
from .xml import parse_xml


class AuthError(ConnectionError_):
    """Login refused or impossible; the message says why and what to check."""


@dataclass(frozen=True)
class Session:
    instance_url: str
    access_token: str = field(repr=False)
    user_id: str | None = None


def login(settings: SalesforceSettings, http: requests.Session) -> Session:
    """Run the flow the settings selected; a 5xx or dropped connection is retried (logins are safe to repeat)."""
    from . import retry

    return retry.call(lambda: _login_once(settings, http), what="Salesforce login")


def _login_once(settings: SalesforceSettings, http: requests.Session) -> Session:
    if settings.flow == "sf_cli":
        from .sf_cli import org_display

        instance, token = org_display(settings.target_org or "")
        return check_instance(http, Session(instance, token), settings.url_variable)
    if settings.flow == "access_token":
        return check_instance(http, Session(settings.instance_url or "", settings.secret("access_token")),
                              settings.url_variable)
    if settings.flow == "sfdx_auth_url":
        data = {"grant_type": "refresh_token", "client_id": settings.client_id or "",
                "refresh_token": settings.secret("refresh_token")}
        if settings.secret("client_secret"):
            data["client_secret"] = settings.secret("client_secret")
        return _oauth(settings, http, data)
    if settings.flow == "jwt":
        return _oauth(settings, http, {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                                       "assertion": _jwt_assertion(settings)})
    if settings.flow == "client_credentials":
        return _oauth(settings, http, {"grant_type": "client_credentials", "client_id": settings.client_id or "",
                                       "client_secret": settings.secret("client_secret")})
    return _soap_login(settings, http)


def check_instance(http: requests.Session, session: Session, variable: str) -> Session:
    """A token flow makes no login call, so look once at ``/services/data/`` (the API versions, no
    token needed): a wrong host or a pasted path fails here with the variable to fix, not later
    with a parser's error in the middle of a plan."""
    url = f"{session.instance_url}/services/data/"
    response = _send(http, "get", url, variable)
    try:
        versions = response.json()
    except ValueError:
        versions = None
    if response.status_code >= 500:
        from .retry import TransientError
        raise TransientError(f"{url} answered HTTP {response.status_code}")
    if response.status_code != 200 or not isinstance(versions, list):
        raise AuthError("Salesforce connection: " + not_salesforce(url, response.status_code, "instance", variable))
    return session


def _send(http: requests.Session, method: str, url: str, variable: str, **kwargs: object) -> requests.Response:
    """One request; a configuration mistake (TLS, DNS, refused) becomes an AuthError naming ``variable``."""
    try:
        return http.request(method, url, timeout=60, **kwargs)  # type: ignore[arg-type]
    except requests.exceptions.RequestException as exc:
        problem = transport_problem(exc, url, variable)
        if problem:
            raise AuthError(f"Salesforce connection: {problem}") from None
        if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)):
            raise  # dropped mid-call: retried by login()
        raise AuthError(f"Salesforce connection: cannot reach {url} ({type(exc).__name__}); check {variable}") \
            from None


def _post(http: requests.Session, url: str, variable: str = "SF_LOGIN_URL", **kwargs: object) -> requests.Response:
    return _send(http, "post", url, variable, **kwargs)


def _oauth(settings: SalesforceSettings, http: requests.Session, data: dict[str, str]) -> Session:
    url = f"{settings.login_url}/services/oauth2/token"
    response = _post(http, url, settings.url_variable, data=data)
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code >= 500:
        from .retry import TransientError
        raise TransientError(f"token endpoint answered HTTP {response.status_code}")
    if not isinstance(body, dict) or not ("error" in body or "access_token" in body):
        raise AuthError("Salesforce login: " + not_salesforce(url, response.status_code, "login server",
                                                               settings.url_variable))
    if response.status_code != 200 or "access_token" not in body:
        error = body.get("error", f"HTTP {response.status_code}")
        description = body.get("error_description", response.reason)
        raise AuthError(f"Salesforce login ({settings.flow.replace('_', ' ')}) refused: {error}: {description}")
    user_id = str(body.get("id", "")).rstrip("/").rsplit("/", 1)[-1] or None
    return Session(body["instance_url"].rstrip("/"), body["access_token"], user_id)


def _jwt_assertion(settings: SalesforceSettings) -> str:
    import jwt  # PyJWT, with cryptography for RS256

    try:
        key = Path(settings.private_key_file or "").read_bytes()
    except OSError as exc:
        raise AuthError(f"Salesforce JWT: cannot read SF_PRIVATE_KEY_FILE {settings.private_key_file}: "
                        f"{exc.strerror}") from None
    claims = {"iss": settings.consumer_key, "sub": settings.username, "aud": settings.login_url,
              "exp": int(time.time()) + 180}
    try:
        return jwt.encode(claims, key, algorithm="RS256")
    except (ValueError, TypeError) as exc:
        raise AuthError(f"Salesforce JWT: SF_PRIVATE_KEY_FILE is not a usable RSA private key "
                        f"({type(exc).__name__})") from None


_SOAP_LOGIN = """<?xml version="1.0" encoding="utf-8"?>
<env:Envelope xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xmlns:env="http://schemas.xmlsoap.org/soap/envelope/" xmlns:urn="urn:partner.soap.sforce.com">
  <env:Body><urn:login><urn:username>{username}</urn:username><urn:password>{password}</urn:password></urn:login></env:Body>
</env:Envelope>"""


def _soap_login(settings: SalesforceSettings, http: requests.Session) -> Session:
    url = f"{settings.login_url}/services/Soap/u/{settings.api_version}"
    body = _SOAP_LOGIN.format(username=escape(settings.username or ""),
                              password=escape(settings.secret("password") + settings.secret("security_token")))
    response = _post(http, url, settings.url_variable, data=body.encode("utf-8"),
                     headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": "login"})
    root = parse_xml(response.content)
    fault = root.find(".//{*}Fault")
    fault_text = "".join(fault.itertext()) if fault is not None else ""
    if response.status_code >= 500 and "INVALID_LOGIN" not in fault_text:
        from .retry import TransientError
        raise TransientError(f"login answered HTTP {response.status_code}")
    if fault is not None or response.status_code != 200:
        message = (fault.findtext("faultstring") or fault.findtext("{*}faultstring") or "") if fault is not None else ""
        raise AuthError(f"Salesforce login (username/password) refused: {message or 'HTTP ' + str(response.status_code)}."
                        " Password login is off in new orgs and gone in API 65.0: prefer JWT or client credentials")
    server_url = root.findtext(".//{*}serverUrl") or ""
    session_id = root.findtext(".//{*}sessionId") or ""
    user_id = root.findtext(".//{*}userId")
    instance = server_url.split("/services/")[0]
    return Session(instance, session_id, user_id)
