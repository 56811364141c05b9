"""A call retried after a lost reply leaves no reference cycle behind. `sync` runs with Python's cyclic
collector paused, and a dropped connection leaves cycles (urllib3 keeps the exception in local variables, so
its traceback's frames, and with them the request body, stay alive): without the session collecting them at
its next exchange they would stay in memory until the run ends, a request body per failure."""

from __future__ import annotations

import gc
import types

import requests

from provisioner.providers.salesforce.connection import SalesforceConnection
from provisioner.sandbox.runtime import Sandbox

TEMPLATE = "SELECT Id, Email FROM Lead WHERE Email IN ({values})"


def test_a_retried_call_leaves_nothing_for_the_cyclic_collector(org: Sandbox) -> None:
    conn = SalesforceConnection.from_env(org.env())
    emails = [f"someone.with.a.long.name{i:05d}@example.com" for i in range(8_000)]  # one Composite call (POST)
    requests.delete(f"{org.salesforce_url}/__sandbox/stats", verify=org.ca_bundle, timeout=30)
    # The first write-like call (the Composite POST) is answered, then its connection is cut: the reply is lost.
    requests.post(f"{org.salesforce_url}/__sandbox/writes", json={"nth": 1, "mode": "drop_after"},
                  verify=org.ca_bundle, timeout=30)
    gc.collect()
    gc.disable()
    try:
        assert conn.data.query_in(TEMPLATE, emails, what="match") == []
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        frames = [o for o in gc.garbage if isinstance(o, types.FrameType)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    routes = org.stats()["salesforce"]["calls"]["by_route"]
    assert routes.get("POST /services/data/composite") == 2  # the lost reply was retried
    assert frames == []
