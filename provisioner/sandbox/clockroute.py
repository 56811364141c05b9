"""``/__sandbox/clock`` on either port: read the sandbox's clock, or move it forward.

``GET`` answers ``{"time": epoch seconds, "monotonic": seconds}``; ``POST {"advance": seconds}`` jumps
ahead (token lifetimes, rate windows, quota days pass at once) and answers the same. A test of a
sandbox served in another process moves time this way instead of sleeping.
"""

from __future__ import annotations

from typing import Any

from ..clock import Clock
from .httpserver import Request, Response


def clock_reply(clock: Clock, request: Request) -> Response:
    """Serve ``GET``/``POST /__sandbox/clock`` for ``clock`` (one that can advance)."""
    if request.method == "POST":
        try:
            body: Any = request.json() if request.body else {}
            seconds = float(body["advance"])
            clock.advance(seconds)  # type: ignore[attr-defined]
        except (ValueError, TypeError, KeyError) as exc:
            return Response.json({"error": f'expected {{"advance": seconds >= 0}} ({exc})'}, 400)
    elif request.method != "GET":
        return Response.json({"error": "GET or POST /__sandbox/clock"}, 405)
    return Response.json({"time": clock.time(), "monotonic": clock.monotonic()})
