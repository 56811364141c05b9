"""Fixtures for the Marketo sandbox tests: one TLS CA for the session, one default server per module."""

from __future__ import annotations

from typing import Iterator

import pytest

from provisioner.sandbox.httpserver import SandboxServer
from provisioner.sandbox.tls import TLSMaterial, generate_tls

from .support import Api, serving


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TLSMaterial:
    return generate_tls(tmp_path_factory.mktemp("marketo-tls"))


@pytest.fixture(scope="module")
def server(tls: TLSMaterial) -> Iterator[SandboxServer]:
    with serving(tls) as running:
        yield running


@pytest.fixture(scope="module")
def api(server: SandboxServer, tls: TLSMaterial) -> Api:
    return Api(server, tls)
