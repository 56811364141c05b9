"""The published schema: valid 2020-12, help text on every property, and the fast path agrees with jsonschema."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import pytest
import yaml

from provisioner.manifest.schema_check import load_schema
from provisioner.manifest.schema_fastpath import FastValidator, UnsupportedSchema

REPO = Path(__file__).resolve().parents[2]


def test_schema_is_valid_2020_12_with_id() -> None:
    schema = json.loads((REPO / "schemas" / "manifest.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"].endswith("manifest.schema.json")
    assert schema == load_schema()


def _properties(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            yield f"{path}.{name}", sub
        for key, sub in node.items():
            yield from _properties(sub, f"{path}/{key}")
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            yield from _properties(sub, f"{path}[{i}]")


def test_every_property_has_a_description() -> None:
    missing = [path for path, prop in _properties(load_schema()) if not prop.get("description")]
    assert not missing, missing


def test_objects_reject_unknown_keys() -> None:
    def objects(node: Any) -> Iterator[dict[str, Any]]:
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                yield node
            for sub in node.values():
                yield from objects(sub)
    for obj in objects(load_schema()):
        assert obj.get("additionalProperties") is False, obj.get("description")


def _documents() -> list[Any]:
    docs = []
    for path in sorted((REPO / "manifests").glob("*.yaml")):
        docs.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    return docs


def _mutations(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Small breakages of a valid document: each should make it invalid (or not) for both validators."""
    yield doc
    for key in list(doc):
        broken = copy.deepcopy(doc)
        del broken[key]
        yield broken
    broken = copy.deepcopy(doc); broken["extra"] = 1; yield broken
    broken = copy.deepcopy(doc); broken["kind"] = "Nope"; yield broken
    broken = copy.deepcopy(doc); broken["metadata"]["name"] = "Not Valid"; yield broken
    broken = copy.deepcopy(doc); broken["spec"]["bogus"] = True; yield broken
    spec = doc["spec"]
    for key, value in spec.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            for inner in list(value[0]):
                broken = copy.deepcopy(doc)
                broken["spec"][key][0][inner] = True  # wrong type almost everywhere
                yield broken
                broken = copy.deepcopy(doc)
                del broken["spec"][key][0][inner]
                yield broken


def test_fast_path_agrees_with_jsonschema() -> None:
    schema = load_schema()
    fast = FastValidator(schema)
    slow = jsonschema.Draft202012Validator(schema)
    checked = 0
    for doc in _documents():
        for variant in _mutations(doc):
            assert fast(variant) == slow.is_valid(variant), json.dumps(variant)[:300]
            checked += 1
    assert checked > 100


def test_fast_path_refuses_keywords_it_does_not_know() -> None:
    with pytest.raises(UnsupportedSchema):
        FastValidator({"type": "object", "dependentRequired": {"a": ["b"]}})
    assert FastValidator({"enum": [1]})(True) is False  # JSON equality: true is not 1
