"""The accounts a sync prints: ``read N = confirmed C + rejected R + unchanged U + pending P``.

A row may go to several targets (a registration: CampaignMember, Marketo lead and program member); its
fate is the least settled of its targets' states (the rule provisioner/sync/accounting.py documents):
pending if any target is not settled, else rejected if any target rejected it, else confirmed if any target
wrote it, else unchanged. The expected fates and lines below are written out by hand from that rule.
Fast and in-process, so the mutation run (``.ci/mutation``) can use them for every accounting mutant.
"""

from __future__ import annotations

import pytest

from provisioner.sync.accounting import Accounts, fate
from provisioner.sync.sources import Row
from provisioner.sync.work import Item


def row(line: int) -> Row:
    return Row("registration", {"email": f"p{line}@example.com"}, "in.csv", line)


def item(r: Row, target: str, state: str) -> Item:
    return Item(target, f"k{r.line}", "digest", r, state=state)


@pytest.mark.parametrize("states,expected", [
    ((), "unchanged"),  # every target already had it
    (("confirmed",), "confirmed"),
    (("confirmed", "confirmed", "confirmed"), "confirmed"),
    (("rejected",), "rejected"),
    (("confirmed", "rejected"), "rejected"),  # in the rejects file, though one target took it
    (("pending",), "pending"),
    (("sent",), "pending"),  # the call went out, no answer: not known to be in the org
    (("reconciled",), "pending"),
    (("confirmed", "sent"), "pending"),
    (("rejected", "pending"), "pending"),  # pending beats rejected: the re-run may still write it
    (("confirmed", "rejected", "sent"), "pending"),
])
def test_a_rows_fate_is_its_least_settled_target(states: tuple[str, ...], expected: str) -> None:
    assert fate(states) == expected
    assert fate(iter(states)) == expected  # the engine passes a generator


def test_the_line_counts_each_row_once_and_adds_up() -> None:
    accounts = Accounts()
    accounts.settle(["confirmed"] * 35 + ["rejected"] * 3 + ["unchanged"] * 2)
    assert accounts.line() == "read 40 = confirmed 35 + rejected 3 + unchanged 2 + pending 0"
    assert accounts.as_json() == {"read": 40, "confirmed": 35, "rejected": 3, "unchanged": 2, "pending": 0}
    assert accounts.adds_up() and accounts.pending == 0
    accounts.settle(["pending", "pending"])
    assert accounts.line() == "read 42 = confirmed 35 + rejected 3 + unchanged 2 + pending 2"
    assert accounts.pending == 2 and accounts.adds_up()


def test_a_dry_run_says_would_be_written_instead_of_confirmed() -> None:
    accounts = Accounts()
    accounts.settle(["confirmed", "unchanged"])
    assert accounts.line(dry_run=True) == "read 2 = would be written 1 + rejected 0 + unchanged 1 + pending 0"


def test_accounts_that_do_not_add_up_are_caught() -> None:
    accounts = Accounts()
    accounts.settle(["confirmed"])
    accounts.read += 1  # a row read and never settled
    assert not accounts.adds_up()
    fresh = Accounts()
    assert fresh.as_json() == {"read": 0, "confirmed": 0, "rejected": 0, "unchanged": 0, "pending": 0}
    assert fresh.adds_up()


def test_a_batch_counts_rows_not_work_items() -> None:
    """Three rows, five work items: a registration to Salesforce and Marketo counts once."""
    both, half, none, early = row(2), row(3), row(4), row(5)
    items = [item(both, "salesforce", "confirmed"), item(both, "marketo", "confirmed"),
             item(half, "salesforce", "confirmed"), item(half, "marketo", "rejected"),
             item(early, "marketo", "sent")]
    accounts = Accounts()
    # ``early`` was decided before any write (a later row of its key replaced it), whatever its items say
    accounts.settle_batch([both, half, none, early], items, {id(early): "unchanged"})
    assert accounts.as_json() == {"read": 4, "confirmed": 1, "rejected": 1, "unchanged": 2, "pending": 0}


def test_rows_with_equal_values_are_still_two_rows() -> None:
    """Rows are matched to their items by identity: two equal rows each get their own fate."""
    first, second = row(7), row(7)
    assert first == second and first is not second
    accounts = Accounts()
    accounts.settle_batch([first, second], [item(first, "salesforce", "confirmed"),
                                            item(second, "salesforce", "sent")], {})
    assert accounts.as_json() == {"read": 2, "confirmed": 1, "rejected": 0, "unchanged": 0, "pending": 1}
