"""``marketo.channel``: verified against the instance, never written (Marketo's API cannot create or edit
channels). A missing or different channel becomes a manual change with the exact clicks in Admin > Tags."""

from __future__ import annotations

from typing import Any

from ....manifest.model import MarketoChannel
from ....plan import Change, Desired, Live, Result, as_manual, classify_default
from ..client import MarketoClient
from .common import address

KIND = "marketo.channel"
NOT_IN_PROGRAM = "Not in Program"
PAGE = 200  # the asset API's maxReturn maximum


def desired_channel(channel: MarketoChannel) -> Desired:
    """A manifest channel in manifest terms: program type and statuses {name, step, success, hidden}."""
    statuses = [{"name": s.name, "step": s.step, "success": s.success, "hidden": s.hidden} for s in channel.statuses]
    return Desired(address(KIND, channel.name), KIND, {"programType": channel.program_type, "statuses": statuses},
                   location=channel.location)


def live_channel(record: dict[str, Any]) -> dict[str, Any]:
    """A channel as the asset API returns it, in manifest terms ("Not in Program" left out: every channel has it)."""
    statuses = [{"name": s.get("name"), "step": s.get("step"), "success": bool(s.get("success")),
                 "hidden": bool(s.get("hidden"))}
                for s in record.get("progressionStatuses") or [] if s.get("name") != NOT_IN_PROGRAM]
    return {"programType": record.get("applicableProgramType"), "statuses": statuses}


class ChannelKind:
    """Read with one paged ``channels.json`` listing for all channels; apply never writes."""

    name = KIND
    depends_on: tuple[str, ...] = ()
    list_keys = {"statuses": "name"}

    def read(self, conn: MarketoClient, desired: list[Desired]) -> dict[str, Live]:
        """Every channel of the instance in one call (200 a page), matched to the desired addresses."""
        wanted = {d.address for d in desired}
        found: dict[str, Live] = {}
        for page in conn.browse("/rest/asset/v1/channels.json", page_size=PAGE):
            for record in page:
                key = address(KIND, str(record.get("name")))
                if key in wanted:
                    found[key] = Live(key, live_channel(record))
        return found

    def classify(self, desired: Desired, live: Live) -> Change:
        """No-op when the channel matches; otherwise a manual change with the clicks to make it match."""
        change = classify_default(desired, live, self.list_keys)
        if change.is_no_op:
            return change
        name = desired.address[len(KIND) + 1:].strip('"')
        if not live.exists:
            return as_manual(change, "channels cannot be created through Marketo's API",
                             create_steps(name, desired.attributes))
        return as_manual(change, "channels cannot be edited through Marketo's API",
                         edit_steps(name, desired.attributes, live.attributes or {}))

    def apply(self, conn: MarketoClient, changes: list[Change]) -> list[Result]:
        """Channels are never written; the engine reports manual changes and never passes them here."""
        return [Result(c.address, True, c.action, "nothing to do: channels are changed by hand") for c in changes]


def _status_step(status: dict[str, Any]) -> str:
    success = "check Success" if status["success"] else "leave Success unchecked"
    hidden = "; check Hidden" if status.get("hidden") else ""
    return f'status "{status["name"]}" at step {status["step"]}: {success}{hidden}'


def create_steps(name: str, want: dict[str, Any]) -> list[str]:
    """Admin > Tags clicks that create the channel exactly as the manifest describes it."""
    steps = [
        "In Marketo, open Admin > Tags.",
        "Under Tags, select Channels, then click New > New Channel.",
        f'Name: "{name}"; Applicable Program Type: {want["programType"]}; click Create.',
        f'Select the new channel "{name}" and click Edit Channel (progression statuses).',
    ]
    steps += [f"Add {_status_step(s)}." for s in sorted(want["statuses"], key=lambda s: (s["step"], s["name"]))]
    steps.append(f'Leave "{NOT_IN_PROGRAM}" at step 0 as it is, remove any other status, and click Save.')
    return steps


def edit_steps(name: str, want: dict[str, Any], have: dict[str, Any]) -> list[str]:
    """Admin > Tags clicks that turn the live channel into the manifest's, naming only what differs."""
    steps = ["In Marketo, open Admin > Tags and select Channels.",
             f'Select the channel "{name}" and click Edit Channel.']
    if want["programType"] != have.get("programType"):
        steps.append(f'Its Applicable Program Type is {have.get("programType")}, not {want["programType"]}: a '
                     f'channel\'s program type cannot be changed once it is in use, so rename this channel and '
                     f'create "{name}" with program type {want["programType"]} (New > New Channel).')
    live_by_name = {s["name"]: s for s in have.get("statuses", [])}
    want_names = {s["name"] for s in want["statuses"]}
    for status in sorted(want["statuses"], key=lambda s: (s["step"], s["name"])):
        current = live_by_name.get(status["name"])
        if current is None:
            steps.append(f"Add {_status_step(status)}.")
        elif current != status:
            steps.append(f"Change {_status_step(status)} (now step {current['step']}, "
                         f"Success {'checked' if current['success'] else 'unchecked'}"
                         f"{', Hidden checked' if current.get('hidden') else ''}).")
    for status in have.get("statuses", []):
        if status["name"] not in want_names:
            steps.append(f'Remove status "{status["name"]}" (step {status["step"]}), or add it to the manifest '
                         "if it should stay.")
    steps.append("Click Save.")
    return steps
