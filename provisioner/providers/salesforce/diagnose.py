"""Connection failures as one line a user can act on: the host, the variable to fix, the likely cause.

Never the library's own text (urllib3's pool reprs, zeep's AttributeError): those name neither the
variable nor the fix. A ``None`` answer means "not a configuration mistake": a dropped connection
mid-call, which the caller retries.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import requests

MY_DOMAIN = "https://yourcompany.my.salesforce.com"


def transport_problem(exc: requests.RequestException, url: str, variable: str) -> str | None:
    """What a failed exchange with ``url`` says about ``variable``, or None when it is worth retrying."""
    parts = urlsplit(url)
    host = parts.netloc or url
    if isinstance(exc, requests.exceptions.SSLError):
        return (f"TLS verification of {host} failed (its certificate is not trusted, or is for another name): "
                f"check that {variable} names your org's host; behind a proxy or a private CA, set SF_CA_BUNDLE "
                "to the CA certificate file")
    reason = _reason(exc)
    name = type(reason).__name__ if reason is not None else ""
    if name == "NameResolutionError":
        return (f"the host name {parts.hostname} does not resolve (DNS): check {variable} for a typo "
                f"(a My Domain URL looks like {MY_DOMAIN})")
    if name == "NewConnectionError":
        return (f"{host} refused the connection: check the scheme, host and port in {variable} "
                f"(Salesforce answers on https:// port 443)")
    if parts.scheme == "http" and isinstance(exc, requests.exceptions.ConnectionError):
        return (f"{host} closed the connection to plain http://: Salesforce speaks HTTPS only; write {variable} "
                "with https://")
    if isinstance(exc, requests.exceptions.ConnectTimeout) or name == "ConnectTimeoutError":
        return f"{host} did not answer (connect timeout): check {variable}, and HTTPS_PROXY if you need a proxy"
    return None


def not_salesforce(url: str, status: int, what: str, variable: str) -> str:
    """The message for a host that answered, but not as a Salesforce ``what`` (login server, instance)."""
    host = urlsplit(url).netloc or url
    return (f"{host} does not answer like a Salesforce {what} (HTTP {status} at {urlsplit(url).path}): check "
            f"{variable}: the scheme and host only, no path — https://login.salesforce.com, "
            f"https://test.salesforce.com, or your My Domain URL such as {MY_DOMAIN}")


def _reason(exc: BaseException) -> BaseException | None:
    """The urllib3 error under a requests exception (``MaxRetryError.reason``), if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        for arg in getattr(current, "args", ()):
            reason = getattr(arg, "reason", None)
            if isinstance(reason, BaseException):
                return reason
            if isinstance(arg, BaseException) and type(arg).__module__.startswith("urllib3"):
                return arg
        current = current.__cause__ or current.__context__
    return None
