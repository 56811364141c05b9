"""Asset API: folders, read-only channels, programs (create, type/channel rules, update, clone, delete)."""

from __future__ import annotations

import json

import pytest

from .support import error_code

A = "/rest/asset/v1"


def _folder_ref(fid: int) -> str:
    return json.dumps({"id": fid, "type": "Folder"})


@pytest.fixture(scope="module")
def kaltura_folder(api) -> int:
    root = api.get(f"{A}/folder/byName.json", {"name": "Marketing Activities"})["result"][0]
    created = api.post_form(f"{A}/folders.json", {"name": "Kaltura", "parent": _folder_ref(root["id"]),
                                                  "description": "Kaltura events"})
    assert created["success"], created
    return created["result"][0]["id"]


def test_folder_path_resolves_through_byname_and_browse(api, kaltura_folder) -> None:
    found = api.get(f"{A}/folder/byName.json", {"name": "Kaltura"})["result"]
    assert [f["path"] for f in found] == ["/Marketing Activities/Default/Kaltura"]  # workspace after the root
    root_path = api.get(f"{A}/folder/byName.json", {"name": "Marketing Activities"})["result"][0]["path"]
    assert root_path == "/Marketing Activities"
    assert found[0]["parent"]["type"] == "Folder" and found[0]["folderId"] == {"id": kaltura_folder, "type": "Folder"}
    root = api.get(f"{A}/folder/byName.json", {"name": "Marketing Activities"})["result"][0]
    browsed = api.get(f"{A}/folders.json", {"root": _folder_ref(root["id"]), "maxDepth": 1})["result"]
    assert {"Marketing Activities", "Webinars", "Events", "Kaltura"} <= {f["name"] for f in browsed}
    assert api.get(f"{A}/folder/{kaltura_folder}.json", {"type": "Folder"})["result"][0]["name"] == "Kaltura"
    missing = api.get(f"{A}/folder/byName.json", {"name": "No Such Folder"})
    assert missing["success"] and "result" not in missing and missing["warnings"]


def test_duplicate_folder_and_missing_parent_are_refused(api, kaltura_folder) -> None:
    root = api.get(f"{A}/folder/byName.json", {"name": "Marketing Activities"})["result"][0]
    assert error_code(api.post_form(f"{A}/folders.json", {"name": "kaltura", "parent": _folder_ref(root["id"])})) \
        == "709"
    assert error_code(api.post_form(f"{A}/folders.json", {"name": "X", "parent": _folder_ref(987654)})) == "710"


def test_channels_page_and_byname_show_progression_with_step_zero(api) -> None:
    first = api.get(f"{A}/channels.json", {"maxReturn": 2, "offset": 0})["result"]
    rest = api.get(f"{A}/channels.json", {"maxReturn": 200, "offset": 2})["result"]
    names = [c["name"] for c in first + rest]
    assert len(first) == 2 and {"Webinar", "Tradeshow", "Online Advertising", "Email Blast", "Nurture"} <= set(names)
    webinar = api.get(f"{A}/channel/byName.json", {"name": "Webinar"})["result"][0]
    assert webinar["applicableProgramType"] == "webinar"
    steps = {s["name"]: s for s in webinar["progressionStatuses"]}
    assert steps["Not in Program"]["step"] == 0 and steps["Attended"]["success"] is True


def _create(api, folder: int, **fields: str) -> dict:
    form = {"name": "Kaltura Webinar 2026", "type": "Event with Webinar", "channel": "Webinar",
            "folder": _folder_ref(folder), "description": "made by a test", **fields}
    return api.post_form(f"{A}/programs.json", form)


@pytest.fixture(scope="module")
def program(api, kaltura_folder) -> dict:
    created = _create(api, kaltura_folder, costs=json.dumps([{"startDate": "2026-01-01", "cost": 100}]))
    assert created["success"], created
    return created["result"][0]


def test_program_create_shows_folder_as_type_value_foldername(program, kaltura_folder) -> None:
    assert program["folder"] == {"type": "Folder", "value": kaltura_folder, "folderName": "Kaltura"}
    assert program["type"] == "Event with Webinar" and program["channel"] == "Webinar"
    assert program["costs"][0]["cost"] == 100


