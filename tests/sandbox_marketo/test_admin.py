"""The sandbox-only admin routes: what an admin does in Marketo's UI, or time passing."""

from __future__ import annotations

import json

from .support import Api, error_code, serving

ADMIN_CHANNEL = {"name": "Kaltura Webinar", "applicableProgramType": "event",
                 "progressionStatuses": [{"name": "Registered", "step": 10},
                                         {"name": "Attended", "step": 20, "success": True}]}


def test_admin_routes_drive_what_the_api_cannot(tls) -> None:
    with serving(tls) as server:
        api = Api(server, tls)
        admin = api.session
        base = server.base_url

        made = admin.post(base + "/__sandbox/channels", json=ADMIN_CHANNEL, timeout=10).json()
        assert made["progressionStatuses"][0]["name"] == "Not in Program"
        folder = api.get("/rest/asset/v1/folder/byName.json", {"name": "Events"})["result"][0]["id"]
        program = api.post_form("/rest/asset/v1/programs.json", {
            "name": "Uses the admin channel", "type": "Event", "channel": "Kaltura Webinar",
            "folder": json.dumps({"id": folder, "type": "Folder"})})
        assert program["success"], program

        old = api.token()
        assert admin.post(base + "/__sandbox/tokens/expire", timeout=10).json()["expired"] >= 1
        assert error_code(api.get("/rest/asset/v1/channels.json")) == "602"
        assert api.identity().json()["access_token"] != old

        limits = admin.post(base + "/__sandbox/limits", json={"daily_quota": 0}, timeout=10).json()
        assert limits["daily_quota"] == 0
        api._token = None
        assert error_code(api.get("/rest/asset/v1/channels.json")) == "607"
        admin.post(base + "/__sandbox/limits", json={"daily_quota": 50000}, timeout=10)

        state = admin.get(base + "/__sandbox/state", timeout=10).json()
        assert any(p["name"] == "Uses the admin channel" for p in state["programs"].values())
        admin.post(base + "/__sandbox/reset", timeout=10)
        after = api.get("/rest/asset/v1/program/byName.json", {"name": "Uses the admin channel"})
        assert after["success"] is True and "result" not in after
        assert admin.post(base + "/__sandbox/limits", json={"speed": 1}, timeout=10).status_code == 400
        assert "/__sandbox" not in json.dumps(server.stats()["calls"]["by_route"])
