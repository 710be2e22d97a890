"""Malformed requests against the real server (devnet node behind it): each gets the spec's
error status with a `{code, message}` body that validates against the OpenAPI document —
400 for malformed input, 404 for unknown things — never a 500, and the server keeps serving.

The server runs on its own event loop thread so that hypothesis can drive it with plain
blocking HTTP requests.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
from collections.abc import Iterator
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openapi_core import OpenAPI

from nektar.beacon.json_codec import encode
from nektar.beacon.server import BeaconAPIServer
from nektar.crypto.signing import SingleAttestation

from .conftest import make_node
from .openapi_check import Recorder, validate_response


class ThreadedServer:
    """The API server on a private event loop thread; `request()` is a blocking HTTP call."""

    def __init__(self) -> None:
        self.node = make_node(managed=set(range(8)))
        self.node.advance_slots(10)
        self.recorder = Recorder()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = BeaconAPIServer(self.node, middlewares=[self.recorder.middleware])
        url = asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(10)
        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, bytes]:
        self.connection.request(method, path, body=body, headers=headers or {})
        response = self.connection.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self.connection.close()
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadedServer]:
    running = ThreadedServer()
    yield running
    running.close()


def check_error(
    server: ThreadedServer,
    openapi: OpenAPI,
    status: int,
    raw: bytes,
    allowed: set[int],
    against_spec: bool = True,
) -> None:
    """The answer is one of `allowed`, has the spec's error body, and validates."""
    assert status in allowed, (status, raw[:300])
    body = json.loads(raw)
    assert body["code"] == status and isinstance(body["message"], str) and body["message"]
    if against_spec:
        validate_response(openapi, server.recorder.exchanges[-1])
    server.recorder.clear()


# Anything that is not a valid id: arbitrary text, near misses, and out-of-range numbers.
BAD_IDS = st.one_of(
    st.text(min_size=1, max_size=70),
    st.sampled_from(["current", "HEAD", "-1", "0x", "0x12", "1.5", "1e3", "0x" + "g" * 64]),
    st.integers(2**64, 2**80).map(str),
    st.binary(min_size=31, max_size=33)
    .filter(lambda b: len(b) != 32)
    .map(lambda b: "0x" + b.hex()),
)
NAMED = {"head", "genesis", "finalized", "justified"}


def is_uint64(value: str) -> bool:
    return value.isascii() and value.isdigit() and int(value) < 2**64


def is_valid_state_id(value: str) -> bool:
    if value in NAMED or is_uint64(value):
        return True
    return len(value) == 66 and value.startswith("0x")


@given(
    state_id=BAD_IDS,
    tail=st.sampled_from(["fork", "finality_checkpoints", "validators", "validator_balances"]),
)
def test_bad_state_ids(server: ThreadedServer, openapi: OpenAPI, state_id: str, tail: str) -> None:
    if is_valid_state_id(state_id):
        return
    path = f"/eth/v1/beacon/states/{quote(state_id, safe='')}/{tail}"
    status, raw = server.request("GET", path)
    # an encoded "/" is decoded by the router, "." and ".." are normalised by URL libraries:
    # such paths match no spec path (404 or 400)
    slash = "/" in state_id or state_id in (".", "..")
    check_error(server, openapi, status, raw, {400, 404} if slash else {400}, not slash)


@given(
    unknown=st.one_of(
        st.integers(1000, 2**64 - 1).map(str),
        st.binary(min_size=32, max_size=32).map(lambda b: "0x" + b.hex()),
    )
)
def test_unknown_states_and_blocks_are_404(
    server: ThreadedServer, openapi: OpenAPI, unknown: str
) -> None:
    for path in (
        f"/eth/v1/beacon/states/{unknown}/fork",
        f"/eth/v1/beacon/headers/{unknown}",
        f"/eth/v2/beacon/blocks/{unknown}",
    ):
        status, raw = server.request("GET", path)
        check_error(server, openapi, status, raw, {404})


