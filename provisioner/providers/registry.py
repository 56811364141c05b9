"""The providers the CLI knows, imported lazily so `validate` never loads an API client."""

from __future__ import annotations

import importlib

from .base import Provider

#: Provider name → module exposing PROVIDER.
PROVIDERS = {
    "salesforce": "provisioner.providers.salesforce.provider",
    "marketo": "provisioner.providers.marketo.provider",
}


def get_provider(name: str) -> Provider:
    """The provider called ``name`` (its module is imported on first use)."""
    return importlib.import_module(PROVIDERS[name]).PROVIDER
