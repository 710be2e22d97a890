"""QBFT over the real transport: `AsyncQbft` drivers on `nektar.p2p` hosts (Noise over
loopback TCP sockets) in one event loop."""

from __future__ import annotations

import asyncio
import hashlib
from contextlib import AsyncExitStack

from qbft_harness import cluster_of, node_keys, valid

from nektar.consensus import Decision, ExponentialTimer, QbftManager, instance_id
from nektar.consensus.driver import AsyncQbft
from nektar.p2p import Host

PROTOCOL = "qbft/1"
CLUSTER_ID = hashlib.sha256(b"driver cluster").digest()


async def run_cluster(online: int, instances: int) -> list[list[Decision]]:
    keys = node_keys(4, b"driver")
    cluster = cluster_of(keys)
    async with AsyncExitStack() as stack:
        hosts, drivers = [], []
        for key in keys[:online]:
            host = Host(key, allowed=cluster.members)
            manager = QbftManager(key, cluster, timer=ExponentialTimer(base=0.3, cap=2.0))
            driver = AsyncQbft(
                manager,
                lambda data, h=host: h.broadcast(PROTOCOL, data),
                lambda peer, data, h=host: h.send(peer, PROTOCOL, data),
            )

            async def on_message(peer: bytes, payload: bytes, d=driver) -> None:
                d.receive(payload)

            host.register(PROTOCOL, on_message)
            await stack.enter_async_context(host)
            stack.callback(driver.close)
            hosts.append(host)
            drivers.append(driver)
        for host in hosts:
            for other in hosts:
                if other is not host:
                    host.set_peer_address(other.address, *other.listen_address)
        for host in hosts:
            await host.wait_for_peers([h.address for h in hosts if h is not host], timeout=10)
        ids = [instance_id(1, slot, CLUSTER_ID) for slot in range(instances)]

        async def member(i: int) -> list[Decision]:
            return await asyncio.gather(
                *(drivers[i].decide(iid, b"ok-%d" % i, valid, 0) for iid in ids)
            )

        async with asyncio.timeout(20):
            return await asyncio.gather(*(member(i) for i in range(online)))


def values(decisions: list[Decision]) -> list[bytes]:
    return [d.value for d in decisions]


async def test_four_hosts_agree_on_many_concurrent_instances() -> None:
    members = await run_cluster(online=4, instances=20)
    assert all(values(m) == values(members[0]) for m in members)
    assert all(v.startswith(b"ok-") for v in values(members[0]))


async def test_three_of_four_decide_when_one_member_is_down() -> None:
    members = await run_cluster(online=3, instances=8)
    assert all(values(m) == values(members[0]) for m in members)
    # the instances that the absent member leads first are decided after a round change
    assert any(d.round > 1 for d in members[0])
