"""The HTTPS server shared by the emulated Salesforce org and Marketo instance.

An emulator is a plain object with ``handle(request) -> Response`` (see :class:`SandboxApp`).
This module serves it over HTTPS on 127.0.0.1 and adds what both emulators need the
same way: injected latency, reproducible faults, per-route call counts
(``GET /__sandbox/stats``) and a count of requests in flight (for concurrency limits).

Every request reaches the app whatever its method (``TRACE``, ``OPTIONS``, ``FOO``...), and
bodies are read by ``Content-Length`` or ``Transfer-Encoding: chunked`` (RFC 9112 §7.1), so
the app answers in its API's error shape. Requests too broken to reach the app (bad request
line, headers too long, bad chunk sizes) and emulator bugs are answered through the app's
optional ``error_response(status, code, message)`` hook; without one, a JSON list in
Salesforce's REST error shape.
"""

from __future__ import annotations

import json
import random
import socket
import ssl
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from .tls import TLSMaterial
from .writegate import WriteGate

#: Fault kinds the server itself knows how to produce; apps may add their own.
DROP_BEFORE = "drop_before"  # connection closed before the request is processed
DROP_AFTER = "drop_after"  # request processed, then the connection closed: the reply is lost


@dataclass
class Request:
    """One HTTP request as an emulator sees it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # keys lower-cased
    body: bytes
    in_flight: int = 1  # requests being served on this server, this one included

    def arg(self, name: str, default: str | None = None) -> str | None:
        """First value of a query-string parameter."""
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        """The body parsed as JSON (raises ValueError when it is not)."""
        return json.loads(self.body.decode("utf-8") or "null")

    def form(self) -> dict[str, list[str]]:
        """The body parsed as application/x-www-form-urlencoded."""
        return parse_qs(self.body.decode("utf-8"), keep_blank_values=True)


@dataclass
class Response:
    """One HTTP response."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> "Response":
        h = {"Content-Type": "application/json;charset=UTF-8"}
        h.update(headers or {})
        return cls(status, json.dumps(payload).encode("utf-8"), h)

    @classmethod
    def xml(cls, text: str, status: int = 200, headers: dict[str, str] | None = None) -> "Response":
        h = {"Content-Type": "text/xml;charset=UTF-8"}
        h.update(headers or {})
        return cls(status, text.encode("utf-8"), h)

    @classmethod
    def text(cls, text: str, status: int = 200, content_type: str = "text/plain") -> "Response":
        return cls(status, text.encode("utf-8"), {"Content-Type": content_type})


class SandboxApp(Protocol):
    """What an emulator provides to the server."""

    #: Fault kinds this app can be asked to produce (DROP_BEFORE/DROP_AFTER handled here).
    fault_kinds: tuple[str, ...]

    def route_name(self, request: Request) -> str:
        """A stable name for the route, for call statistics (e.g. ``"GET /rest/v1/leads.json"``)."""

    def handle(self, request: Request) -> Response:
        """Serve one request."""

    def fault_response(self, kind: str, request: Request) -> Response:
        """The response for an injected fault of ``kind`` (one of ``fault_kinds``)."""

    def faultable(self, request: Request) -> bool:
        """Whether a fault may be injected into this request."""

    # Optional: ``error_response(status: int, code: str, message: str) -> Response`` answers
    # what never reaches ``handle`` (malformed HTTP) and emulator bugs, in the API's shape;
    # ``stats_extra() -> dict`` adds what only the app can count to ``GET /__sandbox/stats``, and
    # ``reset_stats_extra()`` clears it with the rest.


def default_error_response(status: int, code: str, message: str) -> Response:
    """The error for an app without an ``error_response`` hook: Salesforce's REST shape."""
    return Response.json([{"errorCode": code, "message": message}], status=status)


#: HTTP status -> error code used when the request never reached the app
HTTP_ERROR_CODES = {400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 411: "LENGTH_REQUIRED",
                    413: "REQUEST_ENTITY_TOO_LARGE", 414: "URI_TOO_LONG", 431: "REQUEST_HEADER_FIELDS_TOO_LARGE",
                    500: "UNKNOWN_EXCEPTION", 501: "NOT_IMPLEMENTED", 505: "HTTP_VERSION_NOT_SUPPORTED"}
