"""Client transport over real loopback sockets: failover, retries, timeouts, no retry on 4xx.

The "nodes" here are small aiohttp servers with scripted failure behaviour (refusing, 503,
slow, 400), because the behaviour under test is the client's reaction to those failures.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable

import pytest
from aiohttp import web

from nektar.beacon.client import (
    BeaconClient,
    BeaconHTTPError,
    BeaconUnavailableError,
)


class ScriptedNode:
    """A loopback HTTP server answering the version endpoint per a scripted behaviour."""

    def __init__(self, behaviour: Callable[[int], web.Response | float]) -> None:
        self.behaviour = behaviour
        self.hits = 0
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.hits += 1
        outcome = self.behaviour(self.hits)
        if isinstance(outcome, float):  # a delay, then a good answer
            await asyncio.sleep(outcome)
            return web.json_response({"data": {"version": "slow/1"}})
        return outcome

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self.handle)  # every GET path behaves alike
        self.runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"
        return self.url

    async def stop(self) -> None:
        assert self.runner is not None
        await self.runner.cleanup()


def good(name: str) -> Callable[[int], web.Response]:
    return lambda _: web.json_response({"data": {"version": name}})


def unavailable(_: int) -> web.Response:
    return web.json_response({"code": 503, "message": "syncing"}, status=503)


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens here any more: connection refused


@pytest.fixture
async def nodes() -> AsyncIterator[Callable[..., object]]:
    started: list[ScriptedNode] = []

    async def make(behaviour: Callable[[int], web.Response | float]) -> ScriptedNode:
        node = ScriptedNode(behaviour)
        await node.start()
        started.append(node)
        return node

    yield make
    for node in started:
        await node.stop()


async def test_fails_over_to_the_first_healthy_node_and_remembers(nodes) -> None:
    sick = await nodes(unavailable)
    healthy = await nodes(good("healthy/1"))
    spare = await nodes(good("spare/1"))
    urls = [closed_port_url(), sick.url, healthy.url, spare.url]
    async with BeaconClient(urls, retries=0, cooldown=60) as client:
        assert await client.version() == "healthy/1"
        assert (sick.hits, healthy.hits, spare.hits) == (1, 1, 0)
        # failed nodes cool down: the next request goes straight to the healthy one
        assert await client.version() == "healthy/1"
        assert (sick.hits, healthy.hits) == (1, 2)


async def test_retries_with_backoff_until_a_node_recovers(nodes) -> None:
    flaky = await nodes(lambda hit: unavailable(hit) if hit < 3 else good("up/1")(hit))
    async with BeaconClient(flaky.url, retries=3, backoff=0.01, cooldown=0) as client:
        assert await client.version() == "up/1"
    assert flaky.hits == 3


async def test_gives_up_after_the_retry_budget(nodes) -> None:
    sick = await nodes(unavailable)
    async with BeaconClient([sick.url, closed_port_url()], retries=2, backoff=0.01) as client:
        with pytest.raises(BeaconUnavailableError, match="3 rounds over 2 node"):
            await client.version()
    assert sick.hits == 3


async def test_client_errors_are_not_retried_nor_failed_over(nodes) -> None:
    picky = await nodes(
        lambda _: web.json_response({"code": 400, "message": "Invalid thing"}, status=400)
    )
    spare = await nodes(good("spare/1"))
    async with BeaconClient([picky.url, spare.url], retries=3) as client:
        with pytest.raises(BeaconHTTPError) as caught:
            await client.version()
    assert caught.value.status == 400 and caught.value.message == "Invalid thing"
    assert (picky.hits, spare.hits) == (1, 0)


async def test_a_slow_node_times_out_and_the_next_one_answers(nodes) -> None:
    slow = await nodes(lambda _: 2.0)
    fast = await nodes(good("fast/1"))
    async with BeaconClient([slow.url, fast.url], timeout=0.2, retries=0) as client:
        assert await client.version() == "fast/1"
    assert slow.hits == 1


async def test_health_probe_demotes_a_syncing_node(nodes) -> None:
    syncing = await nodes(lambda _: web.Response(status=206))
    ready = await nodes(lambda _: web.Response(status=200))
    urls = [closed_port_url(), syncing.url, ready.url]
    async with BeaconClient(urls, cooldown=60) as client:
        statuses = await client.check_nodes()
        assert list(statuses.values()) == [None, 206, 200]
        assert client.transport.ordered_nodes()[0] == ready.url


def test_needs_at_least_one_url() -> None:
    with pytest.raises(ValueError, match="at least one"):
        BeaconClient([])
