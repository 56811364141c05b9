"""docs/fidelity/salesforce.md lists every route and Metadata API operation the sandbox serves.

The routes come from the sandbox's own table (``routes.ROUTES``), which is tied to the router:
each row's sample request must be named by ``SalesforceApp.route_name`` exactly as the table
says, and every Metadata API operation in ``metadata_api.OPERATIONS`` must be dispatched (not
answered with the sandbox's "does not emulate" fault)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests

from provisioner.sandbox.httpserver import Request
from provisioner.sandbox.runtime import Sandbox
from provisioner.sandbox.salesforce.app import SalesforceApp
from provisioner.sandbox.salesforce.metadata_api import OPERATIONS
from provisioner.sandbox.salesforce.routes import ROUTES

PAGE = Path(__file__).resolve().parents[2] / "docs" / "fidelity" / "salesforce.md"
SAMPLES = {"{type}": "Lead", "{id}": "00Q5g00000000A1AAA", "{externalIdField}": "Key__c", "{value}": "K-1",
           "{locator}": "01g5g0000000000001-2000", "{orgId}": "00D5g000004SbxGEAS", "{userId}": "0055g00000000A1AAA"}
SOAP_M = "/services/Soap/m/XX.X"


def sample_path(template: str) -> str:
    path = template.replace("vXX.X", "v59.0").replace("XX.X", "59.0")
    for placeholder, value in SAMPLES.items():
        path = path.replace(placeholder, value)
    return path


def envelope(operation: str, token: str = "") -> bytes:
    return (f'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
            f'xmlns="http://soap.sforce.com/2006/04/metadata"><soapenv:Header><SessionHeader><sessionId>{token}'
            f'</sessionId></SessionHeader></soapenv:Header><soapenv:Body><{operation}/></soapenv:Body>'
            f'</soapenv:Envelope>').encode()


def page_rows() -> dict[str, set[str]]:
    """Path template -> methods, from the page's route table rows ``| GET POST | `/path` | ... |``."""
    rows: dict[str, set[str]] = {}
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\|\s*([A-Z ]+?)\s*\|\s*`([^`]+)`\s*\|", line)
        if m:
            rows[m.group(2)] = set(m.group(1).split())
    return rows


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.path)
def test_route_is_on_the_fidelity_page_with_its_methods(route: object) -> None:
    rows = page_rows()
    assert route.path in rows, f"{route.path} is served but missing from {PAGE.name}"  # type: ignore[attr-defined]
    assert rows[route.path] == set(route.methods)  # type: ignore[attr-defined]


def test_page_lists_no_route_the_sandbox_does_not_serve() -> None:
    assert set(page_rows()) == {r.path for r in ROUTES}


def test_every_metadata_operation_is_on_the_page() -> None:
    text = PAGE.read_text(encoding="utf-8")
    for operation in OPERATIONS + ("login",):
        assert f"`{operation}`" in text, operation


def test_route_table_matches_the_router() -> None:
    app = SalesforceApp()
    for route in ROUTES:
        for method in route.methods:
            if route.path == SOAP_M:
                for operation in OPERATIONS:
                    request = Request(method, sample_path(route.path), {}, {}, envelope(operation))
                    assert app.route_name(request) == f"POST /services/Soap/m {operation}"
                continue
            request = Request(method, sample_path(route.path), {}, {}, b"")
            assert app.route_name(request) == f"{method} {route.stats_path}", route.path


def test_every_metadata_operation_is_dispatched(sandbox: Sandbox, http: requests.Session, token: str) -> None:
    for operation in OPERATIONS:
        r = http.post(sandbox.salesforce_url + "/services/Soap/m/59.0", data=envelope(operation, token),
                      headers={"Content-Type": "text/xml", "SOAPAction": operation})
        assert "does not emulate the Metadata API operation" not in r.text, operation
