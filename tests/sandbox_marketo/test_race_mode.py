"""Race mode: concurrent upserts of one key race as on a real instance (off: every upsert is atomic)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from provisioner.sandbox.marketo.app import MarketoConfig

from .support import Api, serving

CO = "/rest/v1/customobjects"
LEADS = "/rest/v1/leads.json"


def _seat_type(api: Api) -> None:
    api.post_json(f"{CO}/schema.json", {"apiName": "seat", "displayName": "Seat"})
    api.post_json(f"{CO}/schema/seat/addField.json", {"input": [
        {"name": "seatId", "displayName": "Seat Id", "dataType": "string", "isDedupeField": True},
        {"name": "row", "displayName": "Row", "dataType": "integer"}]})
    api.post_json(f"{CO}/schema/seat/approve.json", check=False)


def _together(api: Api, path: str, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Send the bodies at the same moment from as many threads."""
    start = threading.Barrier(len(bodies))

    def send(body: dict[str, Any]) -> dict[str, Any]:
        start.wait()
        return api.post_json(path, body)

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(send, bodies))


def test_concurrent_custom_object_upserts_of_one_key_refuse_the_later_with_604(tls) -> None:
    with serving(tls, MarketoConfig(race=True, race_window_s=2.0)) as server:
        api = Api(server, tls)
        _seat_type(api)
        replies = _together(api, f"{CO}/seat.json", [{"input": [{"seatId": "A1", "row": 1}]},
                                                     {"input": [{"seatId": "A1", "row": 2}]}])
        outcomes = sorted("604" if not r["success"] else r["result"][0]["status"] for r in replies)
        assert outcomes == ["604", "created"]
        assert [r["errors"][0]["message"] for r in replies if not r["success"]][0].startswith("Request timed out")
        records = api.get(f"{CO}/seat.json", {"filterType": "dedupeFields", "filterValues": "A1"})["result"]
        assert len(records) == 1  # one record: the refused write can be retried, and then updates it
        server.app.race = False  # a lone call would wait the window for a contender that never comes
        retried = api.post_json(f"{CO}/seat.json", {"input": [{"seatId": "A1", "row": 2}]})
        assert retried["result"][0]["status"] == "updated"
        server.app.race = True
        server.app.contention.window_s = 0.2  # different keys never meet: each waits the whole window
        different = _together(api, f"{CO}/seat.json", [{"input": [{"seatId": "B1"}]}, {"input": [{"seatId": "B2"}]}])
        assert sorted(r["result"][0]["status"] for r in different) == ["created", "created"]


def test_without_race_mode_concurrent_upserts_are_atomic(tls) -> None:
    with serving(tls) as server:
        api = Api(server, tls)
        _seat_type(api)
        leads = _together(api, LEADS, [{"input": [{"email": "calm@example.com"}]}] * 2)
        assert sorted(r["result"][0]["status"] for r in leads) == ["created", "updated"]
        seats = _together(api, f"{CO}/seat.json", [{"input": [{"seatId": "C1"}]}] * 2)
        assert sorted(r["result"][0]["status"] for r in seats) == ["created", "updated"]


def test_race_mode_can_be_switched_on_a_running_instance(tls) -> None:
    with serving(tls, MarketoConfig(race_window_s=2.0)) as server:
        api = Api(server, tls)
        server.app.race = True
        replies = _together(api, LEADS, [{"input": [{"email": "dup@example.com"}]}] * 2)
        assert [r["result"][0]["status"] for r in replies] == ["created", "created"]
        found = api.get(LEADS, {"filterType": "email", "filterValues": "dup@example.com"})["result"]
        assert len(found) == 2


class _RuntimeLocks:
    """What a runtime may hand the app for race mode: an object with the hold it wants."""

    hold_seconds = 2.0


def test_race_mode_takes_a_runtimes_hold_as_its_window(tls) -> None:
    with serving(tls) as server:
        api = Api(server, tls)
        server.app.race = _RuntimeLocks()
        assert server.app.race is True and server.app.contention.window_s == 2.0
        replies = _together(api, LEADS, [{"input": [{"email": "held@example.com"}]}] * 2)
        assert [r["result"][0]["status"] for r in replies] == ["created", "created"]
        server.app.race = False
        assert api.post_json(LEADS, {"input": [{"email": "held@example.com"}]})["result"][0]["reasons"][0]["code"] \
            == "1007"
