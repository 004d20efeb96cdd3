"""The HTTP server: keep-alive handler, routing, fault injection and response writing."""

from __future__ import annotations

import ipaddress
import socket
import sys
import traceback
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final
from urllib.parse import parse_qsl

from ..contract.constants import (
    PATH_AUGMENT,
    PATH_ENCODE_VIBE,
    PATH_GENERATE,
    PATH_GENERATE_STREAM,
    PATH_SUBSCRIPTION,
    PATH_SUGGEST_TAGS,
    PATH_UPSCALE,
)
from ..text.text_models import PATH_CHAT, PATH_COMPLETIONS, PATH_MODELS, PATH_TOKEN_COUNT
from . import endpoints
from . import text_endpoints as text
from . import tool_endpoints as tools
from .context import RequestContext, Response, Route, error_response, json_response
from .faults import (
    CLOUDFLARE_429,
    CONCURRENT_429,
    DELAY,
    DROP_BEFORE_RESPONSE,
    DROP_MID_BODY,
    EARLY_FAULTS,
    HANG,
    HTTP_500,
    HTTP_502,
    HTTP_503,
    TRUNCATED_ZIP,
    ActiveFault,
    UnknownFaultError,
    check_fault_name,
)
from .refusals import SimError
from .state import CONCURRENT_MESSAGE, SimState

MAX_BODY: Final = 64 << 20
# A hanging response gives up after this long even if nobody stops the server.
HANG_LIMIT_S: Final = 120.0
_POLL_S: Final = 0.05
ROUTES: Final[dict[tuple[str, str], Route]] = {
    ("POST", PATH_GENERATE): endpoints.generate,
    ("POST", PATH_GENERATE_STREAM): endpoints.generate_stream,
    ("POST", PATH_ENCODE_VIBE): endpoints.encode_vibe,
    ("GET", PATH_SUBSCRIPTION): endpoints.subscription,
    ("POST", PATH_AUGMENT): tools.augment,
    ("POST", PATH_UPSCALE): tools.upscale,
    ("GET", PATH_SUGGEST_TAGS): tools.suggest_tags,
    # the text host's endpoints, on the same port
    ("POST", PATH_CHAT): text.chat_completions,
    ("POST", PATH_COMPLETIONS): text.completions,
    ("GET", PATH_MODELS): text.models,
    ("POST", PATH_TOKEN_COUNT): text.token_count,
}
_CLOUDFLARE_HTML: Final = (
    b"<!DOCTYPE html><html><head><title>Just a moment...</title></head>"
    b"<body><h1>Error 1015</h1><p>You are being rate limited.</p>"
    b"<p>(NovelAI simulator: injected Cloudflare 429)</p></body></html>"
)
_EARLY_STATUS: Final = {
    HTTP_500: (500, "Internal Server Error"),
    HTTP_502: (502, "Bad Gateway"),
    HTTP_503: (503, "Service Unavailable"),
    CONCURRENT_429: (429, CONCURRENT_MESSAGE),
}


