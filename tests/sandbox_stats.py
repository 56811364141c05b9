"""The in-process sandbox's own records, read through its admin routes: what a test compares the tool's
claims with (calls served per route), never the tool's counters."""

from __future__ import annotations

from typing import Any

import requests

from provisioner.sandbox.runtime import Sandbox

ORGS = ("salesforce", "marketo")


def admin(box: Sandbox, org: str, method: str, path: str, body: Any = None) -> Any:
    """``METHOD /__sandbox/<path>`` on one org's sandbox; the reply's JSON (``None`` when empty)."""
    url = box.salesforce_url if org == "salesforce" else box.marketo_url
    reply = requests.request(method, f"{url}/__sandbox/{path}", json=body, verify=box.ca_bundle, timeout=30)
    assert reply.status_code == 200, reply.text
    return reply.json() if reply.content else None


def counted(box: Sandbox) -> dict[str, dict[str, int]]:
    """Calls each org's sandbox served since its stats were last reset, by route."""
    return {org: admin(box, org, "GET", "stats")["calls"]["by_route"] for org in ORGS}


def reset(box: Sandbox) -> None:
    """Forget the calls served so far (the stats start again at zero)."""
    for org in ORGS:
        admin(box, org, "DELETE", "stats")
