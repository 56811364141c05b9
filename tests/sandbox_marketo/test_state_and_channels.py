"""Snapshot/restore of the instance state and loading channels for ``--marketo-channels FILE``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provisioner.sandbox.marketo.app import MarketoApp, MarketoConfig
from provisioner.sandbox.marketo.config import ChannelFileError, load_channels

from .support import Api, serving


def test_snapshot_restores_into_a_new_instance(tls) -> None:
    with serving(tls) as server:
        api = Api(server, tls)
        folder = api.get("/rest/asset/v1/folder/byName.json", {"name": "Webinars"})["result"][0]["id"]
        api.post_form("/rest/asset/v1/programs.json", {"name": "Kept", "type": "Event with Webinar",
                                                       "channel": "Webinar",
                                                       "folder": json.dumps({"id": folder, "type": "Folder"})})
        api.post_json("/rest/v1/leads.json", {"input": [{"email": "kept@example.com"}]})
        snapshot = json.loads(json.dumps(server.app.snapshot()))  # what --state FILE writes and reads
        token = api.token()
    assert token not in json.dumps(snapshot)  # the state file holds no usable token
    with serving(tls) as server:
        server.app.restore(snapshot)
        api = Api(server, tls)
        api._token = token  # a client still holding the token from before the restart
        assert api.get("/rest/asset/v1/program/byName.json", {"name": "Kept"})["result"][0]["channel"] == "Webinar"
        assert api.get("/rest/v1/leads.json", {"filterType": "email", "filterValues": "kept@example.com"})["result"]
        assert api.identity().json()["access_token"] != token  # new token; the old one stays valid until expiry


def test_channels_from_yaml_add_step_zero_and_reach_the_api(tmp_path: Path, tls) -> None:
    source = tmp_path / "channels.yaml"
    source.write_text(
        "channels:\n"
        "  - name: Kaltura Webinar\n"
        "    applicableProgramType: webinar\n"
        "    progressionStatuses:\n"
        "      - {name: Registered, step: 10}\n"
        "      - {name: Attended, step: 20, success: true}\n", encoding="utf-8")
    channels = load_channels(source)
    assert [s["name"] for s in channels[0]["progressionStatuses"]] == ["Not in Program", "Registered", "Attended"]
    with serving(tls, MarketoConfig(channels=channels)) as server:
        api = Api(server, tls)
        found = api.get("/rest/asset/v1/channel/byName.json", {"name": "Kaltura Webinar"})["result"][0]
        assert found["progressionStatuses"][2] == {"name": "Attended", "step": 20, "success": True,
                                                   "hidden": False, "type": "success"}


def test_bad_channel_files_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"name": "X", "applicableProgramType": "party"}]), encoding="utf-8")
    with pytest.raises(ChannelFileError, match="applicableProgramType"):
        load_channels(bad)


def test_default_channels_cover_marketo_standard_ones() -> None:
    app = MarketoApp()
    kinds = {c["name"]: c["applicableProgramType"] for c in app.state["channels"].values()}
    assert kinds["Webinar"] == "webinar" and kinds["Nurture"] == "nurture" and kinds["Email Blast"] == "email"
    assert all(c["progressionStatuses"][0] == {"name": "Not in Program", "step": 0, "success": False,
                                               "hidden": False, "type": "neutral"}
               for c in app.state["channels"].values())
