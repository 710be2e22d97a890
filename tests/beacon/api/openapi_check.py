"""Validation of real HTTP exchanges against the beacon-APIs OpenAPI document (openapi-core).

`Recorder` is an aiohttp middleware for the server under test: it keeps every request (with
its body) and the response the server sent, so that a test can check both directions — the
server's responses and the client's requests — against the specification.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from openapi_core import OpenAPI
from openapi_core.contrib.aiohttp import AIOHTTPOpenAPIWebRequest, AIOHTTPOpenAPIWebResponse

SPEC_ENTRY = Path("beacon-APIs") / "beacon-node-oapi.yaml"


def load_openapi(specs_dir: Path) -> OpenAPI:
    return OpenAPI.from_file_path(str(specs_dir / SPEC_ENTRY))


@dataclass
class Exchange:
    request: web.Request
    body: bytes | None
    response: web.StreamResponse | None = None  # None while a stream is still open

    @property
    def label(self) -> str:
        status = "open" if self.response is None else self.response.status
        return f"{self.request.method} {self.request.path_qs} → {status}"


@dataclass
class Recorder:
    exchanges: list[Exchange] = field(default_factory=list)

    @web.middleware
    async def middleware(self, request: web.Request, handler) -> web.StreamResponse:
        body = await request.read() if request.can_read_body else None
        exchange = Exchange(request, body)
        self.exchanges.append(exchange)
        exchange.response = await handler(request)
        return exchange.response

    def clear(self) -> None:
        self.exchanges.clear()


def validate_request(openapi: OpenAPI, exchange: Exchange) -> None:
    """Raise (openapi-core's error, with our label) if the request breaks the spec."""
    try:
        openapi.validate_request(AIOHTTPOpenAPIWebRequest(exchange.request, body=exchange.body))
    except Exception as exc:
        raise AssertionError(f"request {exchange.label}: {_explain(exc)}") from exc


def validate_response(openapi: OpenAPI, exchange: Exchange) -> None:
    """Raise if the response (status, headers, body) breaks the spec for that operation."""
    request = AIOHTTPOpenAPIWebRequest(exchange.request, body=exchange.body)
    response = exchange.response
    if response is None:  # an event stream still open: the client saw its 200 and events
        return
    if not isinstance(response, web.Response):  # a finished event stream
        assert response.status == 200, exchange.label
        assert response.content_type == "text/event-stream", exchange.label
        return
    if response.status >= 400:
        _check_error_body(exchange)
    try:
        openapi.validate_response(request, AIOHTTPOpenAPIWebResponse(response))
    except Exception as exc:
        raise AssertionError(f"response {exchange.label}: {_explain(exc)}") from exc


def _check_error_body(exchange: Exchange) -> None:
    """Every error answer is the spec's `{code, message}` with code = the HTTP status."""
    assert isinstance(exchange.response, web.Response)
    body = json.loads(exchange.response.body)
    assert body["code"] == exchange.response.status, exchange.label
    assert isinstance(body["message"], str) and body["message"], exchange.label


def _explain(exc: Exception) -> str:
    parts = [repr(exc)]
    cause = exc.__cause__
    while cause is not None:
        parts.append(repr(cause)[:600])
        cause = cause.__cause__
    return " ← ".join(parts)
