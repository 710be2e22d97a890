"""HTTP plumbing shared by every route: errors, content negotiation, parameter parsing.

Every failure a client can cause is an `ApiError` with the status the specification gives
(400 malformed, 404 unknown, 406/415 media types) and becomes `{"code", "message"}`; pool
submissions add `failures`. Anything else is a bug: the catch-all middleware logs it and
answers a spec-shaped 500 so that one bad request never takes the server down.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from aiohttp import web
from remerkleable.core import View

from nektar.beacon.chain.interface import InvalidRequest, ItemError, NotFound, SubmissionFailed
from nektar.beacon.json_codec import CodecError, decode, decode_ssz, decode_uint, encode, encode_ssz

log = logging.getLogger("nektar.beacon.api")

JSON = "application/json"
SSZ = "application/octet-stream"
V = TypeVar("V", bound=View)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_ROOT = re.compile(r"0x[0-9a-fA-F]{64}")
_PUBKEY = re.compile(r"0x[0-9a-fA-F]{96}")
NAMED_STATE_IDS = ("head", "genesis", "finalized", "justified")


class ApiError(Exception):
    """An error answer: HTTP status, message, and optional per-item failures."""

    def __init__(
        self, status: int, message: str, failures: Sequence[Mapping[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.failures = failures

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.status, "message": self.message}
        if self.failures is not None:
            body["failures"] = list(self.failures)
        return body


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, message)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every failure into the spec's error body; never let an exception escape."""
    try:
        return await handler(request)
    except ApiError as exc:
        return web.json_response(exc.body(), status=exc.status)
    except NotFound as exc:
        return web.json_response({"code": 404, "message": str(exc)}, status=404)
    except InvalidRequest as exc:
        return web.json_response({"code": 400, "message": str(exc)}, status=400)
    except SubmissionFailed as exc:
        failures = [{"index": e.index, "message": e.message} for e in exc.errors]
        body = {"code": 400, "message": "Some items failed validation", "failures": failures}
        return web.json_response(body, status=400)
    except web.HTTPException as exc:  # router: unknown path (404), wrong method (405)
        if exc.status < 400:
            raise
        message = {404: "Endpoint not found", 405: "Method not allowed"}.get(exc.status, exc.reason)
        return web.json_response(
            {"code": exc.status, "message": f"{message}: {request.method} {request.path}"},
            status=exc.status,
            headers={k: v for k, v in exc.headers.items() if k.lower() == "allow"},
        )
    except Exception:
        log.exception("internal error serving %s %s", request.method, request.path_qs)
        return web.json_response({"code": 500, "message": "Internal server error"}, status=500)


# ---- content negotiation ------------------------------------------------------------------

SSZ_HANDLERS: set[Handler] = set()
EVENT_STREAM = "/eth/v1/events"


def offers_ssz(handler: Handler) -> Handler:
    """Mark a handler that can answer in SSZ (it negotiates with `wants_ssz` itself)."""
    SSZ_HANDLERS.add(handler)
    return handler


@web.middleware
async def accept_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """406 when the Accept header admits neither JSON nor (where offered) SSZ."""
    route = request.match_info.route
    if route.resource is not None and request.path != EVENT_STREAM:
        wants_ssz(request, ssz_supported=route.handler in SSZ_HANDLERS)
    return await handler(request)


def wants_ssz(request: web.Request, ssz_supported: bool) -> bool:
    """Pick JSON or SSZ from the Accept header (q-values honoured), else raise 406."""
    accept = request.headers.get("Accept", "")
    if not accept.strip():
        return False
    best: tuple[float, int, str] | None = None
    for position, part in enumerate(accept.split(",")):
        media, _, params = part.strip().partition(";")
        media = media.strip().lower()
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media in ("*/*", "application/*"):
            media = JSON
        if media not in (JSON, SSZ) or quality <= 0 or (media == SSZ and not ssz_supported):
            continue
        candidate = (quality, -position, media)
        if best is None or candidate > best:
            best = candidate
    if best is None:
        raise ApiError(406, f"Accepted media type not supported: {accept}")
    return best[2] == SSZ


def request_is_ssz(request: web.Request, ssz_supported: bool) -> bool:
    """True for an SSZ body; 415 for media types the endpoint cannot read."""
    content_type = request.content_type  # aiohttp: application/octet-stream when absent
    if "Content-Type" not in request.headers or content_type == JSON:
        return False
    if content_type == SSZ and ssz_supported:
        return True
    raise ApiError(415, f"Cannot read the supplied content type: {content_type}")


