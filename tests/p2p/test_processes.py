"""A 4-member cluster across separate OS processes on loopback: this test process runs one
Host, three `peer_process.py` children run the others. One child is killed and restarted."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from nektar.crypto.node_key import NodeKey
from nektar.p2p import Host, HostConfig

SCRIPT = Path(__file__).with_name("peer_process.py")
CONFIG = HostConfig(ping_interval=0.1, backoff_initial=0.05, backoff_max=0.5)


class PeerProcess:
    """A child process running one cluster member; its JSON events are queued as they come."""

    def __init__(self, key: NodeKey, allowed: list[bytes]) -> None:
        self.key = key
        self.address = key.address
        self.allowed = allowed
        self.port = 0
        self.events: asyncio.Queue[dict] = asyncio.Queue()
        self.gossip: list[dict] = []

    async def start(self) -> None:
        args = json.dumps(
            {"secret": self.key.secret.hex(), "allowed": [a.hex() for a in self.allowed]}
        )
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(SCRIPT),
            args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        self._reader = asyncio.ensure_future(self._read())
        self.port = (await self.expect("ready"))["port"]

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            event = json.loads(line)
            if event["event"] == "gossip":
                self.gossip.append(event)
            else:
                await self.events.put(event)

    async def expect(self, name: str, timeout: float = 10) -> dict:
        async with asyncio.timeout(timeout):
            event = await self.events.get()
        assert event["event"] == name, event
        return event

    async def call(self, reply: str | None, **cmd: object) -> dict | None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd).encode() + b"\n")
        await self.proc.stdin.drain()
        return await self.expect(reply) if reply else None

    async def wait_gossip(self, count: int) -> list[dict]:
        async with asyncio.timeout(5):
            while len(self.gossip) < count:
                await asyncio.sleep(0.01)
        return self.gossip

    def kill(self) -> None:
        self.proc.kill()

    async def close(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
        await self.proc.wait()
        self._reader.cancel()


async def introduce(me: Host, children: list[PeerProcess]) -> None:
    """Every member learns every other member's listening port."""
    members = [(me.address, me.listen_address[1])] + [(c.address, c.port) for c in children]
    for child in children:
        for address, port in members:
            if address != child.address:
                await child.call(None, cmd="peer", address=address.hex(), port=port)
    for child in children:
        me.set_peer_address(child.address, "127.0.0.1", child.port)


async def test_cluster_of_four_processes_survives_a_restart() -> None:
    keys = [NodeKey.generate() for _ in range(4)]
    allowed = [k.address for k in keys]
    me = Host(keys[0], allowed=allowed, config=CONFIG)
    inbox: asyncio.Queue[tuple[bytes, bytes]] = asyncio.Queue()

    async def gossip(peer: bytes, payload: bytes) -> None:
        await inbox.put((peer, payload))

    me.register("gossip/1", gossip)
    children = [PeerProcess(k, allowed) for k in keys[1:]]
    try:
        async with me:
            await asyncio.gather(*(c.start() for c in children))
            await introduce(me, children)
            await me.wait_for_peers(timeout=10)
            for child in children:
                others = [a.hex() for a in allowed if a != child.address]
                await child.call("connected", cmd="wait", peers=others)

            # broadcast from this process reaches every child
            assert await me.broadcast("gossip/1", b"from-me") == sorted(allowed[1:])
            for child in children:
                (event,) = await child.wait_gossip(1)
                assert event == {
                    "event": "gossip",
                    "sender": me.address.hex(),
                    "payload": b"from-me".hex(),
                }

            # broadcast from a child reaches this process and the two other children
            reached = await children[0].call("broadcast", cmd="broadcast", payload="ab")
            assert sorted(reached["reached"]) == sorted(
                a.hex() for a in allowed if a != keys[1].address
            )
            assert await asyncio.wait_for(inbox.get(), 5) == (keys[1].address, b"\xab")
            for child in children[1:]:
                assert (await child.wait_gossip(2))[1]["sender"] == keys[1].address.hex()

            # request/response, both from here and between two children
            for child in children:
                assert await me.request(child.address, "echo/1", b"q") == child.address + b"q"
            reply = await children[1].call(
                "reply", cmd="request", peer=keys[3].address.hex(), payload="07"
            )
            assert reply["payload"] == (keys[3].address + b"\x07").hex()

            # keep-alive pings have measured an RTT on loopback
            await asyncio.sleep(0.3)
            for child in children:
                assert 0 < me.rtt(child.address) < 0.5
                assert abs(me.clock_offset(child.address)) < 0.05
            status = await children[2].call("status", cmd="status")
            assert len(status["peers"]) == 3 and all(0 < r < 0.5 for r in status["rtt"].values())

            # kill one member: the others notice; restart it (new port): they reconnect
            victim = children[2]
            victim.kill()
            await victim.close()
            async with asyncio.timeout(5):
                while me.is_connected(victim.address):
                    await asyncio.sleep(0.02)
            await asyncio.sleep(0.5)  # the dialers back off against the dead port meanwhile
            reborn = PeerProcess(victim.key, allowed)
            children[2] = reborn
            await reborn.start()
            await introduce(me, children)
            await me.wait_for_peers(timeout=10)
            for child in children:
                others = [a.hex() for a in allowed if a != child.address]
                await child.call("connected", cmd="wait", peers=others)
            assert await me.request(reborn.address, "echo/1", b"r") == reborn.address + b"r"
            reply = await children[0].call(
                "reply", cmd="request", peer=reborn.address.hex(), payload=""
            )
            assert reply["payload"] == reborn.address.hex()
            assert me.stats.dropped["malformed"] == 0
            for child in children:
                await child.call(None, cmd="stop")
    finally:
        for child in children:
            await child.close()
