"""Fixtures for the Marketo provider tests: one TLS CA for the session; servers are started per module."""

from __future__ import annotations

import pytest

from provisioner.manifest.model import ManifestSet
from provisioner.sandbox.tls import TLSMaterial, generate_tls

from .support import kaltura


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TLSMaterial:
    return generate_tls(tmp_path_factory.mktemp("marketo-provider-tls"))


@pytest.fixture(scope="session")
def manifests() -> ManifestSet:
    return kaltura()
