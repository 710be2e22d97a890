"""Beacon API latency over loopback: the project's client against the project's server in
front of the devnet node with 1,000 genesis validators (the issue's network size).

What a validator client waits on every slot: `attestation_data` (GET, once per slot) and
attester duties for all its validators (POST with 1,000 indices, once per epoch). Figures
are wall-clock round trips (client + HTTP + server + node, all in this one process and core),
p50 and p99 over many calls. Goals (anchors): attestation data ≤ 10 ms — it is on the
critical path of every slot, whose attestation deadline is 667 ms in; duties for 1,000
validators ≤ 100 ms — fetched once per epoch, ahead of time.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

from rich.console import Console
from rich.table import Table

from nektar.beacon.chain.config import BeaconConfig
from nektar.beacon.chain.genesis import GenesisValidator, genesis_state
from nektar.beacon.chain.node import DevnetBeaconNode
from nektar.beacon.client import BeaconClient
from nektar.beacon.server import BeaconAPIServer
from nektar.crypto import bls
from nektar.crypto.signing import eth1_withdrawal_credentials

VALIDATORS = 1_000
GOAL_MS = {"attestation_data": 10.0, "duties": 100.0}
CALLS = {"attestation_data": 400, "duties": 100}


def _node() -> DevnetBeaconNode:
    keys = [bls.keygen(i.to_bytes(32, "big")) for i in range(1, VALIDATORS + 1)]
    validators = [
        GenesisValidator(bls.sk_to_pk(sk), eth1_withdrawal_credentials(b"\xaa" * 20), 32 * 10**9)
        for sk in keys
    ]
    node = DevnetBeaconNode(genesis_state(BeaconConfig(), int(time.time()), validators))
    node.advance_slots(10)  # into epoch 1: a head block history, duties for epochs 1 and 2
    return node


async def _latencies(call: Callable[[], Awaitable[object]], n: int) -> list[float]:
    for _ in range(10):  # warm up connections and caches
        await call()
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _p(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[int(q) - 1]


async def _measure() -> dict[str, list[float]]:
    node = _node()
    slot = node.current_slot()
    indices = list(range(VALIDATORS))
    async with BeaconAPIServer(node) as server, BeaconClient(server.url) as client:
        return {
            "attestation_data": await _latencies(
                lambda: client.attestation_data(slot), CALLS["attestation_data"]
            ),
            "duties": await _latencies(
                lambda: client.attester_duties(slot // 8 + 1, indices), CALLS["duties"]
            ),
        }


def run() -> dict[str, float]:
    samples = asyncio.run(_measure())
    table = Table(title=f"Beacon API latency, loopback, {VALIDATORS:,} validators")
    for column in ("endpoint", "calls", "p50 ms", "p99 ms", "goal ms", "p50 / goal"):
        table.add_column(column, justify="right")
    labels = {
        "attestation_data": "GET attestation_data",
        "duties": f"POST duties/attester ({VALIDATORS:,} ids)",
    }
    figures: dict[str, float] = {}
    for key, values in samples.items():
        p50, p99 = _p(values, 50), _p(values, 99)
        name = "beacon.api_attestation_data" if key == "attestation_data" else "beacon.api_duties"
        figures[f"{name}_ms"] = p50
        figures[f"{name}_p99_ms"] = p99
        table.add_row(
            labels[key],
            str(len(values)),
            f"{p50:.2f}",
            f"{p99:.2f}",
            f"{GOAL_MS[key]:.0f}",
            f"{p50 / GOAL_MS[key]:.2f}",
        )
    Console().print(table)
    return figures


if __name__ == "__main__":
    print(run())
