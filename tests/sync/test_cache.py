"""The run cache keeps what a sync learned per e-mail for the whole run, in bounded memory."""

from __future__ import annotations

from provisioner.sync.cache import RunCache


def test_entries_spilled_past_the_limit_are_still_found_with_their_values() -> None:
    cache: RunCache[tuple[str, str] | None] = RunCache(limit=2)
    cache["a@x.com"] = ("Lead", "00Q1")
    cache["b@x.com"] = None  # looked up, nobody has this e-mail: not the same as never looked up
    cache["c@x.com"] = ("Contact", "0031")
    cache["d@x.com"] = ("Lead", "00Q4")
    cache.trim()
    assert len(cache._recent) == 2  # the two oldest went to disk
    assert cache.get("a@x.com") == ("Lead", "00Q1")
    assert "b@x.com" in cache and cache.get("b@x.com", "missing") is None
    assert "e@x.com" not in cache and cache.get("e@x.com", "missing") == "missing"
    assert cache.setdefault("a@x.com", ("Lead", "other")) == ("Lead", "00Q1")


def test_a_newer_value_wins_over_the_spilled_one_across_trims() -> None:
    cache: RunCache[int | None] = RunCache(limit=1)
    cache["a@x.com"] = 1
    cache["b@x.com"] = 2
    cache.trim()
    cache["a@x.com"] = 10
    cache["c@x.com"] = 3
    cache.trim()
    cache.trim()
    assert [cache.get(k) for k in ("a@x.com", "b@x.com", "c@x.com")] == [10, 2, 3]
