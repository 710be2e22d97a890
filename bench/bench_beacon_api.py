"""Beacon API latency over loopback: the project's client against the project's server in
front of the devnet node, at 1,000 and 3,000 genesis validators (the node benchmark's sizes).

What a validator client waits on: `attestation_data` (GET, once per slot, through the
project's client) and attester duties for all its validators (POST with every index, once
per epoch). Duties and submissions are posted as pre-encoded JSON with plain aiohttp, so the
figures are the beacon node's (HTTP + server + node), not the client's encoding and parsing;
p50 and p99 wall-clock round trips over many calls (same process, loopback).
Anchors: attestation data ≤ 10 ms — it is on the critical path of every slot, whose
attestation deadline is a third of the slot in; duties ≤ 100 ms at 1,000 validators and
≤ 50 ms at 3,000 for the node alone (issue 8) — fetched once per epoch, ahead of time.

Submissions of a four-node DVT cluster at 3,000 validators: every slot, each of the four
members broadcasts the same combined SingleAttestations (~375 per slot with 8-slot epochs)
and sync-committee messages (~465). Timed: the first copy of a slot's batch (decoding,
checks, one batch verification; wall and process CPU), a later copy (answered from the
digests of accepted items), and the longest attester-duties round trip among those made
back to back while all four members submit both batches at once (the event loop and the
node lock must not make it wait for the verification).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable

import aiohttp
from rich.console import Console
from rich.table import Table

from nektar.beacon.chain.config import BeaconConfig
from nektar.beacon.chain.genesis import GenesisValidator, genesis_state
from nektar.beacon.chain.node import DevnetBeaconNode
from nektar.beacon.client import BeaconClient
from nektar.beacon.json_codec import encode
from nektar.beacon.server import BeaconAPIServer
from nektar.crypto import bls
from nektar.crypto.signing import (
    DOMAIN_BEACON_ATTESTER,
    DOMAIN_SYNC_COMMITTEE,
    SingleAttestation,
    SyncCommitteeMessage,
    compute_signing_root,
    eth1_withdrawal_credentials,
)

SIZES = (1_000, 3_000)
CALLS = {"attestation_data": 300, "duties": 60}
ROUNDS = 4  # slots of cluster submissions at 3,000 validators
MEMBERS = 4
GOAL_MS = {
    "beacon.api_attestation_data_ms": 10.0,
    "beacon.api_duties_ms": 100.0,
    "beacon.api_duties_3000v_ms": 50.0,
    "beacon.api_duties_3000v_cpu_ms": 50.0,
    "beacon.api_duties_3000v_loaded_ms": 500.0,
}


def _node(count: int) -> tuple[DevnetBeaconNode, list[int]]:
    keys = [bls.keygen(i.to_bytes(32, "big")) for i in range(1, count + 1)]
    validators = [
        GenesisValidator(bls.sk_to_pk(sk), eth1_withdrawal_credentials(b"\xaa" * 20), 32 * 10**9)
        for sk in keys
    ]
    node = DevnetBeaconNode(genesis_state(BeaconConfig(), int(time.time()), validators))
    node.advance_slots(10)  # into epoch 1: duties for epochs 1 and 2
    return node, keys


async def _latencies(call: Callable[[], Awaitable[object]], n: int) -> list[float]:
    for _ in range(5):  # warm up connections and caches
        await call()
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _p(samples: list[float], q: int) -> float:
    if len(samples) < 2:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


def _slot_messages(
    node: DevnetBeaconNode, keys: list[int]
) -> tuple[list[SingleAttestation], list[SyncCommitteeMessage]]:
    """Every attester of the current slot and every sync-committee member, signed."""
    slot = node.current_slot()
    state = node.signing_state()
    epoch = slot // node.cfg.slots_per_epoch
    data = node.attestation_data(slot, 0)
    root = compute_signing_root(data.hash_tree_root(), state.domain(DOMAIN_BEACON_ATTESTER, epoch))
    singles = [
        SingleAttestation(
            committee_index=ci, attester_index=v, data=data, signature=bls.sign(keys[v], root)
        )
        for ci in range(state.committee_count_per_slot(epoch))
        for v in state.beacon_committee(slot, ci)
    ]
    head = node.block_root("head")
    sync_root = compute_signing_root(head, state.domain(DOMAIN_SYNC_COMMITTEE))
    members = sorted({state.pubkey_index[pk] for pk in state.current_sync_committee})
    messages = [
        SyncCommitteeMessage(
            slot=slot,
            beacon_block_root=head,
            validator_index=v,
            signature=bls.sign(keys[v], sync_root),
        )
        for v in members
    ]
    return singles, messages


class _Poster:
    """Plain HTTP POSTs of pre-encoded JSON (what a validator client sends, minus its own
    encoding cost), failing loudly on anything but 200."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session, self.url = session, url

    async def post(self, path: str, body: bytes) -> float:
        started = time.perf_counter()
        headers = {"Content-Type": "application/json", "Eth-Consensus-Version": "electra"}
        async with self.session.post(self.url + path, data=body, headers=headers) as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"{path}: HTTP {response.status}: {await response.text()}")
        return (time.perf_counter() - started) * 1000

    def duties(self, epoch: int, count: int) -> Callable[[], Awaitable[float]]:
        body = json.dumps([str(i) for i in range(count)]).encode()
        return lambda: self.post(f"/eth/v1/validator/duties/attester/{epoch}", body)


