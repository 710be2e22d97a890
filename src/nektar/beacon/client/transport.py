"""HTTP transport to one or more beacon nodes: timeouts, retries with backoff, fallback.

A DVT node must keep performing duties when its beacon node restarts or falls behind, so every
request may be served by any of several configured nodes. The policy:

* nodes are tried in configured order ("first healthy wins"); a node that failed is put in a
  cool-down and tried after the healthy ones until the cool-down expires;
* connection errors, timeouts and 5xx responses fail over to the next node; once every node
  failed in a round, the transport sleeps (exponential backoff) and starts another round, up to
  `retries` extra rounds;
* a 4xx is the request's fault, not the node's: it is raised at once, never retried.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

JSON = "application/json"
SSZ = "application/octet-stream"


class BeaconAPIError(Exception):
    """Base class of every error the Beacon API client raises."""


class BeaconHTTPError(BeaconAPIError):
    """A beacon node answered with an error status; `failures` holds per-item pool errors."""

    def __init__(
        self,
        status: int,
        message: str,
        url: str,
        failures: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        super().__init__(f"{status} from {url}: {message}")
        self.status = status
        self.message = message
        self.url = url
        self.failures = list(failures)


class BeaconUnavailableError(BeaconAPIError):
    """No configured beacon node could serve the request after every retry."""


class BeaconResponseError(BeaconAPIError):
    """A beacon node answered 2xx with a body that does not follow the specification."""


@dataclass(frozen=True)
class Response:
    """A successful answer: status, the headers the API defines, and the decoded body."""

    status: int
    headers: Mapping[str, str]
    body: Any  # parsed JSON, raw bytes for SSZ, or None for empty bodies
    url: str
    content_type: str
    received_at: float  # local unix time when the response arrived


@dataclass
class _NodeState:
    url: str
    down_until: float = 0.0
    failures: int = 0


@dataclass
class Transport:
    """Issues requests to a list of beacon node base URLs with the failover policy above."""

    urls: Sequence[str]
    timeout: float = 5.0
    retries: int = 2
    backoff: float = 0.1
    cooldown: float = 5.0
    user_agent: str = "nektar-stinger"
    _nodes: list[_NodeState] = field(init=False)
    _session: aiohttp.ClientSession | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if not self.urls:
            raise ValueError("at least one beacon node URL is required")
        self._nodes = [_NodeState(url.rstrip("/")) for url in self.urls]

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(headers={"User-Agent": self.user_agent})
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def ordered_nodes(self) -> list[str]:
        """Healthy nodes in configured order, then nodes still cooling down."""
        now = time.monotonic()
        healthy = [n.url for n in self._nodes if n.down_until <= now]
        cooling = [n.url for n in self._nodes if n.down_until > now]
        return healthy + cooling

    async def probe(self, path: str = "/eth/v1/node/health") -> dict[str, int | None]:
        """GET `path` on every node (no failover): its status, None if unreachable. Nodes
        not answering 200 cool down, so that requests prefer ready, synced nodes."""

        async def one(url: str) -> int | None:
            try:
                async with self.session.get(
                    url + path, timeout=aiohttp.ClientTimeout(total=self.timeout)
                ) as resp:
                    await resp.read()
                    return resp.status
            except (aiohttp.ClientError, TimeoutError):
                return None

        urls = [n.url for n in self._nodes]
        statuses = dict(zip(urls, await asyncio.gather(*(one(u) for u in urls)), strict=True))
        for url, status in statuses.items():
            self._mark(url, ok=status == 200)
        return statuses

    def _mark(self, url: str, ok: bool) -> None:
        for node in self._nodes:
            if node.url == url:
                node.failures = 0 if ok else node.failures + 1
                node.down_until = 0.0 if ok else time.monotonic() + self.cooldown

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | Sequence[str]] | None = None,
        json_body: Any = None,
        ssz_body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        accept: str = JSON,
        timeout: float | None = None,
    ) -> Response:
        """Send one API request with failover and retries; raise on a final error."""
        last_error: Exception | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
            for base in self.ordered_nodes():
                try:
                    response = await self._once(
                        method, base + path, params, json_body, ssz_body, headers, accept, timeout
                    )
                except (aiohttp.ClientError, TimeoutError, _RetryableStatusError) as exc:
                    self._mark(base, ok=False)
                    last_error = exc
                    continue
                self._mark(base, ok=True)
                return response
        raise BeaconUnavailableError(
            f"{method} {path}: no beacon node answered after {self.retries + 1} rounds "
            f"over {len(self._nodes)} node(s): {last_error!r}"
        ) from last_error

    async def _once(
        self,
        method: str,
        url: str,
        params: Mapping[str, str | Sequence[str]] | None,
        json_body: Any,
        ssz_body: bytes | None,
        headers: Mapping[str, str] | None,
        accept: str,
        timeout: float | None,
    ) -> Response:
        request_headers = {"Accept": accept, **(headers or {})}
        data: bytes | None = None
        if ssz_body is not None:
            data, request_headers["Content-Type"] = ssz_body, SSZ
        elif json_body is not None:
            data, request_headers["Content-Type"] = json.dumps(json_body).encode(), JSON
        async with self.session.request(
            method,
            url,
            params=_flatten(params),
            data=data,
            headers=request_headers,
            timeout=aiohttp.ClientTimeout(total=timeout if timeout is not None else self.timeout),
        ) as resp:
            raw = await resp.read()
            content_type = resp.content_type or ""
            if resp.status >= 500:
                raise _RetryableStatusError(resp.status, _error_message(raw), url)
            if resp.status >= 400:
                body = _maybe_json(raw)
                failures = body.get("failures", []) if isinstance(body, dict) else []
                raise BeaconHTTPError(resp.status, _error_message(raw), url, failures)
            return Response(
                status=resp.status,
                headers=dict(resp.headers),
                body=_decode_body(raw, content_type, url),
                url=url,
                content_type=content_type,
                received_at=time.time(),
            )


class _RetryableStatusError(BeaconAPIError):
    def __init__(self, status: int, message: str, url: str) -> None:
        super().__init__(f"{status} from {url}: {message}")
        self.status = status


def _flatten(params: Mapping[str, str | Sequence[str]] | None) -> list[tuple[str, str]] | None:
    """Repeated keys for arrays (`id=1&id=2`), the form every beacon node accepts."""
    if not params:
        return None
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        if isinstance(value, str):
            pairs.append((key, value))
        else:
            pairs.extend((key, item) for item in value)
    return pairs


def _maybe_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _error_message(raw: bytes) -> str:
    body = _maybe_json(raw)
    if isinstance(body, dict) and "message" in body:
        return str(body["message"])
    return raw[:200].decode(errors="replace")


def _decode_body(raw: bytes, content_type: str, url: str) -> Any:
    if not raw:
        return None
    if content_type == SSZ:
        return raw
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise BeaconResponseError(f"{url}: response is not JSON: {exc}") from exc
