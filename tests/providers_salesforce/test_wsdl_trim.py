"""The trimmed metadata WSDL gives zeep the same types and operations as Salesforce's whole WSDL."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from zeep import Client, Settings
from zeep.transports import Transport

from provisioner.providers.salesforce import wsdl

NS = "{http://soap.sforce.com/2006/04/metadata}"
CLIENT_SOURCE = Path(wsdl.__file__).with_name("metadata_client.py")


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> tuple[Client, Client]:
    settings = Settings(strict=False, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    trimmed = wsdl.trimmed_wsdl(cache_dir=tmp_path_factory.mktemp("cache"))
    assert trimmed != wsdl.source_wsdl() and trimmed.stat().st_size < wsdl.source_wsdl().stat().st_size / 2
    return (Client(wsdl.source_wsdl().as_uri(), transport=Transport(), settings=settings),
            Client(trimmed.as_uri(), transport=Transport(), settings=settings))


def test_every_operation_the_client_calls_is_kept() -> None:
    called = set(re.findall(r'_call\(\s*"(\w+)"', CLIENT_SOURCE.read_text())) | {"upsertMetadata"}
    assert called <= set(wsdl.OPERATIONS), called - set(wsdl.OPERATIONS)


@pytest.mark.parametrize("type_name", [*wsdl.TYPES, "ListMetadataQuery", "SessionHeader", "ReadResult",
                                       "UpsertResult", "DeleteResult", "FileProperties"])
def test_kept_types_have_the_same_shape_as_in_the_whole_wsdl(clients: tuple[Client, Client], type_name: str) -> None:
    full, trimmed = clients
    get = (lambda c: c.get_element(NS + type_name)) if type_name == "SessionHeader" else \
        (lambda c: c.get_type(NS + type_name))
    assert get(trimmed).signature(schema=trimmed.wsdl.types) == get(full).signature(schema=full.wsdl.types)


def test_kept_operations_have_the_same_signatures(clients: tuple[Client, Client]) -> None:
    full, trimmed = clients
    binding = f"{NS}MetadataBinding"
    for name in wsdl.OPERATIONS:
        a = full.wsdl.bindings[binding].get(name)
        b = trimmed.wsdl.bindings[binding].get(name)
        assert b.input.signature() == a.input.signature() and b.output.signature() == a.output.signature()
    assert set(trimmed.wsdl.bindings[binding]._operations) == set(wsdl.OPERATIONS)


def test_the_cache_is_reused_and_keyed_by_the_source(tmp_path: Path) -> None:
    first = wsdl.trimmed_wsdl(cache_dir=tmp_path)
    mtime = first.stat().st_mtime_ns
    assert wsdl.trimmed_wsdl(cache_dir=tmp_path) == first and first.stat().st_mtime_ns == mtime
    changed = tmp_path / "other.wsdl"
    changed.write_bytes(wsdl.source_wsdl().read_bytes().replace(b"<!--", b"<!-- changed", 1))
    assert wsdl.trimmed_wsdl(changed, cache_dir=tmp_path) != first


def test_an_unwritable_cache_falls_back_to_the_whole_wsdl(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert wsdl.trimmed_wsdl(cache_dir=blocker / "cache") == wsdl.source_wsdl()
