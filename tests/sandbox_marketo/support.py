"""Test helpers: start an emulated Marketo instance over HTTPS and talk to it through requests."""

from __future__ import annotations

import contextlib
import time
from typing import Any, Iterator

import requests

from provisioner.clock import Clock
from provisioner.http import make_session
from provisioner.sandbox.httpserver import SandboxServer, ServerOptions
from provisioner.sandbox.marketo import contract
from provisioner.sandbox.marketo.app import MarketoApp, MarketoConfig
from provisioner.sandbox.tls import TLSMaterial


@contextlib.contextmanager
def serving(tls: TLSMaterial, config: MarketoConfig | None = None,
            options: ServerOptions | None = None, clock: Clock | None = None) -> Iterator[SandboxServer]:
    """A running sandbox server on an ephemeral port for the duration of the block (on ``clock``, a
    :class:`~provisioner.clock.FakeClock` when a test moves time itself)."""
    app = MarketoApp(config or MarketoConfig(), clock=clock)
    server = SandboxServer(app, tls, options=options)
    try:
        with server:
            yield server
    finally:
        app.close()


class Api:
    """A minimal REST caller: real HTTPS with the pinned CA; every request is checked against the spec."""

    def __init__(self, server: SandboxServer, tls: TLSMaterial, client_id: str | None = None,
                 client_secret: str | None = None) -> None:
        config = server.app.config
        self.base = server.base_url
        self.session = make_session(str(tls.ca_cert))
        self.client_id = client_id or config.client_id
        self.client_secret = client_secret or config.client_secret
        self._token: str | None = None

    def identity(self, method: str = "GET", **params: str) -> requests.Response:
        query = {"grant_type": "client_credentials", "client_id": self.client_id,
                 "client_secret": self.client_secret, **params}
        return self.session.request(method, self.base + "/identity/oauth/token", params=query, timeout=10)

    def token(self) -> str:
        if self._token is None:
            reply = self.identity()
            reply.raise_for_status()
            self._token = reply.json()["access_token"]
        return self._token

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token()}"}

    def get(self, path: str, params: dict[str, Any] | None = None, check: bool = True) -> dict[str, Any]:
        if check:
            contract.check_request("GET", path, params=params)
        reply = self.session.get(self.base + path, params=params, headers=self._headers(), timeout=10)
        assert reply.status_code == 200, reply.text
        return reply.json()

    def get_raw(self, path: str, params: dict[str, Any] | None = None) -> requests.Response:
        contract.check_request("GET", path, params=params)
        return self.session.get(self.base + path, params=params, headers=self._headers(), timeout=10)

    def post_json(self, path: str, body: dict[str, Any] | None = None, check: bool = True) -> dict[str, Any]:
        if check:
            contract.check_request("POST", path, body=body)
        reply = self.session.post(self.base + path, json=body, headers=self._headers(), timeout=10)
        assert reply.status_code == 200, reply.text
        return reply.json()

    def post_form(self, path: str, fields: dict[str, Any] | None = None, check: bool = True) -> dict[str, Any]:
        if check:
            contract.check_request("POST", path, body=fields or {})
        reply = self.session.post(self.base + path, data=fields, headers=self._headers(), timeout=10)
        assert reply.status_code == 200, reply.text
        return reply.json()

    def post_file(self, path: str, params: dict[str, Any], content: str | bytes,
                  check: bool = True) -> requests.Response:
        if check:
            contract.check_request("POST", path, params=params, files={"file": content})
        return self.session.post(self.base + path, params=params, files={"file": ("data.csv", content, "text/csv")},
                                 headers=self._headers(), timeout=30)

    def wait_batch(self, path: str, timeout_s: float = 10.0) -> dict[str, Any]:
        """Poll a bulk batch status until it is no longer Queued/Importing; returns the last result."""
        deadline = time.monotonic() + timeout_s
        while True:
            reply = self.get(path)
            status = reply["result"][0]["status"]
            if status not in ("Queued", "Importing") or time.monotonic() > deadline:
                return reply["result"][0]
            time.sleep(0.05)


def error_code(reply: dict[str, Any]) -> str:
    """The first response-level error code of a failed call."""
    assert reply["success"] is False, reply
    return reply["errors"][0]["code"]
