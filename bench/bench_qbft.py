"""QBFT benchmarks.

(a) 1,000 concurrent instances at n = 4 in one process: all four members are simulated in
    process (`LocalCluster`), every message is encoded, decoded, signed and verified for
    real; the figure is the wall time until all 4,000 decisions.
(b) Decision latency between separate OS processes (one per member) over loopback TCP with
    the `nektar.p2p` transport (Noise XX), with no added delay and with 50 ms link delay
    (`HostConfig.link_delay`), n = 4; loopback also for n = 7 and n = 16. Instances start at
    scheduled wall-clock instants (one machine, one clock) and each member measures its own
    start → decision time.

Anchor: SSV mainnet proposer QBFT p50 1.40 s / p99 2.25 s (ssvlabs/ssv #2883).
Goals: (a) ≤ 1 s; (b) n = 4 loopback p99 ≤ 50 ms, with 50 ms links p99 ≤ 4 × 50 + 50 ms.
Run: `python bench/run.py qbft` (or `python bench/bench_qbft.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import statistics
import sys
import time

from rich.console import Console
from rich.table import Table

from nektar.consensus import Cluster, ExponentialTimer, QbftManager, instance_id
from nektar.consensus.driver import AsyncQbft
from nektar.consensus.local import LocalCluster
from nektar.consensus.messages import MessageKind, Payload, SignatureVerifier, Signer
from nektar.crypto.node_key import NodeKey
from nektar.p2p import Host, HostConfig

CLUSTER_ID = hashlib.sha256(b"bench cluster").digest()
PROTOCOL = "qbft/1"
VALUE = bytes(range(128))  # about the size of an SSZ AttestationData
SSV_P50_MS, SSV_P99_MS = 1400.0, 2250.0
GOAL_1000_S = 1.0
GOAL_LOOPBACK_P99_MS = 50.0
LINK_DELAY_S = 0.05
GOAL_DELAY_P99_MS = 4 * LINK_DELAY_S * 1000 + 50
# (n, link delay, instances, interval between instance starts)
RUNS = [
    (4, 0.0, 200, 0.02),
    (4, LINK_DELAY_S, 100, 0.05),
    (7, 0.0, 100, 0.06),
    (16, 0.0, 30, 0.4),
]


def _keys(n: int) -> list[NodeKey]:
    return [NodeKey(hashlib.sha256(b"bench qbft %d" % i).digest()) for i in range(n)]


def _accept(value: bytes) -> bool:
    return True


# ----------------------------------------------------------------- (a) in process
def concurrent_instances(count: int = 1000) -> dict[str, float]:
    keys = _keys(4)
    cluster = Cluster(tuple(k.address for k in keys))
    local = LocalCluster([QbftManager(k, cluster, max_instances=2 * count) for k in keys])
    instances = [instance_id(1, slot, CLUSTER_ID) for slot in range(count)]
    started = time.perf_counter()
    for instance in instances:
        for node in range(4):
            local.start(node, instance, VALUE, _accept, 0)
    delivered = local.run()
    elapsed = time.perf_counter() - started
    decided = sum(len(d) for d in local.decisions)
    if decided != 4 * count:
        raise RuntimeError(f"only {decided} of {4 * count} decisions")
    recoveries = sum(m.verifier.recoveries for m in local.managers)
    return {
        "qbft.n4_1000_instances_s": elapsed,
        # the busiest member's own share: what one node of a real cluster spends
        "qbft.n4_1000_instances_per_node_s": max(local.busy),
        "qbft.n4_1000_decisions_per_s": decided / elapsed,
        "qbft.n4_1000_messages": float(delivered),
        "qbft.n4_recoveries_per_decision": recoveries / decided,
    }


def signature_costs(samples: int = 2000) -> dict[str, float]:
    """µs to sign one payload and to recover its signer (uncached), the two costs that
    dominate (a)."""
    signer = Signer(_keys(1)[0])
    payloads = [Payload(MessageKind.PREPARE, bytes(32), r, bytes(32)) for r in range(samples)]
    started = time.perf_counter()
    signed = [signer.sign(p) for p in payloads]
    sign_us = (time.perf_counter() - started) / samples * 1e6
    verifier = SignatureVerifier()
    started = time.perf_counter()
    for s in signed:
        verifier.signer(s)
    recover_us = (time.perf_counter() - started) / samples * 1e6
    return {"qbft.sign_us": sign_us, "qbft.recover_us": recover_us}


# ----------------------------------------------------------- (b) separate processes
async def _member(args: dict) -> None:
    """One member process: a p2p Host and a QbftManager; prints its port, reads the
    schedule, runs the instances, prints its latencies (ms)."""
    keys = _keys(args["n"])
    me = keys[args["index"]]
    cluster = Cluster(tuple(k.address for k in keys))
    manager = QbftManager(me, cluster, timer=ExponentialTimer(base=1.0, cap=8.0))
    config = HostConfig(link_delay=args["delay"], rate_limit=1e5, rate_burst=1e5)
    host = Host(me, allowed=cluster.members, config=config)
    qbft = AsyncQbft(
        manager,
        lambda data: host.broadcast(PROTOCOL, data),
        lambda peer, data: host.send(peer, PROTOCOL, data),
    )
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    instances = [instance_id(2, slot, CLUSTER_ID) for slot in range(args["instances"])]
    value = VALUE + args["index"].to_bytes(2, "big")
    latencies: list[float] = []

    async def on_message(peer: bytes, payload: bytes) -> None:
        qbft.receive(payload)

    async def one(instance: bytes, at: float) -> None:
        await asyncio.sleep(max(0.0, at - time.time()))
        await qbft.decide(instance, value, _accept, 0)
        latencies.append((time.time() - at) * 1000)

    host.register(PROTOCOL, on_message)
    async with host:
        print(host.listen_address[1], flush=True)
        setup = json.loads(await stdin.readline())
        for i, port in enumerate(setup["ports"]):
            if i != args["index"]:
                host.set_peer_address(cluster.members[i], "127.0.0.1", port)
        await host.wait_for_peers(timeout=30)
        print("ready", flush=True)
        t0 = json.loads(await stdin.readline())["t0"]
        runs = [one(instance, t0 + k * args["interval"]) for k, instance in enumerate(instances)]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*runs), t0 - time.time() + 60)
        print(json.dumps(latencies), flush=True)
        await stdin.read()  # stay up (answering laggards) until the coordinator is done
        qbft.close()


async def _cluster_latency(n: int, delay: float, instances: int, interval: float) -> list[float]:
    procs = []
    try:
        for index in range(n):
            args = {"n": n, "index": index, "delay": delay, "instances": instances}
            args["interval"] = interval
            procs.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    __file__,
                    "--member",
                    json.dumps(args),
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                )
            )
        ports = [int(await asyncio.wait_for(p.stdout.readline(), 60)) for p in procs]
        for p in procs:
            p.stdin.write(json.dumps({"ports": ports}).encode() + b"\n")
        for p in procs:
            assert (await asyncio.wait_for(p.stdout.readline(), 60)).strip() == b"ready"
        t0 = time.time() + 1.0
        for p in procs:
            p.stdin.write(json.dumps({"t0": t0}).encode() + b"\n")
        samples: list[float] = []
        for p in procs:
            line = await asyncio.wait_for(p.stdout.readline(), 120)
            samples += json.loads(line)
    finally:
        for p in procs:
            if p.stdin is not None:
                p.stdin.close()
        for p in procs:
            await asyncio.wait_for(p.wait(), 30)
    if len(samples) < n * instances:
        raise RuntimeError(f"n={n}: only {len(samples)} of {n * instances} decisions")
    return samples


def _quantiles(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples), statistics.quantiles(samples, n=100)[98]


def run() -> dict[str, float]:
    """Measure (a) and (b) and print them against the goals and the SSV anchor."""
    figures = concurrent_instances()
    figures.update(signature_costs())
    latency: dict[tuple[int, float], tuple[float, float]] = {}
    for n, delay, count, interval in RUNS:
        latency[(n, delay)] = _quantiles(asyncio.run(_cluster_latency(n, delay, count, interval)))
    names = {
        (4, 0.0): "n4_loopback",
        (4, LINK_DELAY_S): "n4_delay50",
        (7, 0.0): "n7_loopback",
        (16, 0.0): "n16_loopback",
    }
    for key, name in names.items():
        p50, p99 = latency[key]
        figures[f"qbft.{name}_p50_ms"] = p50
        figures[f"qbft.{name}_p99_ms"] = p99

    table = Table(title="QBFT (Noise-TCP loopback between processes; SSV mainnet anchor)")
    for column in ("metric", "value", "goal", "ratio to goal", "vs SSV p99 2.25 s"):
        table.add_column(column)
    wall = figures["qbft.n4_1000_instances_s"]
    table.add_row(
        "1,000 instances n=4, one process",
        f"{wall:.2f} s",
        f"≤ {GOAL_1000_S} s",
        f"{wall / GOAL_1000_S:.2f}",
        "",
    )
    table.add_row(
        "  busiest member's share", f"{figures['qbft.n4_1000_instances_per_node_s']:.2f} s"
    )
    table.add_row("  decisions/s (4 nodes)", f"{figures['qbft.n4_1000_decisions_per_s']:,.0f}")
    table.add_row(
        "  signer recoveries per decision", f"{figures['qbft.n4_recoveries_per_decision']:.2f}"
    )
    table.add_row(
        "  sign / recover (µs)",
        f"{figures['qbft.sign_us']:.0f} / {figures['qbft.recover_us']:.0f}",
    )
    goals = {"n4_loopback": GOAL_LOOPBACK_P99_MS, "n4_delay50": GOAL_DELAY_P99_MS}
    for name in names.values():
        p50, p99 = figures[f"qbft.{name}_p50_ms"], figures[f"qbft.{name}_p99_ms"]
        goal = goals.get(name)
        table.add_row(
            f"{name} p50 / p99",
            f"{p50:.1f} / {p99:.1f} ms",
            f"p99 ≤ {goal:.0f} ms" if goal else "",
            f"{p99 / goal:.2f}" if goal else "",
            f"{SSV_P99_MS / p99:.0f}× lower",
        )
    Console().print(table)
    Console().print(
        f"anchor: SSV mainnet proposer QBFT p50 {SSV_P50_MS / 1000:.2f} s / p99 "
        f"{SSV_P99_MS / 1000:.2f} s (ssvlabs/ssv #2883, WAN, 35 days)"
    )
    return figures


if __name__ == "__main__":
    if sys.argv[1:2] == ["--member"]:
        asyncio.run(_member(json.loads(sys.argv[2])))
    else:
        run()