def data_response(
    data: Any,
    *,
    version: str | None = None,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    **meta: Any,
) -> web.Response:
    """`{"version"?, **meta, "data": …}` with the Eth-Consensus-Version header if versioned."""
    body: dict[str, Any] = {}
    all_headers = dict(headers or {})
    if version is not None:
        body["version"] = version
        all_headers["Eth-Consensus-Version"] = version
    body.update(meta)
    body["data"] = data
    return web.Response(
        body=json.dumps(body, separators=(",", ":")).encode(),
        status=status,
        content_type=JSON,
        headers=all_headers,
    )


def ssz_response(value: View, version: str | None = None, **headers: str) -> web.Response:
    all_headers = dict(headers)
    if version is not None:
        all_headers["Eth-Consensus-Version"] = version
    return web.Response(body=encode_ssz(value), content_type=SSZ, headers=all_headers)


def container_response(
    request: web.Request, value: View, *, version: str | None = None, **meta: Any
) -> web.Response:
    """One SSZ value as JSON (`data`) or SSZ bytes, as the Accept header asks."""
    if wants_ssz(request, ssz_supported=True):
        return ssz_response(value, version)
    return data_response(encode(value), version=version, **meta)


# ---- parameters ---------------------------------------------------------------------------


def parse_uint(value: str | None, name: str) -> int:
    if value is None:
        raise bad_request(f"Missing required parameter: {name}")
    try:
        return decode_uint(value, 64, name)
    except CodecError as exc:
        raise bad_request(f"Invalid {name}: {exc}") from exc


def optional_uint(request: web.Request, name: str) -> int | None:
    value = request.query.get(name)
    return None if value is None else parse_uint(value, name)


def parse_root(value: str | None, name: str) -> bytes:
    if value is None or not _ROOT.fullmatch(value):
        raise bad_request(f"Invalid {name}: expected a 0x-prefixed 32-byte hex root")
    return bytes.fromhex(value[2:])


def parse_state_id(value: str) -> str | int | bytes:
    """head/genesis/finalized/justified, a slot, or a 0x state root (spec `StateId`)."""
    if value in NAMED_STATE_IDS:
        return value
    if value.isascii() and value.isdigit():
        return parse_uint(value, "state ID")
    if _ROOT.fullmatch(value):
        return bytes.fromhex(value[2:])
    raise bad_request(f"Invalid state ID: {value}")


def parse_block_id(value: str) -> str | int | bytes:
    """head/genesis/finalized (and justified, as Lighthouse), a slot, or a 0x block root."""
    if value in NAMED_STATE_IDS:
        return value
    if value.isascii() and value.isdigit():
        return parse_uint(value, "block ID")
    if _ROOT.fullmatch(value):
        return bytes.fromhex(value[2:])
    raise bad_request(f"Invalid block ID: {value}")


def parse_validator_id(value: Any) -> int | bytes:
    """A validator index (decimal string) or a 0x-prefixed 48-byte public key."""
    if isinstance(value, str):
        if value.isascii() and value.isdigit():
            return parse_uint(value, "validator ID")
        if _PUBKEY.fullmatch(value):
            return bytes.fromhex(value[2:])
    raise bad_request(f"Invalid validator ID: {str(value)[:120]}")


def split_query_list(request: web.Request, name: str) -> list[str]:
    """Array query parameters, repeated (`id=1&id=2`) or comma-separated (`id=1,2`)."""
    items: list[str] = []
    for value in request.query.getall(name, []):
        items.extend(part.strip() for part in value.split(",") if part.strip())
    return items


async def json_body(request: web.Request) -> Any:
    """The parsed JSON body; 415 for another declared media type, 400 if empty or invalid."""
    request_is_ssz(request, ssz_supported=False)
    raw = await request.read()
    if not raw:
        raise bad_request("Request body is required")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"Request body is not valid JSON: {exc}") from exc


class AcceptedItems:
    """Digests of the JSON items of pool submissions the node accepted, and of those being
    processed. Every member of a DVT cluster broadcasts the same combined attestation,
    aggregate or sync message, usually within milliseconds of the others: a copy waits for
    the request that carries the first one, and accepted copies are answered 200 without
    being decoded (decoding a slot's batch costs more than anything else about a copy)."""

    def __init__(self, limit: int = 65_536) -> None:
        self.limit = limit
        self._digests: dict[bytes, None] = {}
        self.pending: dict[bytes, asyncio.Future[None]] = {}

    @staticmethod
    def digest(item: Any) -> bytes:
        text = json.dumps(item, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).digest()

    def __contains__(self, digest: object) -> bool:
        return digest in self._digests

    def add(self, digests: Sequence[bytes]) -> None:
        for digest in digests:
            self._digests[digest] = None
        excess = len(self._digests) - self.limit
        if excess > 0:  # forget the oldest (dicts keep insertion order)
            for digest in list(self._digests)[:excess]:
                del self._digests[digest]


