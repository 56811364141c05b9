"""The published JSON Schemas (schemas/ at the repository root links here)."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=None)
def event_data_columns() -> tuple[str, ...]:
    """The source columns ``event-data.schema.json`` documents (one fact in one place: validate and sync use it)."""
    schema = json.loads(resources.files(__name__).joinpath("event-data.schema.json").read_text("utf-8"))
    return tuple(schema["properties"])
