"""Request context and response values shared by the HTTP handler and the endpoints."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from .faults import BODY_FAULTS, ActiveFault
from .go_decoding import load_json
from .refusals import SimError, validation_error
from .state import SimState, describe_bytes, elide

ZIP_HEADERS = {
    "Content-Type": "binary/octet-stream",
    "Content-Disposition": "attachment; filename=images.zip",
}


@dataclass
class Response:
    """A finished body, or a stream of chunks sent with chunked transfer encoding."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    stream: Iterator[bytes] | None = None


def json_response(status: int, data: Any, headers: Mapping[str, str] | None = None) -> Response:
    body = json.dumps(data).encode()
    return Response(status, body, {"Content-Type": "application/json", **(headers or {})})


def error_response(error: SimError) -> Response:
    data: dict[str, Any] = {"statusCode": error.status, "message": error.message}
    if error.details is not None:
        data["details"] = error.details
    response = json_response(
        error.status, data, {"X-Sim-Reason": error.reason.encode("ascii", "replace").decode()}
    )
    response.body += error.trailer
    return response


def parse_multipart(content_type: str, body: bytes) -> dict[str, bytes]:
    """Parts of a multipart/form-data body by their ``name``."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise validation_error("the multipart body could not be parsed")
    parts: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            parts[name] = payload
    return parts


@dataclass
class RequestContext:
    """One request as the endpoints see it."""

    state: SimState
    key: str
    body: bytes
    content_type: str
    query: dict[str, str]
    fault: ActiveFault | None
    accept: str = ""  # the Accept header: "application/json" asks for the JSON reply (R13)
    _parsed: tuple[Any, dict[str, bytes]] | None = None

    @property
    def multipart(self) -> bool:
        """A multipart body: its image fields then name form parts (R9 d)."""
        return self.content_type.lower().startswith("multipart/form-data")

    @property
    def wants_json(self) -> bool:
        return "application/json" in self.accept.lower()

    @property
    def fault_name(self) -> str | None:
        return self.fault.name if self.fault else None

    def request(self) -> tuple[Any, dict[str, bytes]]:
        """(JSON body, multipart parts); the JSON is the ``request`` part of a multipart body."""
        if self._parsed is None:
            parts: dict[str, bytes] = {}
            raw = self.body
            if self.multipart:
                parts = parse_multipart(self.content_type, self.body)
                if "request" not in parts:
                    raise validation_error('multipart body has no "request" part')
                raw = parts.pop("request")
            try:
                data = load_json(raw) if raw else None
            except ValueError:
                raise validation_error("the body is not valid JSON") from None
            self._parsed = (data, parts)
        return self._parsed

    def json(self) -> Any:
        data, _ = self.request()
        if not isinstance(data, dict):
            raise validation_error("the body must be a JSON object")
        return data

    def recorded_body(self) -> Any:
        """The body for stats, images elided; never raises."""
        if not self.body:
            return None
        try:
            data, parts = self.request()
        except SimError:
            return f"<unparseable body bytes={len(self.body)}>"
        recorded = elide(data)
        if parts and isinstance(recorded, dict):
            recorded["_parts"] = {name: describe_bytes(b) for name, b in parts.items()}
        return recorded

    @property
    def charges(self) -> bool:
        """A fault that breaks the response means the request is never charged."""
        return self.fault is None or self.fault.name not in BODY_FAULTS

    def charge(self, amount: int, v5_free_images: int = 0) -> None:
        if self.charges:
            self.state.ledger.charge(self.key, amount, v5_free_images=v5_free_images)

    def created_status(self) -> int:
        """200 as the live service answers, or the schema's 201 when the simulator is told to."""
        return 201 if self.state.schema_statuses else 200

    def work(self, steps: int) -> None:
        """Pretend to generate: latency plus one step time per step, interruptible."""
        if not self.state.wait(self.state.latency_ms + steps * self.state.step_ms):
            raise SimError(503, "Service Unavailable", "the simulator is shutting down")


Route = Callable[[RequestContext], Response]