def test_program_rules_duplicate_name_channel_kind_and_unknown_channel(api, program, kaltura_folder) -> None:
    assert error_code(_create(api, kaltura_folder)) == "709"  # same name
    mismatch = _create(api, kaltura_folder, name="Other", type="Default")  # Webinar channel on a Default program
    assert error_code(mismatch) == "709" and "not applicable" in mismatch["errors"][0]["message"]
    assert error_code(_create(api, kaltura_folder, name="Other", channel="Kaltura Webinar")) == "1003"
    design = api.get(f"{A}/folder/byName.json", {"name": "Design Studio"})["result"][0]["id"]
    assert error_code(_create(api, design, name="Other")) == "709"


def test_program_lookup_update_and_fixed_type(api, program) -> None:
    pid = program["id"]
    assert api.get(f"{A}/program/{pid}.json")["result"][0]["name"] == program["name"]
    assert api.get(f"{A}/program/byName.json", {"name": program["name"]})["result"][0]["id"] == pid
    assert pid in [p["id"] for p in api.get(f"{A}/programs.json", {"maxReturn": 200})["result"]]
    updated = api.post_form(f"{A}/program/{pid}.json", {"description": "new words", "startDate": "2026-03-01",
                                                        "endDate": "2026-03-02"})["result"][0]
    assert updated["description"] == "new words" and updated["startDate"] == "2026-03-01"
    assert updated["type"] == "Event with Webinar" and updated["channel"] == "Webinar"
    backwards = api.post_form(f"{A}/program/{pid}.json", {"endDate": "2026-02-01"})
    assert error_code(backwards) == "1003"


def test_dates_refused_on_non_event_programs(api, kaltura_folder) -> None:
    plain = _create(api, kaltura_folder, name="Ads 2026", type="Default", channel="Online Advertising")
    pid = plain["result"][0]["id"]
    assert error_code(api.post_form(f"{A}/program/{pid}.json", {"startDate": "2026-01-01"})) == "709"


def test_clone_and_delete(api, program, kaltura_folder) -> None:
    clone = api.post_form(f"{A}/program/{program['id']}/clone.json",
                          {"name": "Kaltura Webinar 2026 - Session 2", "folder": _folder_ref(kaltura_folder)})
    copy = clone["result"][0]
    assert copy["id"] != program["id"] and copy["channel"] == "Webinar" and copy["type"] == program["type"]
    again = api.post_form(f"{A}/program/{program['id']}/clone.json",
                          {"name": "Kaltura Webinar 2026 - Session 2", "folder": _folder_ref(kaltura_folder)})
    assert error_code(again) == "709"
    assert error_code(api.post_form(f"{A}/program/{program['id']}/clone.json",
                                    {"name": "x" * 256, "folder": _folder_ref(kaltura_folder)})) == "1003"
    assert api.post_form(f"{A}/program/{copy['id']}/delete.json")["result"] == [{"id": copy["id"]}]
    gone = api.get(f"{A}/program/{copy['id']}.json")
    assert gone["success"] and "result" not in gone


def test_program_names_stay_unique_through_renames_and_deletes(api, kaltura_folder) -> None:
    """Marketo compares program names case-insensitively; lookups and the uniqueness rule follow every rename
    and delete (the sandbox finds programs by name through an index, which must not go stale)."""
    first = _create(api, kaltura_folder, name="Index Old Name")["result"][0]
    renamed = api.post_form(f"{A}/program/{first['id']}.json", {"name": "Index New Name"})
    assert renamed["success"], renamed
    assert api.get(f"{A}/program/byName.json", {"name": "Index New Name"})["result"][0]["id"] == first["id"]
    old = api.get(f"{A}/program/byName.json", {"name": "Index Old Name"})
    assert old["success"] and "result" not in old
    assert _create(api, kaltura_folder, name="index old name")["success"]  # the old name is free again
    assert error_code(_create(api, kaltura_folder, name="INDEX NEW NAME")) == "709"  # the new one is taken
    api.post_form(f"{A}/program/{first['id']}/delete.json")
    assert _create(api, kaltura_folder, name="Index New Name")["success"]  # free after the delete
