"""P2P transport benchmark: two separate processes on loopback, Noise-encrypted TCP.

- request/response round trip (64-byte payload, one at a time): p50 and p99 latency;
- one-way messages per second (256-byte payloads, the receiving process counts them).

Anchor: the dependency survey measured py-libp2p gossipsub at p50 244 ms among 4 loopback
hosts. Goals: p99 ≤ 5 ms (QBFT's loopback goal of 50 ms for a whole decision leaves room for
about three message delays), and ≥ 10,000 messages/s (1,000 QBFT instances at n = 4 in 1 s
need roughly 7,000 messages out of each node).
Run: `python bench/run.py p2p` (or `python bench/bench_p2p.py`).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time

from rich.console import Console
from rich.table import Table

from nektar.crypto.node_key import NodeKey
from nektar.p2p import Host, HostConfig

ROUND_TRIPS = 3_000
MESSAGES = 30_000
CONFIG = HostConfig(rate_limit=1e6, rate_burst=1e6)
LIBP2P_P50_MS = 244.0
GOAL_P99_MS = 5.0
GOAL_MSGS_PER_S = 10_000.0


async def _serve(secret: str, allowed: list[str]) -> None:
    """The child process: echo requests, count one-way messages, exit when stdin closes."""
    host = Host(
        NodeKey(bytes.fromhex(secret)), allowed=[bytes.fromhex(a) for a in allowed], config=CONFIG
    )
    received = 0

    async def echo(peer: bytes, payload: bytes) -> bytes:
        return payload

    async def sink(peer: bytes, payload: bytes) -> None:
        nonlocal received
        received += 1

    async def count(peer: bytes, payload: bytes) -> bytes:
        return received.to_bytes(8, "big")

    host.register("echo/1", echo)
    host.register("sink/1", sink)
    host.register("count/1", count)
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    async with host:
        print(host.listen_address[1], flush=True)
        await stdin.read()


async def _measure() -> dict[str, float]:
    keys = [NodeKey.generate(), NodeKey.generate()]
    allowed = [k.address.hex() for k in keys]
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--serve",
        json.dumps({"secret": keys[1].secret.hex(), "allowed": allowed}),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert child.stdout is not None
        port = int(await asyncio.wait_for(child.stdout.readline(), 30))
        host = Host(keys[0], allowed=[keys[1].address], config=CONFIG)
        async with host:
            peer = keys[1].address
            host.set_peer_address(peer, "127.0.0.1", port)
            await host.wait_for_peers(timeout=10)
            payload = bytes(64)
            for _ in range(200):  # warm-up
                await host.request(peer, "echo/1", payload)
            samples = []
            for _ in range(ROUND_TRIPS):
                started = time.perf_counter()
                await host.request(peer, "echo/1", payload)
                samples.append((time.perf_counter() - started) * 1000)
            message = bytes(256)
            started = time.perf_counter()
            for _ in range(MESSAGES):
                await host.send(peer, "sink/1", message)
            while int.from_bytes(await host.request(peer, "count/1", b"")) < MESSAGES:
                await asyncio.sleep(0.001)
            elapsed = time.perf_counter() - started
    finally:
        if child.stdin is not None:
            child.stdin.close()
        await asyncio.wait_for(child.wait(), 10)
    quantiles = statistics.quantiles(samples, n=100)
    return {
        "p2p.rtt_p50_ms": statistics.median(samples),
        "p2p.rtt_p99_ms": quantiles[98],
        "p2p.msgs_per_s": MESSAGES / elapsed,
    }


def run() -> dict[str, float]:
    """Measure and print the figures with their ratio to the goals and the libp2p anchor."""
    figures = asyncio.run(_measure())
    table = Table(title="P2P: two processes on loopback (Noise XX, ChaChaPoly)")
    for column in ("metric", "value", "goal", "ratio to goal", "libp2p anchor"):
        table.add_column(column)
    p50, p99, rate = (figures[k] for k in ("p2p.rtt_p50_ms", "p2p.rtt_p99_ms", "p2p.msgs_per_s"))
    table.add_row("round trip p50", f"{p50:.3f} ms", "", "", f"{LIBP2P_P50_MS / p50:.0f}× faster")
    table.add_row(
        "round trip p99", f"{p99:.3f} ms", f"≤ {GOAL_P99_MS} ms", f"{p99 / GOAL_P99_MS:.2f}", ""
    )
    table.add_row(
        "one-way msgs/s",
        f"{rate:,.0f}",
        f"≥ {GOAL_MSGS_PER_S:,.0f}",
        f"{rate / GOAL_MSGS_PER_S:.2f}",
        "",
    )
    Console().print(table)
    return figures


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        args = json.loads(sys.argv[2])
        asyncio.run(_serve(args["secret"], args["allowed"]))
    else:
        run()
