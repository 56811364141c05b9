"""The ledger decides what a re-run sends again: confirmed or rejected rows of unchanged content are done,
changed ones are not, a row older than the one recorded is superseded, and only committed batches survive
a crash. Expected states are written out here from those rules, not computed by the ledger."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.sync.ledger import Ledger, content_hash


@pytest.fixture
def ledger(tmp_path: Path):  # type: ignore[no-untyped-def]
    book = Ledger(tmp_path / "deep" / "folder" / "ledger.sqlite")  # the folder is created
    yield book
    book.close()


def test_content_hash_is_stable_so_ledgers_written_by_earlier_versions_stay_valid() -> None:
    # pinned values: a change of the hash (e.g. of how non-ASCII text is encoded) would make every re-run
    # after an upgrade send every row again
    assert content_hash({"b": "2", "a": "1"}) == "0e09eeab5bdeab40e2af08a4432d53de"
    assert content_hash({"email": "zoë@example.com", "first_name": "Zoë", "session": "Köln 2026"}) == \
        "da03914ac7ccb2934acb3a5e4172f62f"
    # values computed by 0.1.0's content_hash (json.dumps per row): quotes, backslashes, line ends, tabs,
    # characters outside the BMP and an empty row hash as they did before the encoder was built once
    assert content_hash({"email": "hélène@example.com", "first_name": "Hélène", "company": 'Zürich ☃ "Q" \\ co',
                         "note": "line\nbreak\ttab"}) == "4a61baac17a14644d90537770fae8dd6"
    assert content_hash({"first_name": "é", "last_name": "日本", "emoji": "\U0001F600"}) == \
        "00342a7b2a77b52dd94017e2e8e822dd"
    assert content_hash({"_kind": "registration", "status": "Registered", "session": "Webinar A",
                         "email": "ann@example.com"}) == "82c5d20da98c57e9ef3fbecb6c391dc4"
    assert content_hash({}) == "44136fa355b3678a1146ad16f7e8649e"


def test_content_hash_ignores_key_order_and_sees_every_value() -> None:
    assert content_hash({"a": "1", "b": "2"}) == content_hash({"b": "2", "a": "1"})
    assert content_hash({"a": "1", "b": "2"}) != content_hash({"a": "1", "b": "3"})
    assert content_hash({"name": "Zoë"}) != content_hash({"name": "Zoe"})
    assert len(content_hash({})) == 32


@pytest.mark.parametrize("state, done", [("confirmed", True), ("rejected", True), ("pending", False),
                                         ("sent", False)])
def test_only_confirmed_or_rejected_rows_of_the_same_content_are_done(ledger: Ledger, state: str,
                                                                      done: bool) -> None:
    ledger.mark("sf.member", "k1", "h1", state)
    known = ledger.lookup("sf.member", ["k1", "k2"])
    assert ledger.is_done("sf.member", "k1", "h1", known) is done
    assert ledger.is_done("sf.member", "k1", "changed", known) is False  # new content: sent again
    assert ledger.is_done("sf.member", "k2", "h1", known) is False  # never seen


def test_lookup_is_per_target_and_handles_more_keys_than_one_query_takes(ledger: Ledger) -> None:
    keys = [f"k{i}" for i in range(1_234)]
    for i, key in enumerate(keys):
        ledger.mark("mk.lead", key, f"h{i}", "confirmed", ref=f"r{i}", at=float(i))
    ledger.mark("sf.member", "k5", "other", "rejected")
    known = ledger.lookup("mk.lead", keys + keys[:3])  # repeated keys are fine
    assert len(known) == 1_234
    assert known["k1233"] == ("h1233", "confirmed", "r1233", 1233.0)
    assert ledger.lookup("sf.member", keys) == {"k5": ("other", "rejected", None, None)}


def test_mark_updates_state_and_keeps_an_earlier_ref_time_and_payload(ledger: Ledger) -> None:
    ledger.mark("mk.activity", "k", "h1", "sent", ref="lead-7", payload={"a": 1}, source="f.csv:3", at=10.0)
    ledger.mark("mk.activity", "k", "h2", "confirmed", reason=None)
    assert ledger.lookup("mk.activity", ["k"])["k"] == ("h2", "confirmed", "lead-7", 10.0)
    ledger.mark("mk.activity", "k", "h2", "sent", ref="lead-8", at=20.0)
    assert ledger.lookup("mk.activity", ["k"])["k"] == ("h2", "sent", "lead-8", 20.0)
    [(key, digest, payload, updated)] = list(ledger.in_state("mk.activity", "sent"))
    assert (key, digest, payload) == ("k", "h2", {"a": 1}) and updated > 0
    assert list(ledger.in_state("mk.activity", "confirmed")) == []
    ledger.mark("mk.import", "42", "", "sent")  # no payload recorded
    assert [(k, p) for k, _, p, _ in ledger.in_state("mk.import", "sent")] == [("42", None)]


def test_a_row_older_than_the_recorded_one_is_superseded_unless_that_one_was_rejected(ledger: Ledger) -> None:
    ledger.mark("sf.member", "later", "h", "confirmed", at=200.0)
    ledger.mark("sf.member", "refused", "h", "rejected", at=200.0)
    ledger.mark("sf.member", "timeless", "h", "confirmed")
    known = ledger.lookup("sf.member", ["later", "refused", "timeless", "new"])
    assert ledger.is_newer(known, "later", 100.0) is True  # an older row must not overwrite a newer one
    assert ledger.is_newer(known, "later", 200.0) is False  # the same time: not older
    assert ledger.is_newer(known, "later", 300.0) is False
    assert ledger.is_newer(known, "later", None) is False  # a row without a time falls back to file order
    assert ledger.is_newer(known, "refused", 100.0) is False  # a rejected row does not hold its place
    assert ledger.is_newer(known, "timeless", 100.0) is False
    assert ledger.is_newer(known, "new", 100.0) is False


def test_counts_by_target_and_state(ledger: Ledger) -> None:
    for i in range(3):
        ledger.mark("sf.member", f"c{i}", "h", "confirmed")
    ledger.mark("sf.member", "r", "h", "rejected", reason="bad status")
    ledger.mark("mk.lead", "p", "h", "pending")
    assert ledger.counts() == {"sf.member": {"confirmed": 3, "rejected": 1}, "mk.lead": {"pending": 1}}


def test_only_committed_batches_survive_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    running = Ledger(path)
    running.mark("sf.member", "batch-1", "h", "confirmed")
    running.commit()  # the end of batch 1
    running.mark("sf.member", "batch-2", "h", "confirmed")  # batch 2 in flight when the process dies
    after_crash = Ledger(path)  # what the next run sees (a second connection: the first never commits again)
    try:
        assert set(after_crash.lookup("sf.member", ["batch-1", "batch-2"])) == {"batch-1"}
    finally:
        after_crash.close()
        running.db.close()  # dropped without a commit, as kill -9 would
    reopened = Ledger(path)
    assert set(reopened.lookup("sf.member", ["batch-1", "batch-2"])) == {"batch-1"}
    reopened.close()


def test_close_commits_and_an_old_ledger_without_times_is_upgraded(tmp_path: Path) -> None:
    import sqlite3

    old = tmp_path / "old.sqlite"
    db = sqlite3.connect(str(old))
    db.executescript("CREATE TABLE rows (target TEXT NOT NULL, key TEXT NOT NULL, hash TEXT NOT NULL, "
                     "state TEXT NOT NULL, reason TEXT, ref TEXT, payload TEXT, source TEXT, updated REAL NOT NULL, "
                     "PRIMARY KEY (target, key));"
                     "INSERT INTO rows VALUES ('sf.member', 'k', 'h', 'confirmed', NULL, NULL, NULL, NULL, 1.0);")
    db.commit()
    db.close()
    book = Ledger(old)
    assert book.lookup("sf.member", ["k"]) == {"k": ("h", "confirmed", None, None)}
    book.mark("sf.member", "k2", "h", "confirmed", at=5.0)
    book.close()  # commits
    again = Ledger(old)
    assert again.lookup("sf.member", ["k2"])["k2"][3] == 5.0
    again.close()


def test_a_row_hashed_again_or_a_look_alike_row_gets_the_digest_of_its_own_json() -> None:
    """Hashing the same values once per target may reuse the last digest, but never for values that only look
    equal to Python (1 == 1.0 == True): each digest is the SHA-256 of the row's own sorted-key JSON."""
    import hashlib
    import json

    def expected(data: object) -> str:
        return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]

    rows = [{"a": "1"}, {"a": "1"}, {"a": 1}, {"a": 1.0}, {"a": True}, {"a": "1"}, {"a": "1", "b": ""},
            {"b": "", "a": "1"}, {1: "x"}, {"1": "x"}, ["a", "1"]]
    assert [content_hash(r) for r in rows] == [expected(r) for r in rows]
    assert len({content_hash(r) for r in rows[2:5]}) == 3
