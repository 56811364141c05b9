"""A stable fingerprint of the live state a plan was made from, to refuse stale plans.

The fingerprint is sha256 over canonical JSON (sorted keys, no whitespace) of each address's
attributes and info. Sensitive attribute values are left out, so no hash of a secret is ever
written to a plan file. Kinds should put in ``Live.info`` only facts that matter to the plan
(record counts of objects marked absent, draft state): all of it is fingerprinted.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Mapping

from .resource import Live


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: equal data gives equal text on every run."""
    return _CANONICAL.encode(value)


#: One encoder for every call (json.dumps with options builds a new one each time; a plan hashes every address).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _state_of(live: Live, sensitive: frozenset[str]) -> dict[str, Any]:
    """What of one live resource counts for staleness."""
    attributes = None
    if live.attributes is not None:
        attributes = {k: v for k, v in live.attributes.items() if k not in sensitive}
    return {"attributes": attributes, "info": live.info}


def address_digests(
    live: Mapping[str, Live], sensitive: Mapping[str, frozenset[str]] | None = None
) -> dict[str, str]:
    """sha256 of each address's live state, so a stale plan can say which addresses changed."""
    sensitive = sensitive or {}
    return {
        address: hashlib.sha256(
            canonical_json(_state_of(state, sensitive.get(address, frozenset()))).encode()
        ).hexdigest()
        for address, state in sorted(live.items())
    }


def fingerprint(digests: Mapping[str, str]) -> str:
    """One ``sha256:<hex>`` over all per-address digests."""
    return "sha256:" + hashlib.sha256(canonical_json(dict(digests)).encode()).hexdigest()


def changed_addresses(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    """Addresses whose digest differs, or that appear on one side only, sorted."""
    return sorted(a for a in set(old) | set(new) if old.get(a) != new.get(a))


def fingerprint_of(live: Mapping[str, Live], sensitive: Mapping[str, frozenset[str]] | None = None) -> str:
    """The fingerprint of a live state read (shorthand for ``fingerprint(address_digests(...))``)."""
    return fingerprint(address_digests(live, sensitive))
