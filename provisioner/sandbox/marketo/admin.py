"""Sandbox-only admin routes on the Marketo port (``/__sandbox/...``): no auth, never counted or faulted.

They stand in for what an admin does in Marketo's UI, or for time passing, so tests and the
demo can drive the tool through situations the API alone cannot create:

- ``GET /__sandbox/state``: the snapshot (what ``--state FILE`` keeps).
- ``POST /__sandbox/reset``: a fresh instance (seed folders, configured channels; tokens stay valid).
- ``POST /__sandbox/tokens/expire``: every issued token expires now (clients get 602).
- ``POST /__sandbox/limits``: JSON with any of ``rate_limit_calls``, ``rate_limit_window_s``,
  ``max_concurrent``, ``daily_quota``, ``permissions`` (a list): change them at run time.
- ``GET``/``POST /__sandbox/clock``: read the clock, or ``{"advance": seconds}`` (see :mod:`..clockroute`).
- ``POST /__sandbox/channels``: JSON channel ``{name, applicableProgramType, progressionStatuses}``:
  create or replace it, as an admin does in Admin > Tags (the API cannot).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..clockroute import clock_reply
from ..httpserver import Request, Response
from .config import ChannelFileError, checked_channel
from .state import new_state, now_iso

if TYPE_CHECKING:
    from .app import MarketoApp

LIMIT_KEYS = {"rate_limit_calls": int, "rate_limit_window_s": float, "max_concurrent": int, "daily_quota": int}


def handle_admin(app: "MarketoApp", request: Request) -> Response:
    """Serve one ``/__sandbox/...`` request."""
    route = (request.method, request.path)
    try:
        if route == ("GET", "/__sandbox/state"):
            return Response.json(app.snapshot())
        if route == ("POST", "/__sandbox/reset"):
            with app.lock:  # issued tokens stay valid: clients need not notice the reset
                app.state = {**new_state(app.config.channels), "tokens": app.state["tokens"]}
            return Response.json({"reset": True})
        if route == ("POST", "/__sandbox/tokens/expire"):
            return Response.json({"expired": _expire_tokens(app)})
        if route == ("POST", "/__sandbox/limits"):
            return Response.json(_set_limits(app, _body(request)))
        if request.path == "/__sandbox/clock":
            return clock_reply(app.clock, request)
        if route == ("POST", "/__sandbox/channels"):
            return Response.json(_put_channel(app, _body(request)))
    except (ValueError, TypeError, ChannelFileError) as exc:
        return Response.json({"error": str(exc)}, 400)
    return Response.json({"error": f"no sandbox route {request.method} {request.path}"}, 404)


def _body(request: Request) -> dict[str, Any]:
    body = request.json()
    if not isinstance(body, dict):
        raise ValueError("expected a JSON object")
    return body


def _expire_tokens(app: "MarketoApp") -> int:
    with app.lock:
        past = app.clock.time() - 1
        for token in app.state["tokens"].values():
            token["expires_at"] = min(token["expires_at"], past)
        app.forget_current_token()
        return len(app.state["tokens"])


def _set_limits(app: "MarketoApp", body: dict[str, Any]) -> dict[str, Any]:
    unknown = set(body) - set(LIMIT_KEYS) - {"permissions"}
    if unknown:
        raise ValueError(f"unknown limits: {sorted(unknown)}")
    with app.lock:
        for key, kind in LIMIT_KEYS.items():
            if key in body:
                setattr(app.config, key, kind(body[key]))
        if "permissions" in body:
            app.config.permissions = frozenset(str(p) for p in body["permissions"])
        shown = {key: getattr(app.config, key) for key in LIMIT_KEYS}
        return {**shown, "permissions": sorted(app.config.permissions)}


def _put_channel(app: "MarketoApp", body: dict[str, Any]) -> dict[str, Any]:
    channel = checked_channel(body, Path("<admin>"))
    with app.lock:
        channels = app.state["channels"]
        existing = next((c for c in channels.values() if c["name"] == channel["name"]), None)
        stamp = now_iso()
        if existing is not None:
            existing.update(channel, updatedAt=stamp)
            return existing
        cid = max((c["id"] for c in channels.values()), default=0) + 1
        channels[str(cid)] = {"id": cid, **channel, "createdAt": stamp, "updatedAt": stamp}
        return channels[str(cid)]
