"""Seed the sandbox with what an admin creates by hand and no API can: Marketo channels.

Marketo's API cannot create or edit channels (Admin > Tags), so a sandbox that should look
like a prepared instance gets the channels of the manifests, in the API's own shape.
"""

from __future__ import annotations

from typing import Any

from ..manifest.model import ManifestSet


def channels_from_manifests(manifests: ManifestSet) -> list[dict[str, Any]]:
    """Every channel the Marketo manifests declare, as ``GET /rest/asset/v1/channels.json`` returns it."""
    channels = []
    for manifest in manifests.marketo:
        for channel in manifest.channels:
            statuses = [{"name": "Not in Program", "step": 0, "success": False, "hidden": False, "type": "neutral"}]
            statuses += [{"name": s.name, "step": s.step, "success": s.success, "hidden": s.hidden,
                          "type": "success" if s.success else "neutral",
                          **({"description": s.description} if s.description else {})}
                         for s in channel.statuses]
            channels.append({"name": channel.name, "applicableProgramType": channel.program_type,
                             "progressionStatuses": statuses})
    return channels
