"""The conformance checker itself can fail: a response or request that breaks the OpenAPI
document is rejected (so the passing conformance test means something)."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web
from openapi_core import OpenAPI

from .openapi_check import Recorder, validate_request, validate_response

GENESIS = {
    "genesis_time": "1606824023",
    "genesis_validators_root": "0x" + "4b" * 32,
    "genesis_fork_version": "0x00000000",
}


async def exchange(method: str, path: str, answer: dict, body: object = None) -> Recorder:
    """Serve `answer` for `path` through the Recorder and make one real request."""
    recorder = Recorder()
    app = web.Application(middlewares=[recorder.middleware])

    async def handler(_: web.Request) -> web.Response:
        return web.json_response(answer)

    app.router.add_route(method, path, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}{path}"
    async with aiohttp.ClientSession() as session:
        await (await session.request(method, url, json=body)).read()
    await runner.cleanup()
    return recorder


async def test_conforming_exchange_passes(openapi: OpenAPI) -> None:
    recorder = await exchange("GET", "/eth/v1/beacon/genesis", {"data": GENESIS})
    validate_request(openapi, recorder.exchanges[0])
    validate_response(openapi, recorder.exchanges[0])


async def test_unquoted_integer_in_a_response_is_rejected(openapi: OpenAPI) -> None:
    bad = {"data": {**GENESIS, "genesis_time": 1606824023}}
    recorder = await exchange("GET", "/eth/v1/beacon/genesis", bad)
    with pytest.raises(AssertionError, match="is not of type 'string'"):
        validate_response(openapi, recorder.exchanges[0])


async def test_missing_field_in_a_response_is_rejected(openapi: OpenAPI) -> None:
    bad = {"data": {k: v for k, v in GENESIS.items() if k != "genesis_fork_version"}}
    recorder = await exchange("GET", "/eth/v1/beacon/genesis", bad)
    with pytest.raises(AssertionError, match="genesis_fork_version"):
        validate_response(openapi, recorder.exchanges[0])


async def test_bad_request_body_is_rejected(openapi: OpenAPI) -> None:
    answer = {"dependent_root": "0x" + "00" * 32, "execution_optimistic": False, "data": []}
    recorder = await exchange("POST", "/eth/v1/validator/duties/attester/1", answer, [1])
    with pytest.raises(AssertionError, match="request POST"):
        validate_request(openapi, recorder.exchanges[0])