def admin_allowed(host: str) -> bool:
    """Whether a client address may use /_sim/* (fault control, stats): loopback only."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


class SimServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that counts accepted TCP connections and carries the state."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], state: SimState) -> None:
        self.state = state
        super().__init__(address, Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        request = super().get_request()
        self.state.count_connection()
        return request


class Handler(BaseHTTPRequestHandler):
    """One connection; HTTP/1.1 keep-alive, so it may serve many requests."""

    protocol_version = "HTTP/1.1"
    server_version = "NovelAISimulator/1"
    timeout = 60  # idle keep-alive connections are closed after this
    # Headers and body go out in separate writes; with Nagle on, the body waits for the
    # client's delayed ACK (~40 ms per answer on Linux), a delay NovelAI's servers do not add.
    disable_nagle_algorithm = True
    server: SimServer

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.state.verbose:  # only method, path and status: never headers
            sys.stderr.write(f"simulator: {format % args}\n")

    # --- request flow -----------------------------------------------------------------------

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            raise SimError(411, "Length Required")
        if length > MAX_BODY:
            self.close_connection = True
            raise SimError(413, "Request Entity Too Large")
        return self.rfile.read(length) if length else b""

    def _fault(self, path: str) -> ActiveFault | None:
        state = self.server.state
        name = self.headers.get("X-Sim-Fault")
        if not name:
            return state.faults.take(path)
        check_fault_name(name)
        delay = self.headers.get("X-Sim-Delay-Ms")
        return ActiveFault(name, int(delay)) if delay else ActiveFault(name)

    def _handle(self, method: str) -> None:
        state = self.server.state
        path, _, query = self.path.partition("?")
        ctx = RequestContext(
            state,
            "",
            b"",
            self.headers.get("Content-Type", ""),
            {},
            None,
            accept=self.headers.get("Accept", ""),
        )
        try:
            ctx.body = self._read_body()
            ctx.query = dict(parse_qsl(query))
            if path.startswith("/_sim/"):
                if not admin_allowed(str(self.client_address[0])):
                    raise SimError(403, "Forbidden", "/_sim/* answers loopback clients only")
                self._send(self._admin(method, path, ctx))
                return
            state.count_request(path)
            route = ROUTES.get((method, path))
            if route is None:
                raise SimError(404, f"Cannot {method} {path}")
            # Auth first: NovelAI answers a wrong token with 401 whatever else is going on, and
            # a fault meant for the client under test is not used up by a stray request. (A
            # real Cloudflare 429 can come before auth; the simulator does not model that.)
            ctx.key = state.authenticate(self.headers.get("Authorization"))
            ctx.fault = self._fault(path)
            if ctx.fault_name == DELAY and not state.wait(ctx.fault.delay_ms if ctx.fault else 0):
                raise SimError(503, "Service Unavailable")
            if ctx.fault_name in EARLY_FAULTS:
                state.record(method, path, ctx.recorded_body(), 0, ctx.fault_name)
                self._early_fault(ctx.fault_name or "")
                return
            response = route(ctx)
        except UnknownFaultError as exc:
            response = error_response(SimError(400, str(exc)))
        except SimError as exc:
            response = error_response(exc)
        except Exception:  # a simulator bug: answer like NovelAI, show the traceback locally
            traceback.print_exc(file=sys.stderr)
            response = error_response(SimError(500, "Internal Server Error"))
        state.record(method, path, ctx.recorded_body(), response.status, ctx.fault_name)
        self._send(response, ctx.fault_name)

    def _admin(self, method: str, path: str, ctx: RequestContext) -> Response:
        """/_sim/* endpoints: statistics and fault control for people driving the CLI."""
        state = self.server.state
        if (method, path) == ("GET", "/_sim/stats"):
            return json_response(200, state.stats())
        if (method, path) == ("POST", "/_sim/faults"):
            body = ctx.json()
            count = body.get("count", 1)
            state.faults.add(str(body.get("name")), count=count, path=body.get("path"))
            return json_response(200, {"faults": state.faults.rules()})
        if (method, path) == ("DELETE", "/_sim/faults"):
            state.faults.clear()
            return json_response(200, {"faults": []})
        raise SimError(404, f"Cannot {method} {path}")

    # --- writing ----------------------------------------------------------------------------

    def _early_fault(self, name: str) -> None:
        if name == DROP_BEFORE_RESPONSE:
            self._drop()
        elif name == HANG:
            self._hang()
        elif name == CLOUDFLARE_429:
            headers = {"Content-Type": "text/html; charset=UTF-8", "Retry-After": "1"}
            self._send(Response(429, _CLOUDFLARE_HTML, headers))
        else:
            status, message = _EARLY_STATUS[name]
            self._send(json_response(status, {"statusCode": status, "message": message}))

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _hang(self) -> None:
        """Headers and a first byte, then nothing until the server stops or the limit passes."""
        self.send_response(200)
        self.send_header("Content-Type", "binary/octet-stream")
        self.send_header("Content-Length", "1048576")
        self.end_headers()
        self.wfile.write(b"P")
        self.wfile.flush()
        stop, waited = self.server.state.stop, 0.0
        while not stop.wait(_POLL_S) and waited < HANG_LIMIT_S:
            waited += _POLL_S
        self._drop()

    def _send(self, response: Response, fault: str | None = None) -> None:
        body = response.body
        if fault == TRUNCATED_ZIP and response.status == 200:
            body = body[: len(body) // 2]
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.stream is not None:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self._send_stream(response.stream, fault)
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            if fault == DROP_MID_BODY and response.status == 200:
                self.wfile.write(body[: len(body) // 2])
                self._drop()
                return
            self.wfile.write(body)
        except OSError:
            self.close_connection = True

    def _send_stream(self, chunks: Iterator[bytes], fault: str | None) -> None:
        try:
            for sent, chunk in enumerate(chunks):
                if fault == DROP_MID_BODY and sent >= 2:
                    self._drop()
                    return
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except OSError:  # the client went away; the generator's finally releases the lock
            self.close_connection = True
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
