"""Configuration of the emulated Marketo instance: credentials, limits, API permissions, channels."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .credentials import DEMO_API_USER, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

#: The API role permissions the Kaltura/Marketo setup articles ask for.
ALL_PERMISSIONS: frozenset[str] = frozenset({
    "Read-Write Person",
    "Read-Write Activity",
    "Read-Write Activity Metadata",
    "Read-Write Assets",
    "Read-Write Campaigns",
})

#: Program types and the ``applicableProgramType`` of the channels each may use.
PROGRAM_TYPE_CHANNEL_KIND: dict[str, str] = {
    "Default": "program",
    "Event": "event",
    "Event with Webinar": "webinar",
    "Engagement": "nurture",
    "Email": "email",
}

DEFAULT_CHANNELS_FILE = Path(__file__).resolve().parent.parent / "data" / "marketo-channels.json"


class ChannelFileError(ValueError):
    """A channels file that cannot describe Marketo channels."""


def load_channels(path: str | Path) -> list[dict[str, Any]]:
    """Read channels from a JSON or YAML file (for ``--marketo-channels FILE``) and check their shape."""
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    data = json.loads(text) if p.suffix.lower() == ".json" else yaml.safe_load(text)
    if isinstance(data, dict) and "channels" in data:
        data = data["channels"]
    if not isinstance(data, list):
        raise ChannelFileError(f"{p}: expected a list of channels")
    return [checked_channel(c, p) for c in data]


def default_channels() -> list[dict[str, Any]]:
    """Marketo's standard channels (Webinar, Tradeshow, Online Advertising, …) shipped with the sandbox."""
    return load_channels(DEFAULT_CHANNELS_FILE)


def checked_channel(channel: Any, source: Path) -> dict[str, Any]:
    """A channel in the sandbox's shape; a "Not in Program" step 0 is added when missing."""
    if not isinstance(channel, dict) or not channel.get("name"):
        raise ChannelFileError(f"{source}: every channel needs a name")
    kind = channel.get("applicableProgramType")
    if kind not in PROGRAM_TYPE_CHANNEL_KIND.values():
        raise ChannelFileError(f"{source}: channel {channel['name']!r}: applicableProgramType must be one of "
                               f"{sorted(set(PROGRAM_TYPE_CHANNEL_KIND.values()))}")
    statuses = channel.get("progressionStatuses") or []
    if not any(s.get("step") == 0 for s in statuses):
        statuses = [{"name": "Not in Program", "step": 0, "success": False, "hidden": False,
                     "type": "neutral"}] + list(statuses)
    cleaned = []
    for s in statuses:
        if not isinstance(s, dict) or not s.get("name") or not isinstance(s.get("step"), int):
            raise ChannelFileError(f"{source}: channel {channel['name']!r}: "
                                   "each status needs a name and an integer step")
        success = bool(s.get("success", False))
        cleaned.append({"name": s["name"], "step": s["step"], "success": success,
                        "hidden": bool(s.get("hidden", False)),
                        "type": s.get("type") or ("success" if success else "neutral")})
    return {"name": channel["name"], "applicableProgramType": kind, "progressionStatuses": cleaned}


@dataclass
class MarketoConfig:
    """What the emulated instance accepts and enforces; defaults are Marketo's published limits."""

    client_id: str = DEMO_CLIENT_ID
    client_secret: str = DEMO_CLIENT_SECRET
    api_user: str = DEMO_API_USER
    token_ttl_seconds: int = 3600
    rate_limit_calls: int = 100
    rate_limit_window_s: float = 20.0
    max_concurrent: int = 10
    daily_quota: int = 50000
    permissions: frozenset[str] | set[str] = ALL_PERMISSIONS
    channels: list[dict[str, Any]] = field(default_factory=default_channels)
    max_batch: int = 300
    max_body_bytes: int = 1024 * 1024
    max_bulk_file_bytes: int = 10 * 1024 * 1024
    max_custom_object_types: int = 10
    max_custom_object_fields: int = 50
    max_activity_types: int = 10
    max_activity_attributes: int = 20
    #: Race mode (see :mod:`.race`): concurrent upserts of one key duplicate leads and refuse the later
    #: custom object write (604), as on a real instance; off, every upsert is atomic.
    race: bool = False
    #: In race mode, how long an upsert waits (state lock released) for a concurrent one naming its keys.
    race_window_s: float = 0.25
    bulk_delay_s: float = 0.2
    bulk_max_processing: int = 2
    bulk_max_queued: int = 10  # imports in the queue at once, the processing ones included (1016 beyond)

    def __post_init__(self) -> None:
        self.permissions = frozenset(self.permissions)
        self.channels = [checked_channel(c, Path("<config>")) for c in self.channels]
