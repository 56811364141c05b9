"""Salesforce connection settings from the environment, and which auth flow they select."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Mapping
from urllib.parse import urlsplit

from ...redaction import strip_userinfo
from ..base import ConnectionError_

DEFAULT_API_VERSION = "60.0"
log = logging.getLogger(__name__)

LOGIN_URL = "https://login.salesforce.com"

#: The flows, in the order they are tried when several are configured. A Salesforce CLI login
#: (``--target-org`` sets SF_TARGET_ORG) or an SFDX auth URL names one org on its own: configured beside
#: another complete flow it is refused as ambiguous (see :data:`WHOLE_LOGINS`), never silently ranked.
FLOWS = (
    ("sf_cli", ("SF_TARGET_ORG",)),
    ("sfdx_auth_url", ("SFDX_AUTH_URL",)),
    ("access_token", ("SF_INSTANCE_URL", "SF_ACCESS_TOKEN")),
    ("jwt", ("SF_CONSUMER_KEY", "SF_PRIVATE_KEY_FILE", "SF_USERNAME")),
    ("client_credentials", ("SF_CLIENT_ID", "SF_CLIENT_SECRET")),
    ("password", ("SF_USERNAME", "SF_PASSWORD")),
)


#: Flows that each name a whole login (an org) by themselves. The Salesforce CLI reads SF_TARGET_ORG too,
#: so it is often exported for `sf`: beside a sandbox's env file it must not quietly win (or lose).
WHOLE_LOGINS = ("sf_cli", "sfdx_auth_url")


@dataclass(frozen=True)
class SalesforceSettings:
    """Which flow, where to log in, and the (secret) values it needs. Secrets are not in repr."""

    flow: str
    login_url: str
    instance_url: str | None = None
    username: str | None = None
    consumer_key: str | None = None
    private_key_file: str | None = None
    client_id: str | None = None
    target_org: str | None = None
    ca_bundle: str | None = None
    api_version: str = DEFAULT_API_VERSION
    _secrets: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def secret(self, name: str) -> str:
        return self._secrets.get(name, "")

    @property
    def url_variable(self) -> str:
        """The variable that names the host this flow talks to first: what a user fixes when it is wrong."""
        return {"access_token": "SF_INSTANCE_URL", "sfdx_auth_url": "SFDX_AUTH_URL",
                "sf_cli": f"SF_TARGET_ORG ({self.target_org})"}.get(self.flow, "SF_LOGIN_URL")

    def secret_values(self) -> list[str]:
        """Every secret value, so output can be checked or scrubbed for them."""
        return [v for v in self._secrets.values() if v]

    @classmethod
    def from_env(cls, env: Mapping[str, str], api_version: str | None = None) -> "SalesforceSettings":
        """Pick the first complete flow; say exactly what is missing when none is."""
        def get(name: str) -> str:
            value = (env.get(name) or "").strip()
            if name in ("SF_LOGIN_URL", "SF_INSTANCE_URL"):
                value, had_userinfo = strip_userinfo(value)
                if had_userinfo:
                    log.warning("%s carries a user name and password (user:password@host); Salesforce does not use "
                                "them and they were left out. Remove them from %s.", name, name)
            return value

        login_url = (get("SF_LOGIN_URL") or LOGIN_URL).rstrip("/")
        if login_url in ("test", "https://test.salesforce.com"):
            login_url = "https://test.salesforce.com"
        login_url = base_url(login_url, "SF_LOGIN_URL")
        common = dict(login_url=login_url, ca_bundle=get("SF_CA_BUNDLE") or None,
                      api_version=api_version or get("SF_API_VERSION") or DEFAULT_API_VERSION)
        complete = [(flow, names) for flow, names in FLOWS if all(get(n) for n in names)]
        whole = [c for c in complete if c[0] in WHOLE_LOGINS]
        if whole and len(complete) > 1:
            first, second = whole[0], next(c for c in complete if c is not whole[0])
            raise ConnectionError_(
                f"Salesforce connection: two logins are configured, {' + '.join(first[1])} and "
                f"{' + '.join(second[1])}, and they may name different orgs; unset one (check the environment "
                "and .env: Salesforce CLI users often export SF_TARGET_ORG for `sf`)")
        for flow, names in complete:
            if flow == "sf_cli":
                return cls(flow, target_org=get("SF_TARGET_ORG"), **common)
            if flow == "sfdx_auth_url":
                client_id, client_secret, refresh_token, instance = parse_auth_url(get("SFDX_AUTH_URL"))
                return cls(flow, client_id=client_id, **dict(common, login_url=instance),
                           _secrets={"client_secret": client_secret, "refresh_token": refresh_token})
            if flow == "access_token":
                return cls(flow, instance_url=base_url(get("SF_INSTANCE_URL"), "SF_INSTANCE_URL"),
                           _secrets={"access_token": get("SF_ACCESS_TOKEN")}, **common)
            if flow == "jwt":
                return cls(flow, username=get("SF_USERNAME"), consumer_key=get("SF_CONSUMER_KEY"),
                           private_key_file=get("SF_PRIVATE_KEY_FILE"), **common)
            if flow == "client_credentials":
                return cls(flow, client_id=get("SF_CLIENT_ID"),
                           _secrets={"client_secret": get("SF_CLIENT_SECRET")}, **common)
            return cls(flow, username=get("SF_USERNAME"),
                       _secrets={"password": get("SF_PASSWORD"), "security_token": get("SF_SECURITY_TOKEN")},
                       **common)
        partial = [(flow, [n for n in names if not get(n)]) for flow, names in FLOWS if any(get(n) for n in names)]
        if partial:
            flow, missing = partial[0]
            raise ConnectionError_(f"Salesforce connection: the {flow.replace('_', ' ')} flow is missing "
                                   f"{', '.join(missing)}")
        raise ConnectionError_(
            "Salesforce connection: no credentials in the environment. Set one of: "
            "SF_TARGET_ORG (or --target-org) naming a Salesforce CLI login (`sf org login web --alias NAME`); "
            "SFDX_AUTH_URL (force://...; from `sf org display --verbose --json`); "
            "SF_INSTANCE_URL + SF_ACCESS_TOKEN; "
            "SF_CONSUMER_KEY + SF_PRIVATE_KEY_FILE + SF_USERNAME (JWT bearer); "
            "SF_LOGIN_URL + SF_CLIENT_ID + SF_CLIENT_SECRET (client credentials, My Domain URL); "
            "SF_USERNAME + SF_PASSWORD (+ SF_SECURITY_TOKEN) for orgs that still allow password login. "
            "`provisioner sandbox serve --env-file F` writes these for the built-in sandbox.")


def base_url(value: str, variable: str) -> str:
    """``https://host[:port]`` from a URL variable; a pasted path or a missing scheme is an error naming it."""
    parts = urlsplit(value.strip().rstrip("/"))
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ConnectionError_(f"{variable} is not a URL: write it as https://yourcompany.my.salesforce.com "
                               "(scheme and host only)")
    if parts.path or parts.query:
        raise ConnectionError_(f"{variable} has a path ({parts.path or '?' + parts.query}): give the host only, "
                               f"{parts.scheme}://{parts.netloc} (the tool adds /services/... itself)")
    return f"{parts.scheme}://{parts.netloc}"


def parse_auth_url(value: str) -> tuple[str, str, str, str]:
    """``force://clientId:clientSecret:refreshToken@instance`` (the secret may be empty) → its four parts.

    The Salesforce CLI prints this as ``sfdxAuthUrl`` (``sf org display --verbose --json``). Errors
    never repeat the value: it holds a refresh token.
    """
    hint = ("SFDX_AUTH_URL must be force:// then the client id, client secret and refresh token separated by "
            "colons, then @ and your org's host (copy sfdxAuthUrl from `sf org display --verbose --json`)")
    if not value.startswith("force://") or "@" not in value:
        raise ConnectionError_(f"Salesforce connection: {hint}")
    credentials, _, host = value[len("force://"):].rpartition("@")
    parts = credentials.split(":", 2)
    if len(parts) != 3 or not parts[0] or not parts[2] or not host:
        raise ConnectionError_(f"Salesforce connection: {hint}")
    instance = host if host.startswith(("https://", "http://")) else "https://" + host
    return parts[0], parts[1], parts[2], base_url(instance, "SFDX_AUTH_URL's instance")
