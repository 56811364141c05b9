"""The tool's Salesforce clients against a sandbox in race mode: upserts of one key sent at the same
time by two writers (two syncs, parallel workers) all land, once.

Salesforce runs concurrent requests as parallel transactions; the loser of a race on a new key gets
DUPLICATE_VALUE "duplicate value found: <key> duplicates value on record with id: <id>", on an
existing row UNABLE_TO_LOCK_ROW (REST API Developer Guide, "Status Codes and Error Responses";
StatusCode in "Core Data Types Used in API Calls"). Sent again, the record matches the winner's row.
Before the clients settled these, the loser's rows ended in the sync's rejects file.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest

from provisioner.http import make_session
from provisioner.providers.salesforce.bulk2 import Bulk2Client
from provisioner.providers.salesforce.connection import SalesforceConnection
from provisioner.sandbox.runtime import Sandbox
from sandbox_salesforce.conftest import client_credentials_token, grant, salesforce_client

HOLD_SECONDS = 1.0  # the two writers start together (a barrier); a lone retry waits this long for a rival


@pytest.fixture
def racing(tmp_path: Path) -> Iterator[tuple[Sandbox, str]]:
    with Sandbox(tmp_path / "box", marketo=False, race=True, race_hold_seconds=HOLD_SECONDS) as box:
        sf = salesforce_client(box, client_credentials_token(box, make_session(box.ca_bundle)))
        md = sf.mdapi
        md.CustomObject.create([md.CustomObject(
            fullName="Raced__c", label="Raced", pluralLabel="Raced", deploymentStatus="Deployed",
            sharingModel="ReadWrite", nameField=md.CustomField(label="Name", type="Text"),
            fields=[md.CustomField(fullName="Key__c", label="Key", type="Text", length=40, externalId=True,
                                   unique=True, caseSensitive=False)])])
        grant(sf, ["Raced__c.Key__c"])
        yield box, "Raced__c"


def together(calls: list[Callable[[], Any]]) -> list[Any]:
    start = threading.Barrier(len(calls))
    out: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        start.wait()
        out[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return out


def rows(box: Sandbox, obj: str) -> list[dict[str, Any]]:
    return SalesforceConnection.from_env(box.env()).data.query(f"SELECT Key__c, Name FROM {obj}")


def test_collection_upserts_racing_on_one_key_all_land(racing: tuple[Sandbox, str]) -> None:
    box, obj = racing
    writers = [SalesforceConnection.from_env(box.env()) for _ in range(2)]
    batches = [[{"Key__c": "shared", "Name": f"w{i}"}, {"Key__c": f"own-{i}", "Name": f"w{i}"}] for i in range(2)]
    results = together([lambda c=c, b=b: c.data.upsert(obj, "Key__c", b) for c, b in zip(writers, batches)])
    assert box.salesforce_app.race is not None and box.salesforce_app.race.collisions >= 1  # the race happened
    assert all(r.success for batch in results for r in batch), [r.errors for batch in results for r in batch]
    keys = sorted(r["Key__c"] for r in rows(box, obj))
    assert keys == ["own-0", "own-1", "shared"]  # nothing lost, nothing twice


def test_bulk_upserts_racing_on_one_key_all_land(racing: tuple[Sandbox, str]) -> None:
    box, obj = racing
    writers = [Bulk2Client(SalesforceConnection.from_env(box.env()).sf, poll_s=0.0) for _ in range(2)]
    batches = [[{"Key__c": "b-shared", "Name": f"w{i}"}, {"Key__c": f"b-own-{i}", "Name": f"w{i}"}] for i in range(2)]
    results = together([lambda c=c, b=b: c.upsert(obj, "Key__c", b) for c, b in zip(writers, batches)])
    assert all(r.success for batch in results for r in batch), [r.errors for batch in results for r in batch]
    keys = sorted(r["Key__c"] for r in rows(box, obj))
    assert keys == ["b-own-0", "b-own-1", "b-shared"]
