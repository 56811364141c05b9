"""Hold or cut the Nth write a server receives, so a test can kill the client exactly there.

``/__sandbox/writes`` on either port (answered by the HTTP server itself, like ``/__sandbox/stats``):

- ``POST {"nth": N, "mode": M, "route": "substring"}`` arms the gate and restarts the count. The Nth
  write (whose route name contains ``route``, when given) is, by ``mode``:
  ``hold_before`` — received and held before the org applies it; on release it is dropped unapplied
  (as if the client had died before sending it); ``hold_after`` — applied, its reply held; on release
  the connection is closed (the reply is lost); ``drop_after`` — applied, then the connection closed;
  ``pause_before`` — held before the org applies it, then applied as usual on release (to line other
  traffic up behind it).
- ``GET [?wait=S]``: the log of writes since arming (``index``, ``route``, ``state``) and the held
  write, waiting up to S seconds for one to be held (no polling loop in tests).
- ``POST /__sandbox/writes/release``: let the held write go (dropped, as its mode says).
- ``DELETE``: disarm and clear the log (a held write is released).

A write is any call but GET/HEAD, the token and login endpoints and the Metadata API's read
operations: what changes the org.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .httpserver import Request

MODES = ("hold_before", "hold_after", "drop_after", "pause_before")
_AUTH_MARKERS = ("/services/oauth2/", "/identity/oauth/token", "/services/Soap/u login")
_READ_OPERATIONS = ("read", "list", "describe", "check", "retrieve")
#: How long a write is held at most (a test that forgets to release must not hang a server thread).
MAX_HOLD_S = 120.0


def is_write(route: str) -> bool:
    """Whether a call named ``route`` (``"METHOD /path"`` as in the stats) changes the org."""
    method, _, rest = route.partition(" ")
    if method in ("GET", "HEAD") or any(marker in route for marker in _AUTH_MARKERS):
        return False
    if rest.startswith("/services/Soap/m "):
        return not rest.split(" ", 1)[1].startswith(_READ_OPERATIONS)
    return True


@dataclass
class Write:
    """One write seen since the gate was armed."""

    index: int
    route: str
    state: str = "received"  # received → applied | held before | applied, reply held → ... dropped
    status: int | None = None  # the HTTP status of the org's answer, once applied
    drop: bool = False


class WriteGate:
    """Counts a server's writes and holds or cuts the one it is armed for (thread-safe)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._log: list[Write] = []
        self._nth: int | None = None
        self._mode = ""
        self._route = ""
        self._matched = 0
        self._held: Write | None = None
        self._released = False

    # -- admin ----------------------------------------------------------------------------
    def admin(self, request: "Request") -> tuple[int, dict[str, Any]]:
        """Serve ``/__sandbox/writes`` and ``/__sandbox/writes/release``: ``(HTTP status, JSON reply)``."""
        try:
            if request.path.endswith("/release") and request.method == "POST":
                return 200, {"released": self.release()}
            if request.method == "POST":
                body = request.json() or {}
                self.arm(int(body["nth"]), str(body.get("mode", "hold_before")), str(body.get("route", "")))
            elif request.method == "DELETE":
                self.release()
                self.arm(None, "", "")
            elif request.method == "GET":
                self.wait_held(float(request.arg("wait", "0") or 0))
            else:
                return 405, {"error": "GET, POST or DELETE"}
        except (ValueError, TypeError, KeyError) as exc:
            return 400, {"error": f'expected {{"nth": N >= 1, "mode": one of {list(MODES)}}} ({exc})'}
        return 200, self.status()

    def arm(self, nth: int | None, mode: str, route: str) -> None:
        """Hold/cut the ``nth`` write (matching ``route``) from now on; restart the count and the log."""
        if nth is not None and (nth < 1 or mode not in MODES):
            raise ValueError(f"nth={nth}, mode={mode!r}")
        with self._cond:
            self._nth, self._mode, self._route = nth, mode, route
            self._log, self._matched, self._held, self._released = [], 0, None, False

    def release(self) -> bool:
        """Let the held write go; False when none is held."""
        with self._cond:
            held = self._held is not None
            self._released = True
            self._cond.notify_all()
            return held

    def wait_held(self, seconds: float) -> None:
        with self._cond:
            self._cond.wait_for(lambda: self._held is not None, timeout=max(0.0, min(seconds, MAX_HOLD_S)))

    def status(self) -> dict[str, Any]:
        with self._cond:
            return {"armed": None if self._nth is None else {"nth": self._nth, "mode": self._mode,
                                                              "route": self._route},
                    "held": None if self._held is None else asdict(self._held),
                    "writes": [asdict(w) for w in self._log]}

    # -- used by the server around each call -----------------------------------------------
    def before(self, route: str) -> Write | None:
        """Count a write; hold it when armed so (the caller drops it unapplied when ``drop`` is set)."""
        if not is_write(route):
            return None
        with self._cond:
            write = Write(len(self._log) + 1, route)
            self._log.append(write)
            if self._nth is None or self._route not in route:
                return write
            self._matched += 1
            if self._matched != self._nth:
                return write
            if self._mode in ("hold_before", "pause_before"):
                write.state = "held before"
                self._hold(write)
                write.state = "dropped unapplied" if self._mode == "hold_before" else "received"
            else:
                write.drop = True  # marks it as the armed one for after()
            return write

    def after(self, write: Write | None, status: int) -> bool:
        """The write was applied (answered ``status``): True when its reply must be cut (held first in
        ``hold_after``)."""
        if write is None:
            return False
        with self._cond:
            write.state, write.status = "applied", status
            if not write.drop:
                return False
            if self._mode == "hold_after":
                write.state = "applied, reply held"
                self._hold(write)
            write.state = "applied, reply dropped"
            return True

    def _hold(self, write: Write) -> None:
        self._held = write
        self._cond.notify_all()
        self._cond.wait_for(lambda: self._released, timeout=MAX_HOLD_S)
