"""Slot processing of the devnet beacon chain with 64, 1,000, 3,000 and 10,000 validators.

Every validator is external (the node holds no keys) and attests once per epoch with its own
SingleAttestation, as validator clients do through the Beacon API; the slot's proposer
produces and submits a block through the node. Timed per slot: entering the slot (per-slot
and, at the boundary, epoch processing), block production, block import (state transition
with one batched signature verification per block), attestation data, and the submission of
the slot's attestations (one batch verification for all of them, then pooling/aggregation).
Not timed: the validators' own signing (done by the "validator clients" of the benchmark).
The metric is the process's CPU time per slot (the goal is stated for one core, and the
benchmark machine is shared); wall time is printed alongside.

Goal (issue 7): 1,000 validators at 2-second slots on one core with under 50% of the slot
spent, i.e. beacon.slot_1000v_ms < 1000.
"""

from __future__ import annotations

import time

from rich.console import Console
from rich.table import Table

from nektar.beacon.chain.config import BeaconConfig, devnet_chain
from nektar.beacon.chain.containers import SignedBeaconBlock
from nektar.beacon.chain.genesis import GenesisValidator, genesis_state
from nektar.beacon.chain.node import DevnetBeaconNode
from nektar.crypto import bls
from nektar.crypto.signing import (
    DOMAIN_BEACON_ATTESTER,
    DOMAIN_BEACON_PROPOSER,
    DOMAIN_RANDAO,
    Epoch,
    SingleAttestation,
    compute_signing_root,
)

GOAL_MS = {1000: 1000.0}  # half of a 2 s slot
SIZES = (
    (64, 16),
    (1000, 16),
    (3000, 16),
    (10_000, 8),
)  # (validators, measured slots)


def _node(count: int) -> tuple[DevnetBeaconNode, list[int]]:
    cfg = BeaconConfig(chain=devnet_chain(genesis_time=1_700_000_000))
    secrets = [i + 1 for i in range(count)]
    validators = [
        GenesisValidator(bls.sk_to_pk(sk), b"\x01" + b"\x00" * 11 + b"\xee" * 20, 32 * 10**9)
        for sk in secrets
    ]
    return DevnetBeaconNode(genesis_state(cfg, cfg.chain.genesis_time, validators)), secrets


class _Timer:
    """Accumulates the node's share of a slot: CPU time of this process (what "on one core"
    means on a shared machine) and wall time (affected by other processes' load)."""

    def __init__(self) -> None:
        self.cpu = 0.0
        self.wall = 0.0

    def __enter__(self) -> _Timer:
        self._cpu, self._wall = time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *_: object) -> None:
        self.cpu += time.process_time() - self._cpu
        self.wall += time.perf_counter() - self._wall


def _run_slot(node: DevnetBeaconNode, secrets: list[int]) -> _Timer:
    """One slot of a fully participating network; returns the node's time."""
    timer = _Timer()
    with timer:
        node.advance_slots(1)
        slot = node.current_slot()
        state = node.signing_state()
        proposer = state.proposer_index
    epoch = slot // node.cfg.slots_per_epoch
    reveal = bls.sign(
        secrets[proposer],
        compute_signing_root(Epoch(epoch).hash_tree_root(), state.domain(DOMAIN_RANDAO)),
    )
    with timer:
        block = node.produce_block(slot, reveal).block
    signature = bls.sign(
        secrets[proposer],
        compute_signing_root(block.hash_tree_root(), state.domain(DOMAIN_BEACON_PROPOSER)),
    )
    with timer:
        node.submit_block(SignedBeaconBlock(message=block, signature=signature))
        data = node.attestation_data(slot, 0)
        state = node.signing_state()
        committees = [
            (ci, state.beacon_committee(slot, ci))
            for ci in range(state.committee_count_per_slot(epoch))
        ]
    root = compute_signing_root(data.hash_tree_root(), state.domain(DOMAIN_BEACON_ATTESTER, epoch))
    singles = [
        SingleAttestation(
            committee_index=ci,
            attester_index=v,
            data=data,
            signature=bls.sign(secrets[v], root),
        )
        for ci, committee in committees
        for v in committee
    ]
    with timer:
        node.submit_attestations(singles)
    return timer


def run() -> dict[str, float]:
    console = Console()
    results: dict[str, float] = {}
    table = Table(title="devnet beacon chain: slot processing, all validators attesting")
    columns = ("validators", "slots", "CPU ms/slot", "max", "wall ms/slot", "of a 2 s slot", "goal")
    for column in columns:
        table.add_column(column)
    for count, slots in SIZES:
        node, secrets = _node(count)
        _run_slot(node, secrets)  # warm caches (pubkeys, first committees)
        timers = [_run_slot(node, secrets) for _ in range(slots)]
        cpu_ms = 1000 * sum(t.cpu for t in timers) / slots
        wall_ms = 1000 * sum(t.wall for t in timers) / slots
        goal = GOAL_MS.get(count)
        results[f"beacon.slot_{count}v_ms"] = cpu_ms
        table.add_row(
            f"{count:,}",
            str(slots),
            f"{cpu_ms:.1f}",
            f"{1000 * max(t.cpu for t in timers):.1f}",
            f"{wall_ms:.1f}",
            f"{cpu_ms / 2000:.0%}",
            f"< {goal:.0f} ms ({cpu_ms / goal:.2f}x)" if goal else "-",
        )
    console.print(table)
    console.print(
        "CPU time of this process (one core); wall time includes waiting for other processes."
    )
    return results


if __name__ == "__main__":
    print(run())