MAX_BODY_BYTES = 200 * 1024 * 1024  # above every vendor's upload limit (Bulk 2.0: 150 MB base64)
#: How often the serving loop looks for a stop request, so :meth:`SandboxServer.stop` returns within it
#: (socketserver's default, 0.5 s, made every stop of a sandbox's two servers cost up to a second).
STOP_POLL_S = 0.02


class BadBody(Exception):
    """A request body that cannot be read (bad chunk framing, over the size limit)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def read_chunked(rfile: Any, limit: int = MAX_BODY_BYTES) -> bytes:
    """A ``Transfer-Encoding: chunked`` body (RFC 9112 §7.1): size lines, data, trailers skipped."""
    out = bytearray()
    while True:
        line = rfile.readline(1026)
        if not line:
            raise BadBody(400, "Incomplete chunked request body")
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise BadBody(400, "Invalid chunk size in chunked request body") from None
        if size < 0 or len(out) + size > limit:
            raise BadBody(413, f"Request body is larger than {limit} bytes")
        if size == 0:
            while True:  # trailer section, ended by an empty line
                trailer = rfile.readline(65537)
                if trailer in (b"\r\n", b"\n", b""):
                    return bytes(out)
        chunk = rfile.read(size)
        if len(chunk) != size:
            raise BadBody(400, "Incomplete chunked request body")
        out += chunk
        if rfile.readline(3) not in (b"\r\n", b"\n"):
            raise BadBody(400, "Chunk data is not followed by CRLF")


@dataclass
class ServerOptions:
    """Latency and fault injection, reproducible by seed."""

    latency_ms: float = 0.0
    fault_rate: float = 0.0
    seed: int | None = None


class SandboxServer:
    """Serve one :class:`SandboxApp` over HTTPS on 127.0.0.1 in a background thread."""

    def __init__(self, app: SandboxApp, tls: TLSMaterial, port: int = 0,
                 options: ServerOptions | None = None, host: str = "127.0.0.1") -> None:
        self.app = app
        self.options = options or ServerOptions()
        self._rng = random.Random(self.options.seed)
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self._in_flight = 0
        self.max_in_flight = 0
        self.writes = WriteGate()  # /__sandbox/writes: hold or cut the Nth write (see writegate)
        self._httpd = _Server((host, port), _make_handler(self))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(tls.server_cert), str(tls.server_key))
        self._httpd.socket = context.wrap_socket(
            self._httpd.socket, server_side=True, do_handshake_on_connect=False
        )
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def start(self) -> "SandboxServer":
        """Start serving in a daemon thread; returns self."""
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": STOP_POLL_S},
                                        name=f"sandbox:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> "SandboxServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stats(self) -> dict[str, Any]:
        """Call counts (what ``GET /__sandbox/stats`` returns)."""
        with self._lock:
            out = {
                "calls": {"total": sum(self.calls.values()), "by_route": dict(sorted(self.calls.items()))},
                "faults": {"total": sum(self.faults.values()), "by_kind": dict(sorted(self.faults.items()))},
                "max_in_flight": self.max_in_flight,
            }
        extra = getattr(self.app, "stats_extra", None)  # what only the app can count (Marketo: refusals)
        return {**out, **extra()} if callable(extra) else out

    def reset_stats(self) -> None:
        with self._lock:
            self.calls.clear()
            self.faults.clear()
            self.max_in_flight = 0
        reset = getattr(self.app, "reset_stats_extra", None)
        if callable(reset):
            reset()

    # -- used by the handler -------------------------------------------------
    def _enter(self, route: str) -> int:
        with self._lock:
            self.calls[route] += 1
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            return self._in_flight

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _pick_fault(self, request: Request) -> str | None:
        if self.options.fault_rate <= 0 or not self.app.faultable(request):
            return None
        kinds = (DROP_BEFORE, DROP_AFTER) + tuple(self.app.fault_kinds)
        with self._lock:
            if self._rng.random() >= self.options.fault_rate:
                return None
            kind = self._rng.choice(kinds)
            self.faults[kind] += 1
            return kind


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def handle_error(self, request: Any, client_address: Any) -> None:  # quiet: clients drop on purpose
        pass


class _DropConnection(Exception):
    """Raised to close the connection without answering."""


def _make_handler(server: SandboxServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as separate writes: avoid 40 ms delayed-ACK stalls
        server_version = "provisioner-sandbox"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet by default
            pass

        def handle_one_request(self) -> None:
            try:
                super().handle_one_request()
            except _DropConnection:
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            except (ssl.SSLError, ConnectionError, TimeoutError):
                self.close_connection = True

        def __getattr__(self, name: str) -> Any:
            # BaseHTTPRequestHandler answers a method without do_<METHOD> with an HTML 501; every
            # method goes to the app instead, which answers in its API's shape (405 / 404).
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            """What http.server sends as HTML (bad request line, headers too long...), in the app's JSON."""
            self.close_connection = True
            self.request_version = "HTTP/1.1"  # unparsed requests default to 0.9, which has no status line
            reason = message or self.responses.get(code, ("Error",))[0]
            self._send(self._error(code, HTTP_ERROR_CODES.get(code, "BAD_REQUEST"), reason), close=True)

        def _error(self, status: int, code: str, message: str) -> Response:
            hook = getattr(server.app, "error_response", None)
            return hook(status, code, message) if callable(hook) else default_error_response(status, code, message)

        def _body(self) -> bytes:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                return read_chunked(self.rfile)
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                raise BadBody(400, "Invalid Content-Length header") from None
            if length < 0 or length > MAX_BODY_BYTES:
                raise BadBody(413 if length > 0 else 400, f"Invalid Content-Length: {length}")
            return self.rfile.read(length) if length else b""

        def _serve(self) -> None:
            split = urlsplit(self.path)
            try:
                body = self._body()
            except BadBody as exc:
                self.close_connection = True
                self._send(self._error(exc.status, HTTP_ERROR_CODES.get(exc.status, "BAD_REQUEST"), exc.message),
                           close=True)
                return
            request = Request(
                method=self.command,
                path=split.path,
                query=parse_qs(split.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            if split.path == "/__sandbox/stats":
                if request.method == "DELETE":
                    server.reset_stats()
                self._send(Response.json(server.stats()))
                return
            if split.path.startswith("/__sandbox/writes"):
                status, payload = server.writes.admin(request)
                self._send(Response.json(payload, status))
                return
            admin = getattr(server.app, "handle_admin", None)
            if admin is not None and split.path.startswith("/__sandbox/"):
                self._send(admin(request))  # sandbox admin routes: not counted, never faulted
                return
            route = server.app.route_name(request)
            request.in_flight = server._enter(route)
            try:
                if server.options.latency_ms:
                    time.sleep(server.options.latency_ms / 1000.0)
                fault = server._pick_fault(request)
                if fault == DROP_BEFORE:
                    raise _DropConnection()
                if fault and fault != DROP_AFTER:
                    response = server.app.fault_response(fault, request)
                else:
                    write = server.writes.before(route)  # may hold here (see writegate)
                    if write is not None and write.state == "dropped unapplied":
                        raise _DropConnection()
                    try:
                        response = server.app.handle(request)
                    except Exception as exc:  # an emulator bug must show as a 500, not a hang
                        response = self._error(500, "UNKNOWN_EXCEPTION", f"sandbox: {type(exc).__name__}: {exc}")
                    if server.writes.after(write, response.status):  # may hold the reply here, then cut it
                        raise _DropConnection()
                if fault == DROP_AFTER:
                    raise _DropConnection()
            finally:
                server._leave()
            self._send(response)

        def _send(self, response: Response, close: bool = False) -> None:
            self.send_response(response.status)
            for key, value in response.headers.items():
                self.send_header(key, value)
            if close:
                self.send_header("Connection", "close")
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _serve

    return Handler
