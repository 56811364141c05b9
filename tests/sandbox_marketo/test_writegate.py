"""The sandbox's write gate: the Nth write held before or after the org applies it, or its reply cut."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests

from .support import Api, serving

LEADS = "/rest/v1/leads.json"


def _gate(api: Api, method: str, suffix: str = "", **kwargs: Any) -> dict[str, Any]:
    reply = api.session.request(method, f"{api.base}/__sandbox/writes{suffix}", timeout=30, **kwargs)
    assert reply.status_code == 200, reply.text
    return reply.json()


def _upsert(api: Api, email: str, outcome: dict[str, Any]) -> None:
    try:
        outcome["reply"] = api.post_json(LEADS, {"action": "createOrUpdate", "input": [{"email": email}]})
    except requests.ConnectionError as exc:
        outcome["error"] = type(exc).__name__


def _emails(server) -> set[str]:  # type: ignore[no-untyped-def]
    return {lead["email"] for lead in server.app.state["leads"].values()}


@pytest.mark.parametrize("mode, applied", [("hold_before", False), ("hold_after", True)])
def test_the_nth_write_is_held_then_dropped(tls, mode: str, applied: bool) -> None:
    with serving(tls) as server:
        api = Api(server, tls)
        api.get("/rest/v1/leads/describe.json")  # reads are not writes
        _gate(api, "POST", json={"nth": 2, "mode": mode, "route": "leads"})
        first: dict[str, Any] = {}
        _upsert(api, "one@example.com", first)
        assert first["reply"]["success"] is True
        second: dict[str, Any] = {}
        caller = threading.Thread(target=_upsert, args=(api, "two@example.com", second))
        caller.start()
        status = _gate(api, "GET", params={"wait": 30})  # returns once the write is held: no polling
        assert status["held"]["index"] == 2 and status["held"]["route"] == "POST /rest/v1/leads.json"
        assert [w["state"] for w in status["writes"]] == ["applied", "held before" if not applied
                                                          else "applied, reply held"]
        assert ("two@example.com" in _emails(server)) is applied  # what the org holds while the caller waits
        assert second == {}  # no reply yet
        assert _gate(api, "POST", "/release")["released"] is True
        caller.join(30)
        assert second == {"error": "ConnectionError"}  # the reply never came
        assert ("two@example.com" in _emails(server)) is applied
        third: dict[str, Any] = {}
        _upsert(api, "three@example.com", third)
        assert third["reply"]["success"] is True  # only the Nth is touched
        assert [w["index"] for w in _gate(api, "GET")["writes"]] == [1, 2, 3]


def test_drop_after_applies_then_cuts_the_reply(tls) -> None:
    with serving(tls) as server:
        api = Api(server, tls)
        _gate(api, "POST", json={"nth": 1, "mode": "drop_after"})
        outcome: dict[str, Any] = {}
        _upsert(api, "cut@example.com", outcome)
        assert outcome == {"error": "ConnectionError"} and "cut@example.com" in _emails(server)
        assert _gate(api, "GET")["writes"][0]["state"] == "applied, reply dropped"
        bad = api.session.post(f"{api.base}/__sandbox/writes", json={"nth": 0}, timeout=10)
        assert bad.status_code == 400
