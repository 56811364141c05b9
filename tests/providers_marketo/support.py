"""Helpers for the Marketo provider tests: a sandbox seeded from the manifest, a recording client."""

from __future__ import annotations

import contextlib
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import requests

from provisioner.clock import Clock
from provisioner.http import make_session
from provisioner.manifest import load
from provisioner.manifest.model import ManifestSet, MarketoChannel
from provisioner.plan import apply_plan, make_plan
from provisioner.plan.report import ApplyReport
from provisioner.plan.plan import Plan
from provisioner.providers.marketo.client import MarketoClient
from provisioner.providers.marketo.provider import PROVIDER
from provisioner.providers.marketo.ratelimit import Budget, WindowFile
from provisioner.providers.marketo.retry import RetryPolicy
from provisioner.providers.marketo.settings import MarketoSettings
from provisioner.sandbox.httpserver import SandboxServer, ServerOptions
from provisioner.sandbox.marketo.app import MarketoApp, MarketoConfig
from provisioner.sandbox.tls import TLSMaterial

REPO = Path(__file__).resolve().parents[2]
MANIFEST = REPO / "manifests" / "kaltura-marketo.yaml"


def kaltura() -> ManifestSet:
    """The shipped Kaltura → Marketo manifest, loaded and validated."""
    result = load([str(MANIFEST)])
    return result.manifests


def sandbox_channel(channel: MarketoChannel, **changes: Any) -> dict[str, Any]:
    """A manifest channel as the sandbox seeds it (``changes`` overrides statuses by name: {name: step})."""
    statuses = []
    for s in channel.statuses:
        step = changes.get(s.name, s.step)
        statuses.append({"name": s.name, "step": step, "success": s.success, "hidden": s.hidden})
    return {"name": channel.name, "applicableProgramType": channel.program_type, "progressionStatuses": statuses}


def seeded_config(ms: ManifestSet, **kwargs: Any) -> MarketoConfig:
    """A sandbox configuration with the manifest's channels (the API cannot create them)."""
    channels = [sandbox_channel(c) for m in ms.marketo for c in m.channels]
    return MarketoConfig(channels=kwargs.pop("channels", channels), **kwargs)


#: For tests about behaviour rather than limits: an instance and a client that never throttle
#: (the limits have their own tests in test_limits.py and test_client.py).
UNTHROTTLED = {"rate_limit_calls": 100000}
FAST_BUDGET = Budget(calls=100000, window_s=20.0, concurrent=5)


@contextlib.contextmanager
def serving(tls: TLSMaterial, config: MarketoConfig, latency_ms: float = 0.0,
            clock: Clock | None = None) -> Iterator[SandboxServer]:
    """A running sandbox on an ephemeral port (on ``clock`` when the test moves time itself)."""
    server = SandboxServer(MarketoApp(config, clock=clock), tls, options=ServerOptions(latency_ms=latency_ms))
    with server:
        yield server


@dataclass
class Exchange:
    """One request the client sent and what came back (for the contract check and secret scans)."""

    method: str
    url: str
    content_type: str
    body: bytes
    status: int
    reply: str


@dataclass
class Recorder:
    """A requests response hook that keeps every exchange of a session."""

    exchanges: list[Exchange] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        request = response.request
        body = request.body or b""
        with self.lock:
            self.exchanges.append(Exchange(request.method or "", request.url or "",
                                           request.headers.get("Content-Type", ""),
                                           body.encode() if isinstance(body, str) else body,
                                           response.status_code, response.text))
        return response

    def codes(self) -> list[str]:
        """Marketo error codes of the replies, in order."""
        found = []
        for e in self.exchanges:
            try:
                data = json.loads(e.reply)
            except ValueError:
                continue
            if isinstance(data, dict):
                found += [str(err.get("code")) for err in data.get("errors") or []]
        return found


def client_for(server: SandboxServer, tls: TLSMaterial, budget: Budget | None = None,
               retry: RetryPolicy | None = None, clock: Clock | None = None,
               window: WindowFile | None = None) -> tuple[MarketoClient, Recorder]:
    """A real client for the sandbox, with a recorder on its session; on the sandbox's own clock by
    default, so a simulated clock puts both in the same time (rate windows and backoff cost no real wait)."""
    config = server.app.config
    settings = MarketoSettings(server.base_url, config.client_id, config.client_secret, str(tls.ca_cert))
    session = make_session(str(tls.ca_cert), pool_size=20)
    recorder = Recorder()
    session.hooks["response"].append(recorder)
    return MarketoClient(settings, budget=budget, retry=retry, session=session,
                         clock=clock or server.app.clock, window=window), recorder


def plan_for(ms: ManifestSet, client: MarketoClient) -> Plan:
    """A plan of the manifests against the client's instance."""
    return make_plan(PROVIDER.kinds(), PROVIDER.desired(ms), {"marketo": client}, manifests=[str(MANIFEST)])


def apply_for(plan: Plan, client: MarketoClient, allow_destroy: bool = False) -> ApplyReport:
    """Apply a plan with the provider's kinds."""
    return apply_plan(plan, PROVIDER.kinds(), {"marketo": client}, allow_destroy=allow_destroy)


def variant(tmp_dir: Path, name: str, *edits: tuple[str, str]) -> ManifestSet:
    """The shipped manifest with text edits (each ``(old, new)`` must match once), loaded from ``tmp_dir``."""
    text = MANIFEST.read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, f"edit does not match exactly once: {old!r}"
        text = text.replace(old, new)
    path = tmp_dir / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    result = load([str(path)])
    assert result.ok, [f.render() for f in result.findings]
    return result.manifests


def assert_contract(recorder: Recorder) -> int:
    """Every recorded request (and every successful reply) matches Adobe's OpenAPI documents; returns the count."""
    from urllib.parse import urlsplit

    from provisioner.sandbox.marketo import contract

    for e in recorder.exchanges:
        contract.check_request(e.method, e.url, body=e.body or None, content_type=e.content_type or None)
        path = urlsplit(e.url).path
        if e.status == 200 and path != "/rest/v1/campaigns.json":  # the sandbox does not serve campaigns
            contract.check_response(e.method, path, json.loads(e.reply))
    return len(recorder.exchanges)