@given(ids=st.lists(BAD_IDS, min_size=1, max_size=4))
def test_bad_validator_ids(server: ThreadedServer, openapi: OpenAPI, ids: list[str]) -> None:
    # GET lists may also be comma-separated (as Lighthouse and Teku accept): "1, 2" is valid
    as_listed = [part.strip() for i in ids for part in i.split(",") if part.strip()]
    if not all(is_uint64(i) for i in as_listed):
        query = "&".join(f"id={quote(i, safe='')}" for i in ids)
        status, raw = server.request("GET", f"/eth/v1/beacon/states/head/validators?{query}")
        check_error(server, openapi, status, raw, {400})
    if all(is_uint64(i) for i in ids):
        return
    body = json.dumps({"ids": ids}).encode()
    status, raw = server.request(
        "POST",
        "/eth/v1/beacon/states/head/validators",
        body,
        {"Content-Type": "application/json"},
    )
    check_error(server, openapi, status, raw, {400})


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)
POST_ENDPOINTS = [
    "/eth/v2/beacon/pool/attestations",
    "/eth/v1/beacon/pool/sync_committees",
    "/eth/v1/beacon/pool/voluntary_exits",
    "/eth/v1/beacon/pool/proposer_slashings",
    "/eth/v2/beacon/pool/attester_slashings",
    "/eth/v2/beacon/blocks",
    "/eth/v1/validator/duties/attester/1",
    "/eth/v1/validator/duties/sync/1",
    "/eth/v2/validator/aggregate_and_proofs",
    "/eth/v1/validator/contribution_and_proofs",
    "/eth/v1/validator/beacon_committee_subscriptions",
    "/eth/v1/validator/sync_committee_subscriptions",
    "/eth/v1/validator/prepare_beacon_proposer",
    "/eth/v1/validator/beacon_committee_selections",
    "/eth/v1/validator/sync_committee_selections",
    "/eth/v1/beacon/states/head/validator_balances",
]
VERSIONED = {"Content-Type": "application/json", "Eth-Consensus-Version": "electra"}


@given(
    endpoint=st.sampled_from(POST_ENDPOINTS),
    body=st.one_of(
        JSON_VALUES.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=40),
        st.just(b""),
    ),
)
def test_malformed_bodies(
    server: ThreadedServer, openapi: OpenAPI, endpoint: str, body: bytes
) -> None:
    status, raw = server.request("POST", endpoint, body, VERSIONED)
    if status == 200:  # e.g. `[]` is a valid, empty submission
        assert json.loads(body) in ([], {})
        server.recorder.clear()
        return
    check_error(server, openapi, status, raw, {400})


def attestation_json() -> dict:
    return encode(SingleAttestation(attester_index=1, signature=b"\x11" * 96))


def paths(value: object, prefix: tuple = ()) -> list[tuple]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in paths(v, (*prefix, k))] or [prefix]
    return [prefix]


@given(
    path=st.sampled_from(paths(attestation_json())),
    replacement=st.one_of(
        st.integers(), st.booleans(), st.none(), st.lists(st.integers(), max_size=2), st.text()
    ),
)
def test_wrong_types_inside_a_valid_attestation(
    server: ThreadedServer, openapi: OpenAPI, path: tuple, replacement: object
) -> None:
    item = attestation_json()
    target = item
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = replacement
    body = json.dumps([item]).encode()
    status, raw = server.request("POST", "/eth/v2/beacon/pool/attestations", body, VERSIONED)
    check_error(server, openapi, status, raw, {400})
    failures = json.loads(raw)["failures"]
    assert [f["index"] for f in failures] == [0]


@given(
    query=st.dictionaries(
        st.sampled_from(["slot", "committee_index"]),
        st.one_of(BAD_IDS, st.just("")),
        min_size=1,
    )
)
def test_bad_query_parameters(server: ThreadedServer, openapi: OpenAPI, query: dict) -> None:
    if "slot" in query and all(is_uint64(v) for v in query.values()):
        return
    qs = "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items())
    status, raw = server.request("GET", f"/eth/v1/validator/attestation_data?{qs}")
    check_error(server, openapi, status, raw, {400})


def test_media_types_unknown_routes_and_methods(server: ThreadedServer, openapi: OpenAPI) -> None:
    status, raw = server.request(
        "GET", "/eth/v2/beacon/blocks/head", headers={"Accept": "text/html"}
    )
    check_error(server, openapi, status, raw, {406})
    for endpoint in ("/eth/v2/beacon/pool/attestations", "/eth/v2/beacon/blocks"):
        headers = {"Content-Type": "text/plain", "Eth-Consensus-Version": "electra"}
        status, raw = server.request("POST", endpoint, b"x", headers)
        check_error(server, openapi, status, raw, {415})
    # JSON-only endpoints answer 415 too (the spec's general rule, though not listed there)
    status, raw = server.request(
        "POST", "/eth/v1/beacon/pool/voluntary_exits", b"x", {"Content-Type": "text/plain"}
    )
    check_error(server, openapi, status, raw, {415}, against_spec=False)
    for method, path, expected in [
        ("GET", "/eth/v1/no/such/endpoint", 404),
        ("DELETE", "/eth/v1/node/version", 405),
        ("GET", "/eth/v1/events", 400),
        ("GET", "/eth/v1/events?topics=weather_forecast", 400),
    ]:
        status, raw = server.request(method, path)
        assert status == expected, (method, path, raw)
        assert json.loads(raw)["code"] == expected
    server.recorder.clear()
    status, raw = server.request("GET", "/eth/v1/node/version")
    assert status == 200 and json.loads(raw)["data"]["version"].startswith("Nektar/")
