"""``provisioner sandbox serve``: the built-in emulated Salesforce org and Marketo instance."""

from __future__ import annotations

from typing import Any

import click

from ..sandbox.race import DEFAULT_HOLD_SECONDS as RACE_HOLD_SECONDS  # a constant: no server code is loaded
from .common import echo_json, format_option


def _channels_to_seed(path: str) -> list[dict[str, Any]]:
    """Channels from a manifest (its Marketo channels) or from a JSON/YAML list in the API's shape."""
    from ..manifest import load
    from ..sandbox.seed import channels_from_manifests

    result = load([path])
    if result.ok and result.manifests.marketo:
        return channels_from_manifests(result.manifests)
    from ..sandbox.marketo.config import ChannelFileError, load_channels

    try:
        return load_channels(path)
    except (ChannelFileError, ValueError, OSError) as exc:
        raise click.BadParameter(str(exc), param_hint="--marketo-channels") from None


@click.group()
def sandbox() -> None:
    """The built-in emulated Salesforce org and Marketo instance (no credentials, local HTTPS)."""


@sandbox.command("serve")
@click.option("--salesforce-port", type=int, default=0, show_default=True, help="Port for the org (0: any free port).")
@click.option("--marketo-port", type=int, default=0, show_default=True, help="Port for Marketo (0: any free port).")
@click.option("--latency-ms", type=float, default=0.0, show_default=True, help="Added to every API call.")
@click.option("--fault-rate", type=float, default=0.0, show_default=True,
              help="Share of calls that fail (5xx, dropped connections, limits).")
@click.option("--seed", type=int, default=None, help="Makes latency-free fault sequences reproducible.")
@click.option("--state", "state_file", type=click.Path(dir_okay=False), default=None,
              help="Keep the org and instance in FILE between runs.")
@click.option("--env-file", type=click.Path(dir_okay=False), default=None,
              help="Write the SF_* and MARKETO_* variables for this sandbox to FILE.")
@click.option("--marketo-channels", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Seed Marketo channels (JSON/YAML channel list, or manifests whose channels to seed).")
@click.option("--race", is_flag=True, default=False,
              help="Concurrent upserts of one key collide as in real orgs (Salesforce DUPLICATE_VALUE, "
                   "UNABLE_TO_LOCK_ROW; Marketo duplicate leads and 604 on a custom object's dedupe key).")
@click.option("--race-hold-ms", type=float, default=RACE_HOLD_SECONDS * 1000, show_default=True,
              help="With --race: how long a write holds its row locks waiting for a concurrent one.")
@format_option
def sandbox_serve(salesforce_port: int, marketo_port: int, latency_ms: float, fault_rate: float, seed: int | None,
                  state_file: str | None, env_file: str | None, marketo_channels: str | None, race: bool,
                  race_hold_ms: float, fmt: str) -> None:
    """Serve the sandbox until interrupted; `set -a; . ENV_FILE; set +a` points every command at it.

    With --format json, stdout gets one JSON document with the URLs once the sandbox is up.
    Ctrl-C (or SIGTERM) is how it is stopped: exit 0.
    """
    import signal
    import threading

    from ..sandbox.runtime import Sandbox

    if not 0.0 <= fault_rate <= 1.0:
        raise click.BadParameter("must be between 0 and 1", param_hint="--fault-rate")
    channels = _channels_to_seed(marketo_channels) if marketo_channels else None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with Sandbox(salesforce_port=salesforce_port, marketo_port=marketo_port, latency_ms=latency_ms,
                 fault_rate=fault_rate, seed=seed, state_file=state_file, marketo_channels=channels,
                 race=race, race_hold_seconds=race_hold_ms / 1000.0) as box:
        marketo_url = getattr(box, "marketo_url", None)
        if env_file:
            box.write_env_file(env_file)
        if fmt == "json":
            echo_json("sandbox serve", {"salesforce_url": box.salesforce_url, "marketo_url": marketo_url,
                                        "ca_bundle": str(box.ca_bundle), "env_file": env_file})
        else:
            click.echo(f"Salesforce org:   {box.salesforce_url}")
            if marketo_url:
                click.echo(f"Marketo instance: {marketo_url}")
            click.echo(f"CA certificate:   {box.ca_bundle}")
            if env_file:
                click.echo(f"Wrote {env_file}: run `set -a; . {env_file}; set +a` to use this sandbox.")
        click.echo("Serving; press Ctrl-C to stop.", err=True)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    click.echo("Sandbox stopped" + (f"; state saved to {state_file}" if state_file else "") + ".", err=True)
