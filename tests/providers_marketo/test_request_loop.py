"""The client's one request loop: every kind of reply (envelope, CSV file, token) gets the same token
renewal (601/602), retries with backoff (606, 615, ...), paging by nextPageToken and error mapping."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from provisioner.clock import FakeClock
from provisioner.manifest.model import ManifestSet
from provisioner.providers.marketo.errors import MarketoError
from provisioner.providers.marketo.retry import RetryPolicy
from provisioner.sandbox.tls import TLSMaterial

from .support import FAST_BUDGET, UNTHROTTLED, client_for, seeded_config, serving

LEADS = "/rest/v1/leads.json"
QUICK = RetryPolicy(base_s=0.01, rate_base_s=0.2, rate_cap_s=0.4)


def test_pages_follow_next_page_token_to_the_end(tls: TLSMaterial, manifests: ManifestSet) -> None:
    with serving(tls, seeded_config(manifests, **UNTHROTTLED)) as server:
        client, recorder = client_for(server, tls, budget=FAST_BUDGET)
        emails = [f"page{i}@example.com" for i in range(5)]
        client.post_json(LEADS, {"input": [{"email": e} for e in emails]})
        pages = list(client.pages(LEADS, {"filterType": "email", "filterValues": ",".join(emails),
                                          "fields": "email", "batchSize": 2}))
        assert [len(p) for p in pages] == [2, 2, 1]
        assert sorted(r["email"] for p in pages for r in p) == emails
        assert server.stats()["calls"]["by_route"]["GET /rest/v1/leads.json"] == 3
        tokens = [e.url for e in recorder.exchanges if "nextPageToken=" in e.url]
        assert len(tokens) == 2 and all("access_token" not in e.url for e in recorder.exchanges)


def test_a_file_reply_renews_an_expired_token_and_waits_out_the_rate_limit(tls: TLSMaterial,
                                                                           manifests: ManifestSet) -> None:
    clock = FakeClock()  # the sandbox and the client in one simulated time: waiting out the window costs nothing
    with serving(tls, seeded_config(manifests, **UNTHROTTLED), clock=clock) as server:
        client, recorder = client_for(server, tls, budget=FAST_BUDGET, retry=QUICK)
        batch = client.post_multipart("/bulk/v1/leads.json", {"file": ("l.csv", "email\nok@example.com\nbad\n",
                                                                       "text/csv")}, params={"format": "csv"})
        batch_id = batch[0]["batchId"]
        while client.get(f"/bulk/v1/leads/batch/{batch_id}.json")[0]["status"] in ("Queued", "Importing"):
            clock.advance(1.0)
        admin = client.session.post(server.base_url + "/__sandbox/tokens/expire", timeout=10)
        assert admin.status_code == 200
        server.app.config.rate_limit_calls, server.app.config.rate_limit_window_s = 1, 0.3
        text = client.get_text(f"/bulk/v1/leads/batch/{batch_id}/failures.json")
        assert "bad" in text and "Import Failure Reason" in text.splitlines()[0]
        assert client.retried["602"] == 1  # renewed once, then the call went through
        assert client.retried["606"] >= 1  # the window was full: waited and sent again
        assert [c for c in recorder.codes() if c not in ("602", "606")] == []


def test_a_failure_that_is_not_retryable_is_raised_with_marketos_code(tls: TLSMaterial,
                                                                      manifests: ManifestSet) -> None:
    with serving(tls, seeded_config(manifests, **UNTHROTTLED)) as server:
        client, recorder = client_for(server, tls, budget=FAST_BUDGET, retry=QUICK)
        with pytest.raises(MarketoError) as caught:
            client.get_text("/bulk/v1/leads/batch/424242/failures.json")
        assert caught.value.code == "1013" and "424242" in caught.value.message
        assert len([e for e in recorder.exchanges if "/bulk/" in e.url]) == 1  # not retried


def test_a_custom_object_write_refused_on_contention_is_retried_and_lands_once(tls: TLSMaterial,
                                                                             manifests: ManifestSet) -> None:
    """Race mode: of two concurrent writes of one dedupe key, Marketo refuses the later (604); the client
    retries it (an upsert is idempotent) and the record ends written once."""
    with serving(tls, seeded_config(manifests, race=True, race_window_s=0.75, **UNTHROTTLED)) as server:
        client, _ = client_for(server, tls, budget=FAST_BUDGET, retry=QUICK)
        schema = "/rest/v1/customobjects/schema"
        server.app.race = False  # the set-up calls are not concurrent
        client.post_json(f"{schema}.json", {"apiName": "seat", "displayName": "Seat"})
        client.post_json(f"{schema}/seat/addField.json", {"input": [
            {"name": "seatId", "displayName": "Seat", "dataType": "string", "isDedupeField": True},
            {"name": "row", "displayName": "Row", "dataType": "integer"}]})
        client.post_json(f"{schema}/seat/approve.json", None)
        server.app.race = True
        start = threading.Barrier(2)

        def write(row: int) -> str:
            start.wait()
            return client.post_json("/rest/v1/customobjects/seat.json", {"input": [{"seatId": "A1", "row": row}]},
                                    idempotent=True)[0]["status"]

        with ThreadPoolExecutor(2) as pool:
            outcomes = sorted(pool.map(write, [1, 2]))
        assert outcomes == ["created", "updated"] and client.retried["604"] == 1
        server.app.race = False
        records = client.get("/rest/v1/customobjects/seat.json", {"filterType": "dedupeFields", "filterValues": "A1",
                                                                   "fields": "seatId,row"})
        assert len(records) == 1