ATTESTATIONS = "/eth/v2/beacon/pool/attestations"
SYNC_MESSAGES = "/eth/v1/beacon/pool/sync_committees"


async def _cluster(node: DevnetBeaconNode, keys: list[int], poster: _Poster) -> dict:
    """ROUNDS slots of four members submitting the same batches (see module docstring)."""
    kinds = ("att", "att_dup", "sync", "sync_dup", "load", "att_cpu", "sync_cpu")
    out: dict[str, list[float]] = {k: [] for k in kinds}
    duties = poster.duties(node.current_slot() // node.cfg.slots_per_epoch, len(keys))
    for _ in range(ROUNDS):
        node.advance_slots(1)
        singles, messages = _slot_messages(node, keys)
        att = json.dumps([encode(a) for a in singles]).encode()
        sync = json.dumps([encode(m) for m in messages]).encode()
        cpu = time.process_time()
        out["att"].append(await poster.post(ATTESTATIONS, att))
        out["att_cpu"].append((time.process_time() - cpu) * 1000)
        out["att_dup"].append(await poster.post(ATTESTATIONS, att))
        cpu = time.process_time()
        out["sync"].append(await poster.post(SYNC_MESSAGES, sync))
        out["sync_cpu"].append((time.process_time() - cpu) * 1000)
        out["sync_dup"].append(await poster.post(SYNC_MESSAGES, sync))
    for _ in range(ROUNDS):  # all members at once, fresh messages, duties asked meanwhile
        node.advance_slots(1)
        singles, messages = _slot_messages(node, keys)
        att = json.dumps([encode(a) for a in singles]).encode()
        sync = json.dumps([encode(m) for m in messages]).encode()
        tasks = [
            asyncio.ensure_future(poster.post(path, body))
            for _ in range(MEMBERS)
            for path, body in ((ATTESTATIONS, att), (SYNC_MESSAGES, sync))
        ]
        waits = []
        while not all(t.done() for t in tasks):  # duties asked again and again meanwhile
            waits.append(await duties())
        await asyncio.gather(*tasks)
        out["load"].append(max(waits))
    return out


async def _measure(count: int) -> dict[str, float]:
    node, keys = _node(count)
    slot = node.current_slot()
    suffix = "" if count == 1_000 else f"_{count}v"
    figures: dict[str, float] = {}
    async with (
        BeaconAPIServer(node) as server,
        BeaconClient(server.url, timeout=30) as client,
        aiohttp.ClientSession() as session,
    ):
        poster = _Poster(session, server.url)
        duties = poster.duties(slot // node.cfg.slots_per_epoch + 1, count)
        samples = {
            "attestation_data": await _latencies(
                lambda: client.attestation_data(slot), CALLS["attestation_data"]
            ),
            "duties": await _latencies(duties, CALLS["duties"]),
        }
        cpu = time.process_time()
        for _ in range(10):
            await duties()
        figures[f"beacon.api_duties{suffix}_cpu_ms"] = (time.process_time() - cpu) * 100
        for key, values in samples.items():
            figures[f"beacon.api_{key}{suffix}_ms"] = _p(values, 50)
            figures[f"beacon.api_{key}{suffix}_p99_ms"] = _p(values, 99)
        if count == 3_000:
            cluster = await _cluster(node, keys, poster)
            names = {
                "att": "beacon.api_submit_attestations_3000v_ms",
                "att_dup": "beacon.api_submit_attestations_dup_ms",
                "sync": "beacon.api_submit_sync_3000v_ms",
                "sync_dup": "beacon.api_submit_sync_dup_ms",
                "load": "beacon.api_duties_3000v_loaded_ms",
                "att_cpu": "beacon.api_submit_attestations_3000v_cpu_ms",
                "sync_cpu": "beacon.api_submit_sync_3000v_cpu_ms",
            }
            for key, name in names.items():
                figures[name] = statistics.median(cluster[key])
    return figures


def run() -> dict[str, float]:
    figures: dict[str, float] = {}
    for count in SIZES:
        figures.update(asyncio.run(_measure(count)))
    table = Table(title="Beacon API over loopback (client + server + devnet node, one process)")
    for column in ("figure", "ms", "anchor ms", "ratio"):
        table.add_column(column, justify="right")
    for name, value in figures.items():
        goal = GOAL_MS.get(name)
        table.add_row(
            name,
            f"{value:.2f}",
            f"{goal:.0f}" if goal else "-",
            f"{value / goal:.2f}" if goal else "-",
        )
    Console().print(table)
    return figures


if __name__ == "__main__":
    print(run())
