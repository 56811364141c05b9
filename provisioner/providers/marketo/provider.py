"""``PROVIDER``: the Marketo provider as the CLI and the plan engine see it (see :mod:`..base`)."""

from __future__ import annotations

import atexit

import os
from typing import Mapping

from ...manifest.model import ManifestSet
from ...plan import Desired, ResourceKind
from .client import MarketoClient
from .errors import MarketoSettingsError
from ..base import cache_dir
from .ratelimit import Budget, window_file
from .resources.channel import ChannelKind, desired_channel
from .resources.custom_activity import CustomActivityKind, desired_custom_activity
from .resources.custom_object import CustomObjectKind, desired_custom_object
from .resources.program import ProgramKind, desired_program
from .settings import MarketoSettings

#: Optional variables that change the client's budget (defaults: 50 calls / 20 s, 5 concurrent).
BUDGET_VARIABLES = ("MARKETO_MAX_CALLS_PER_20S", "MARKETO_MAX_CONCURRENT")


class MarketoProvider:
    """Channels (verified), programs, custom object types and custom activity types."""

    name = "marketo"

    def applies_to(self, manifests: ManifestSet) -> bool:
        """True when any Marketo manifest declares something."""
        return any(m.channels or m.programs or m.custom_objects or m.custom_activities for m in manifests.marketo)

    def desired(self, manifests: ManifestSet) -> list[Desired]:
        """Every channel, program, custom object and custom activity the manifests declare."""
        out: list[Desired] = []
        for m in manifests.marketo:
            out += [desired_channel(c) for c in m.channels]
        channels = {d.address for d in out}
        for m in manifests.marketo:
            out += [desired_program(p, channels) for p in m.programs]
            out += [desired_custom_object(o) for o in m.custom_objects]
            out += [desired_custom_activity(a) for a in m.custom_activities]
        return out

    def kinds(self) -> list[ResourceKind]:
        """The four kinds; programs after channels, the rest independent."""
        return [ChannelKind(), ProgramKind(), CustomObjectKind(), CustomActivityKind()]

    def connect(self, env: Mapping[str, str] | None = None) -> MarketoClient:
        """A client from MARKETO_* variables; makes no call (the first plan read fetches the token)."""
        env = os.environ if env is None else env
        settings = MarketoSettings.from_env(env)
        client = MarketoClient(settings, budget=budget_from_env(env), window=window_file(settings.endpoint, cache_dir()))
        atexit.register(client.limiter.save)  # the next run on this machine starts knowing this one's calls
        return client


def budget_from_env(env: Mapping[str, str]) -> Budget:
    """The rate budget, from MARKETO_MAX_CALLS_PER_20S / MARKETO_MAX_CONCURRENT when set."""
    values = []
    for name, default in zip(BUDGET_VARIABLES, (Budget().calls, Budget().concurrent)):
        raw = (env.get(name) or "").strip()
        try:
            values.append(int(raw) if raw else default)
        except ValueError:
            raise MarketoSettingsError(f"{name} must be a whole number, not {raw!r}") from None
        if values[-1] < 1:
            raise MarketoSettingsError(f"{name} must be at least 1")
    return Budget(calls=values[0], concurrent=values[1])


PROVIDER = MarketoProvider()
