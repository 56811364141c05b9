"""Salesforce connection settings from the environment, and which auth flow they select."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Mapping

from ...redaction import strip_userinfo
from ..base import ConnectionError_

DEFAULT_API_VERSION = "60.0"
log = logging.getLogger(__name__)

LOGIN_URL = "https://login.salesforce.com"

#: The flows, in the order they are tried when several are configured.
FLOWS = (
    ("access_token", ("SF_INSTANCE_URL", "SF_ACCESS_TOKEN")),
    ("jwt", ("SF_CONSUMER_KEY", "SF_PRIVATE_KEY_FILE", "SF_USERNAME")),
    ("client_credentials", ("SF_CLIENT_ID", "SF_CLIENT_SECRET")),
    ("password", ("SF_USERNAME", "SF_PASSWORD")),
)


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
    ca_bundle: str | None = None
    api_version: str = DEFAULT_API_VERSION
    _secrets: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def secret(self, name: str) -> str:
        return self._secrets.get(name, "")

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
        common = dict(login_url=login_url, ca_bundle=get("SF_CA_BUNDLE") or None,
                      api_version=api_version or get("SF_API_VERSION") or DEFAULT_API_VERSION)
        for flow, names in FLOWS:
            if all(get(n) for n in names):
                if flow == "access_token":
                    return cls(flow, instance_url=get("SF_INSTANCE_URL").rstrip("/"),
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
            "SF_INSTANCE_URL + SF_ACCESS_TOKEN (e.g. from `sf org display --json`); "
            "SF_CONSUMER_KEY + SF_PRIVATE_KEY_FILE + SF_USERNAME (JWT bearer); "
            "SF_LOGIN_URL + SF_CLIENT_ID + SF_CLIENT_SECRET (client credentials, My Domain URL); "
            "SF_USERNAME + SF_PASSWORD (+ SF_SECURITY_TOKEN) for orgs that still allow password login. "
            "`provisioner sandbox serve --env-file F` writes these for the built-in sandbox.")
