"""Start the emulated Salesforce org (and the Marketo instance, when it is installed) over HTTPS.

    with Sandbox(directory=tmp, state_file=tmp / "state.json", seed=7) as sandbox:
        sandbox.salesforce_url, sandbox.ca_bundle, sandbox.env(), sandbox.stats()

``directory`` holds the TLS material (``tls/ca.pem`` is what clients trust) and the JWT key pair
(``jwt/``); it defaults to ``<state_file>.d`` or a fresh temporary folder. The state file (JSON:
``{"salesforce": ..., "marketo": ...}``) is loaded on start and written on stop and on
``POST /__sandbox/save``.

Admin routes on the Salesforce port (no auth, never counted in stats, never faulted; details in
:mod:`provisioner.sandbox.salesforce.admin`): ``GET /__sandbox/stats`` (``DELETE`` resets),
``POST /__sandbox/save``, ``GET /__sandbox/state``, ``POST /__sandbox/reset``,
``POST /__sandbox/leads/<id>/convert``, ``POST /__sandbox/fields`` (a field added by hand: drift),
``POST /__sandbox/sessions/expire``, ``POST /__sandbox/limits``, ``GET``/``POST /__sandbox/clock``.

Both emulators run on one clock (``clock=``; the system's, movable forward through
``POST /__sandbox/clock {"advance": s}`` on either port, by default). A test that runs the tool in
the same process passes a :class:`~provisioner.clock.FakeClock` here and to the tool's client.

Race mode (``race=True``; ``provisioner sandbox serve --race``): concurrent upserts of one key
collide the way the vendors' do (Salesforce ``DUPLICATE_VALUE`` / ``UNABLE_TO_LOCK_ROW``);
each app gets its own :class:`~provisioner.sandbox.race.RowLocks` as ``app.race``, holding a
write's row locks up to ``race_hold_seconds`` while it waits for a rival.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from ..clock import Clock, SystemClock
from .credentials import JWTKeyPair, SalesforceCredentials, demo_credentials, jwt_key_pair
from .httpserver import SandboxServer, ServerOptions
from .race import DEFAULT_HOLD_SECONDS, RowLocks
from .salesforce.app import SalesforceApp, SalesforceConfig
from .tls import TLSMaterial, generate_tls


class Sandbox:
    """The running sandbox: servers, URLs, CA bundle, env variables, stats, state file."""

    def __init__(self, directory: str | Path | None = None, *, salesforce_port: int = 0, marketo_port: int = 0,
                 latency_ms: float = 0.0, fault_rate: float = 0.0, seed: int | None = None,
                 state_file: str | Path | None = None, api_daily_limit: int = 100_000,
                 marketo: bool = True, marketo_channels: list[dict[str, Any]] | None = None,
                 race: bool = False, race_hold_seconds: float = DEFAULT_HOLD_SECONDS,
                 organization_id: str | None = None, clock: Clock | None = None) -> None:
        self.race, self.race_hold_seconds = race, race_hold_seconds
        self.clock: Clock = clock or SystemClock()
        self.state_file = Path(state_file) if state_file else None
        if directory is None:
            directory = (self.state_file.with_name(self.state_file.name + ".d") if self.state_file
                         else Path(tempfile.mkdtemp(prefix="provisioner-sandbox-")))
        self.directory = Path(directory)
        self.salesforce_port, self.marketo_port = salesforce_port, marketo_port
        self.options = ServerOptions(latency_ms=latency_ms, fault_rate=fault_rate, seed=seed)
        self.api_daily_limit = api_daily_limit
        self.want_marketo = marketo
        self.marketo_channels = marketo_channels  # seeded in addition to Marketo's standard channels
        self.organization_id = organization_id  # None: the default id of every sandbox org
        self.credentials: SalesforceCredentials = demo_credentials()
        self.tls: TLSMaterial | None = None
        self.jwt: JWTKeyPair | None = None
        self.salesforce_app: SalesforceApp | None = None
        self.marketo_app: Any = None
        self._servers: dict[str, SandboxServer] = {}
        self._save_lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> "Sandbox":
        """Create TLS and JWT material, load the state file, start the servers."""
        self.tls = generate_tls(self.directory / "tls")
        self.jwt = jwt_key_pair(self.directory / "jwt")
        config = SalesforceConfig(credentials=self.credentials, jwt_certificate=self.jwt.certificate,
                                  api_daily_limit=self.api_daily_limit)
        if self.organization_id:
            config.organization_id = self.organization_id
        self.salesforce_app = SalesforceApp(config, on_save=self.save, clock=self.clock)
        self.marketo_app = _make_marketo(self.marketo_channels, self.clock) if self.want_marketo else None
        if self.race:
            for app in (self.salesforce_app, self.marketo_app):
                if app is not None:
                    app.race = RowLocks(self.race_hold_seconds)
        self._load()
        self._servers["salesforce"] = SandboxServer(self.salesforce_app, self.tls, self.salesforce_port,
                                                    self._options(0)).start()
        if self.marketo_app is not None:
            self._servers["marketo"] = SandboxServer(self.marketo_app, self.tls, self.marketo_port,
                                                     self._options(1)).start()
        return self

    def _options(self, offset: int) -> ServerOptions:
        seed = None if self.options.seed is None else self.options.seed + offset
        return ServerOptions(latency_ms=self.options.latency_ms, fault_rate=self.options.fault_rate, seed=seed)

    def stop(self) -> None:
        """Save the state file (when configured) and stop the servers."""
        try:
            if self.salesforce_app is not None:
                self.save()
        finally:
            for server in self._servers.values():
                server.stop()
            self._servers.clear()
            closer = getattr(self.marketo_app, "close", None)
            if callable(closer):
                closer()

    def __enter__(self) -> "Sandbox":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- state file ----------------------------------------------------------------------
    def _load(self) -> None:
        if not self.state_file or not self.state_file.exists():
            return
        data = json.loads(self.state_file.read_text(encoding="utf-8"))
        if data.get("salesforce") and self.salesforce_app is not None:
            self.salesforce_app.restore(data["salesforce"])
        if data.get("marketo") and self.marketo_app is not None:
            self.marketo_app.restore(data["marketo"])

    def save(self) -> str | None:
        """Write the state file atomically; returns its path (None when no state file is configured)."""
        if not self.state_file or self.salesforce_app is None:
            return None
        data: dict[str, Any] = {"salesforce": self.salesforce_app.snapshot()}
        if self.marketo_app is not None:
            data["marketo"] = self.marketo_app.snapshot()
        with self._save_lock:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.state_file.with_name(self.state_file.name + ".tmp")
            tmp.write_text(json.dumps(data), encoding="utf-8")
            os.replace(tmp, self.state_file)
        return str(self.state_file)

    # -- what clients need ------------------------------------------------------------------
    @property
    def salesforce_url(self) -> str:
        return self._servers["salesforce"].base_url

    @property
    def marketo_url(self) -> str | None:
        server = self._servers.get("marketo")
        return server.base_url if server else None

    @property
    def ca_bundle(self) -> str:
        assert self.tls is not None, "start() the sandbox first"
        return str(self.tls.ca_cert)

    def env(self) -> dict[str, str]:
        """The environment variables DESIGN.md lists, pointing every command at this sandbox.

        Salesforce uses the client-credentials flow (password login is being retired).
        """
        values = {
            "SF_LOGIN_URL": self.salesforce_url,
            "SF_CLIENT_ID": self.credentials.client_id,
            "SF_CLIENT_SECRET": self.credentials.client_secret,
            "SF_CA_BUNDLE": self.ca_bundle,
        }
        if self.marketo_url and self.marketo_app is not None:
            config = getattr(self.marketo_app, "config", None)
            values.update({
                "MARKETO_ENDPOINT": self.marketo_url,
                "MARKETO_CLIENT_ID": str(getattr(config, "client_id", "")),
                "MARKETO_CLIENT_SECRET": str(getattr(config, "client_secret", "")),
                "MARKETO_CA_BUNDLE": self.ca_bundle,
            })
        return values

    def write_env_file(self, path: str | Path) -> Path:
        """Write :meth:`env` as ``KEY=value`` lines (mode 0600: it holds the demo secrets)."""
        target = Path(path)
        lines = [f"{key}={_quote(value)}" for key, value in self.env().items()]
        target.write_text("\n".join(lines) + "\n", encoding="utf-8")
        target.chmod(0o600)
        return target

    def stats(self) -> dict[str, Any]:
        """Call statistics per server: ``{"salesforce": {...}, "marketo": {...}}``."""
        return {name: server.stats() for name, server in self._servers.items()}

    def server(self, name: str) -> SandboxServer:
        """The running server ``"salesforce"`` or ``"marketo"``."""
        return self._servers[name]


def _make_marketo(extra_channels: list[dict[str, Any]] | None = None, clock: Clock | None = None) -> Any:
    """A MarketoApp (with extra seeded channels) when :mod:`provisioner.sandbox.marketo` is installed, else None."""
    try:
        from .marketo.app import MarketoApp
        from .marketo.config import MarketoConfig, default_channels
    except ImportError:
        return None
    if not extra_channels:
        return MarketoApp(clock=clock)
    extra = {c["name"] for c in extra_channels}
    channels = [c for c in default_channels() if c["name"] not in extra] + list(extra_channels)
    return MarketoApp(MarketoConfig(channels=channels), clock=clock)


def _quote(value: str) -> str:
    if all(c.isalnum() or c in "-_./:@" for c in value):
        return value
    return "'" + value.replace("'", "'\\''") + "'"
