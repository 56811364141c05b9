"""What a provider gives the generic engine and the CLI (Terraform's provider, in small).

A provider package exposes ``PROVIDER``, an object with this shape. The CLI finds providers
through :mod:`provisioner.providers.registry`, so a provider's heavy client libraries are only
imported when its manifests are planned or applied.
"""

from __future__ import annotations

from pathlib import Path

import os

from typing import Any, Mapping, Protocol

from ..manifest.model import ManifestSet
from ..plan.resource import Desired, ResourceKind


class ConnectionError_(Exception):
    """Raised by ``connect`` with a message a user can act on (what is missing, what to set)."""


class Provider(Protocol):
    name: str  # "salesforce" or "marketo": the address prefix of its resources

    def applies_to(self, manifests: ManifestSet) -> bool:
        """True when the manifests declare anything this provider manages."""

    def desired(self, manifests: ManifestSet) -> list[Desired]:
        """Every resource the manifests declare, as Desired (addresses, normalised attributes)."""

    def kinds(self) -> list[ResourceKind]:
        """The resource kinds, each with read/apply (and optionally classify)."""

    def connect(self, env: Mapping[str, str]) -> Any:
        """A connection from environment variables; raises ConnectionError_ with a clear message."""


def cache_dir() -> Path:
    """Where the tool keeps what outlives a run on this machine (the trimmed WSDL, Marketo's call window):
    $XDG_CACHE_HOME/provisioner, else ~/.cache/provisioner."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "provisioner"