ACCEPTED_KEY = web.AppKey("accepted_items", AcceptedItems)
# Submissions are decoded and verified on their own small pool of threads, so that queries
# (duties, attestation data) never queue behind a slot's worth of signature checks.
SUBMIT_POOL_KEY = web.AppKey("submit_pool", ThreadPoolExecutor)


async def submit_items(
    request: web.Request,
    typ: type[V],
    submit: Callable[[list[V]], None],
    list_type: type[View] | None = None,
) -> web.Response:
    """A pool/aggregate submission: a JSON array (or, where the spec offers it, an SSZ
    `list_type`) of one container type, decoded and handed to `submit` (a node method) on
    the submission threads. Items already accepted are skipped, copies of items in flight
    wait for them (see `AcceptedItems`); failures keep the request's item indices (the
    spec's IndexedErrorMessage)."""
    loop = asyncio.get_running_loop()
    pool = request.app[SUBMIT_POOL_KEY]
    if list_type is not None and request_is_ssz(request, ssz_supported=True):
        raw = await request.read()
        try:
            items = list(await loop.run_in_executor(pool, decode_ssz, list_type, raw, "body"))
        except CodecError as exc:
            raise bad_request(f"Invalid request body: {exc}") from exc
        await loop.run_in_executor(pool, submit, items)
        return web.Response(status=200)
    body = await json_body(request)
    if not isinstance(body, list):
        raise bad_request("Request body must be a JSON array")
    accepted = request.app[ACCEPTED_KEY]
    digests = [accepted.digest(item) for item in body]
    in_flight = {accepted.pending[d] for d in digests if d in accepted.pending}
    if in_flight:
        await asyncio.wait(in_flight)
    fresh = [i for i, digest in enumerate(digests) if digest not in accepted]
    if not fresh:
        return web.Response(status=200)
    done: asyncio.Future[None] = loop.create_future()
    for i in fresh:
        accepted.pending.setdefault(digests[i], done)
    try:
        applied, error = await loop.run_in_executor(pool, _submit_json, typ, body, fresh, submit)
        accepted.add([digests[i] for i in applied])
    finally:
        for i in fresh:
            if accepted.pending.get(digests[i]) is done:
                del accepted.pending[digests[i]]
        done.set_result(None)
    if error is not None:
        raise error
    return web.Response(status=200)


def _submit_json(
    typ: type[V], body: list[Any], fresh: list[int], submit: Callable[[list[V]], None]
) -> tuple[list[int], Exception | None]:
    """Decode and submit the items at positions `fresh`; (positions applied, error)."""
    items = []
    for i in fresh:
        try:
            items.append(decode(typ, body[i], f"body[{i}]"))
        except CodecError as exc:
            failure = {"index": i, "message": str(exc)}
            return [], ApiError(400, f"Invalid request body: {exc}", [failure])
    try:
        submit(items)
    except SubmissionFailed as exc:
        rejected = {e.index for e in exc.errors}
        applied = [i for n, i in enumerate(fresh) if n not in rejected]
        return applied, SubmissionFailed([ItemError(fresh[e.index], e.message) for e in exc.errors])
    return fresh, None


def indexed_errors(handler: Handler) -> Handler:
    """For pool/aggregate submissions, whose 400 body is the spec's IndexedErrorMessage: every
    400 carries a `failures` array (empty when the request as a whole is malformed)."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiError as exc:
            if exc.status == 400 and exc.failures is None:
                exc.failures = []
            raise
        except InvalidRequest as exc:
            raise ApiError(400, str(exc), []) from exc

    return wrapped


def consensus_version_header(request: web.Request, allowed: Sequence[str]) -> str:
    """The Eth-Consensus-Version header that v2 pool/aggregate submissions must carry."""
    version = request.headers.get("Eth-Consensus-Version")
    if version is None:
        raise bad_request("Missing required header: Eth-Consensus-Version")
    if version.lower() not in allowed:
        raise bad_request(f"Unsupported Eth-Consensus-Version: {version}")
    return version.lower()
