"""A cluster member in its own process, driven by JSON lines on stdin (for test_processes).

argv[1] is a JSON object {"secret": hex, "allowed": [hex, ...]}. It prints {"event": "ready",
"port": N} once listening, then one JSON line per event; it exits on {"cmd": "stop"} or when
stdin closes, so it never outlives the test that started it.
"""

from __future__ import annotations

import asyncio
import json
import sys

from nektar.crypto.node_key import NodeKey
from nektar.p2p import Host, HostConfig, P2PError

CONFIG = HostConfig(ping_interval=0.1, backoff_initial=0.05, backoff_max=0.5)


def emit(event: str, **fields: object) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


async def command(host: Host, cmd: dict) -> bool:
    """Carry out one command; False means stop."""
    match cmd["cmd"]:
        case "peer":
            host.set_peer_address(bytes.fromhex(cmd["address"]), "127.0.0.1", cmd["port"])
        case "wait":
            await host.wait_for_peers([bytes.fromhex(p) for p in cmd["peers"]], timeout=10)
            emit("connected")
        case "broadcast":
            reached = await host.broadcast("gossip/1", bytes.fromhex(cmd["payload"]))
            emit("broadcast", reached=[p.hex() for p in reached])
        case "request":
            try:
                reply = await host.request(
                    bytes.fromhex(cmd["peer"]), "echo/1", bytes.fromhex(cmd["payload"]), 2.0
                )
                emit("reply", payload=reply.hex())
            except P2PError as exc:
                emit("reply", error=repr(exc))
        case "status":
            emit(
                "status",
                peers=[p.hex() for p in host.peers()],
                rtt={p.hex(): host.rtt(p) for p in host.peers()},
            )
        case "stop":
            return False
    return True


async def main() -> None:
    args = json.loads(sys.argv[1])
    key = NodeKey(bytes.fromhex(args["secret"]))
    host = Host(key, allowed=[bytes.fromhex(a) for a in args["allowed"]], config=CONFIG)

    async def echo(peer: bytes, payload: bytes) -> bytes:
        return host.address + payload

    async def gossip(peer: bytes, payload: bytes) -> None:
        emit("gossip", sender=peer.hex(), payload=payload.hex())

    host.register("echo/1", echo)
    host.register("gossip/1", gossip)
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    async with host:
        emit("ready", port=host.listen_address[1])
        while line := await stdin.readline():
            if not await command(host, json.loads(line)):
                break


if __name__ == "__main__":
    asyncio.run(main())
