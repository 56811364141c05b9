"""Fixtures: one emulated org per test session, on ephemeral ports in a temp dir, reached through
the real clients (requests, simple-salesforce, zeep) over verified HTTPS."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from simple_salesforce import Salesforce

from provisioner.http import make_session
from provisioner.sandbox.runtime import Sandbox

_names = itertools.count(1)


def unique(prefix: str) -> str:
    """A name no other test uses (tests share one org)."""
    return f"{prefix}{next(_names)}"


def client_credentials_token(sandbox: Sandbox, session: requests.Session) -> str:
    c = sandbox.credentials
    r = session.post(sandbox.salesforce_url + "/services/oauth2/token",
                     data={"grant_type": "client_credentials", "client_id": c.client_id,
                           "client_secret": c.client_secret})
    r.raise_for_status()
    return str(r.json()["access_token"])


def salesforce_client(sandbox: Sandbox, token: str) -> Salesforce:
    """simple-salesforce pointed at the sandbox; its metadata client (zeep) gets a transport session
    that trusts the sandbox CA, as the tool's connection code does."""
    sf = Salesforce(instance_url=sandbox.salesforce_url, session_id=token, session=make_session(sandbox.ca_bundle))
    sf.mdapi._client.transport.session = make_session(sandbox.ca_bundle)
    return sf


def soap(md: Any, operation: str, *args: Any) -> Any:
    """Call a Metadata API operation on the raw zeep service to read every per-component result."""
    return getattr(md._service, operation)(*args, _soapheaders=[md._session_header])


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    directory = tmp_path_factory.mktemp("sf-sandbox")
    with Sandbox(directory, marketo=False) as running:
        yield running


@pytest.fixture(scope="session")
def http(sandbox: Sandbox) -> requests.Session:
    return make_session(sandbox.ca_bundle)


@pytest.fixture(scope="session")
def token(sandbox: Sandbox, http: requests.Session) -> str:
    return client_credentials_token(sandbox, http)


@pytest.fixture(scope="session")
def sf(sandbox: Sandbox, token: str) -> Salesforce:
    return salesforce_client(sandbox, token)


@pytest.fixture(scope="session")
def md(sf: Salesforce) -> Any:
    return sf.mdapi


@pytest.fixture()
def rest(sandbox: Sandbox, http: requests.Session, token: str) -> "Rest":
    return Rest(sandbox.salesforce_url, http, token)


class Rest:
    """Raw REST calls (to see status codes and error bodies exactly)."""

    def __init__(self, base: str, http: requests.Session, token: str, version: str = "59.0") -> None:
        self.base, self.http, self.token, self.version = base, http, token, version

    def url(self, path: str) -> str:
        return f"{self.base}/services/data/v{self.version}/{path}"

    def __call__(self, method: str, path: str, **kw: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        headers.update(kw.pop("headers", {}))
        return self.http.request(method, self.url(path), headers=headers, **kw)

    def query(self, soql: str) -> requests.Response:
        return self("GET", "query", params={"q": soql})


def grant(sf: Salesforce, fields: list[str]) -> None:
    """Give the API user read/edit on ``Object.Field`` names: a permission set, assigned (as an admin would)."""
    md = sf.mdapi
    name = unique("Grant_")
    md.PermissionSet.create([md.PermissionSet(fullName=name, label=name, fieldPermissions=[
        md.PermissionSetFieldPermissions(field=f, readable=True, editable=True) for f in fields])])
    ps_id = sf.query(f"SELECT Id FROM PermissionSet WHERE Name = '{name}'")["records"][0]["Id"]
    user_id = sf.query("SELECT Id FROM User")["records"][0]["Id"]
    sf.PermissionSetAssignment.create({"AssigneeId": user_id, "PermissionSetId": ps_id})
