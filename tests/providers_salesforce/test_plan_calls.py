"""A plan on an empty org spends the reads Salesforce's documented limits require, counted from the sandbox's
own request records: readMetadata takes 10 components of one type a call, so the objects (custom fields come
with their object) cost ceil(objects / 10) calls and the permission sets ceil(sets / 10); an object found absent
is not asked for again by the field kind. Identity (userinfo) is read only for a saved plan, and the remaining
daily limit comes from the Sforce-Limit-Info header of a REST reply, not from /limits."""

from __future__ import annotations

from pathlib import Path

import yaml

from provisioner.sandbox.runtime import Sandbox

from .conftest import run

METADATA_COMPONENTS = 10  # readMetadata: at most 10 components of one type per call


def ceil_div(n: int, d: int) -> int:
    return -(-n // d)


def test_a_plan_on_an_empty_org_reads_each_metadata_type_once_per_ten_names(org: Sandbox, manifests: Path) -> None:
    files = [manifests / "kaltura-salesforce.yaml", manifests / "livestorm-salesforce.yaml"]
    specs = [d["spec"] for f in files for d in yaml.safe_load_all(f.read_text("utf-8")) if d and d["kind"] == "Salesforce"]
    objects = {o["name"] for s in specs for o in s.get("objects", [])}
    permission_sets = {s["access"]["permissionSet"]["name"] for s in specs if s.get("access", {}).get("permissionSet")}
    org.server("salesforce").reset_stats()
    result = run(org.env(), "plan", *map(str, files))
    assert result.exit_code == 0, result.output
    calls = org.stats()["salesforce"]["calls"]["by_route"]
    assert calls["POST /services/Soap/m readMetadata"] == (ceil_div(len(objects), METADATA_COMPONENTS)
                                                           + ceil_div(len(permission_sets), METADATA_COMPONENTS))
    assert "GET /services/oauth2/userinfo" not in calls
    assert "GET /services/data/limits" not in calls
    assert "Plan: 0 to add" not in result.output  # the empty org lacks everything: the plan has writes to forecast
