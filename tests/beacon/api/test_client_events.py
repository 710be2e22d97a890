"""The client's event stream and clock report against the real server and devnet node:
typed events per topic, failover to another node when the stream's node goes away, and the
clock offset against the node's genesis and slot timing."""

from __future__ import annotations

import asyncio
import time

from nektar.beacon.client import BeaconClient, BeaconEvent
from nektar.beacon.client.models import BlockEvent, FinalizedCheckpointEvent, HeadEvent
from nektar.beacon.server import BeaconAPIServer
from nektar.crypto.signing import Attestation, SingleAttestation

from .conftest import SECRET_KEYS, Served, make_node
from .test_conformance import run_slot
from .tiny_vc import TinyValidatorClient


async def collect(
    client: BeaconClient, topics: list[str], into: list[BeaconEvent], reconnect: bool = True
) -> None:
    async for event in client.events(topics, reconnect=reconnect):
        into.append(event)


async def wait_for(predicate, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting for events"
        await asyncio.sleep(0.02)


async def test_typed_events_for_every_topic(served: Served) -> None:
    received: list[BeaconEvent] = []
    topics = ["head", "block", "attestation", "single_attestation", "finalized_checkpoint"]
    task = asyncio.create_task(collect(served.client, topics, received))
    await asyncio.sleep(0.2)
    vc = TinyValidatorClient(served.client, {7: SECRET_KEYS[7], 6: SECRET_KEYS[6]})
    await vc.setup()
    for slot in range(25, 41):  # two epochs: duties of 6 and 7, aggregates, a new finality
        await run_slot(served, vc, slot)
    await wait_for(
        lambda: (
            {"head", "block", "single_attestation", "attestation", "finalized_checkpoint"}
            <= {e.topic for e in received}
        )
    )
    task.cancel()
    by_topic = {e.topic: e.data for e in received}
    assert isinstance(by_topic["head"], HeadEvent) and isinstance(by_topic["block"], BlockEvent)
    assert isinstance(by_topic["single_attestation"], SingleAttestation)
    assert isinstance(by_topic["attestation"], Attestation)
    assert isinstance(by_topic["finalized_checkpoint"], FinalizedCheckpointEvent)
    heads = [e.data.slot for e in received if e.topic == "head"]
    assert heads == sorted(heads) and heads[-1] == 40
    single = [e.data for e in received if e.topic == "single_attestation"]
    assert {int(a.attester_index) for a in single} == {6, 7}


async def test_event_stream_fails_over_when_its_node_goes_away() -> None:
    node = make_node(managed=set(range(8)))
    first, second = BeaconAPIServer(node), BeaconAPIServer(node)
    await first.start()
    await second.start()
    received: list[BeaconEvent] = []
    async with BeaconClient([first.url, second.url], timeout=2, backoff=0.05) as client:
        task = asyncio.create_task(collect(client, ["head"], received))
        await asyncio.sleep(0.2)
        node.advance_slots(1)
        await wait_for(lambda: len(received) == 1)
        await first.stop()  # the stream's node disappears
        await asyncio.sleep(0.3)  # the client reconnects, to the other node
        node.advance_slots(1)
        await wait_for(lambda: len(received) == 2)
        task.cancel()
    await second.stop()
    assert [e.data.slot for e in received] == [1, 2]


async def test_clock_report_against_genesis_and_slot_timing() -> None:
    genesis_time = int(time.time()) - 2 * 10 - 1  # wall clock: 1 s into slot 10
    node = make_node(managed=set(range(8)), genesis_time=genesis_time)
    node.advance_slots(8)  # the node lags two slots behind the wall clock
    async with BeaconAPIServer(node) as server, BeaconClient(server.url) as client:
        before = time.time()
        report = await client.clock()
        after = time.time()
    # The wall clock decides the local slot; under load the set-up above may take seconds.
    assert report.genesis_time == genesis_time and report.slot_duration == 2.0
    assert (before - genesis_time) // 2 <= report.local_slot <= (after - genesis_time) // 2
    assert report.head_slot == 8
    assert report.head_lag_slots == report.local_slot - 8
    assert 0 <= report.slot_fraction < 1
    assert report.date_offset is not None and abs(report.date_offset) < 2  # same machine
