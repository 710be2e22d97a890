"""Slot processing of the devnet beacon chain with 64, 1,000 and 10,000 validators.

Every validator is external (the node holds no keys) and attests once per epoch with its own
SingleAttestation, as validator clients do through the Beacon API; the slot's proposer
produces and submits a block through the node. Timed per slot: entering the slot (per-slot
and, at the boundary, epoch processing), block production, block import (state transition
with one batched signature verification per block), attestation data, and the submission of
the slot's attestations (one batch verification for all of them, then pooling/aggregation).
Not timed: the validators' own signing (done by the "validator clients" of the benchmark).

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


def _run_slot(node: DevnetBeaconNode, secrets: list[int]) -> float:
    """One slot of a fully participating network; returns the node's time in seconds."""
    spent = 0.0
    started = time.perf_counter()
    node.advance_slots(1)
    slot = node.current_slot()
    state = node.signing_state()
    proposer = state.proposer_index
    spent += time.perf_counter() - started
    epoch = slot // node.cfg.slots_per_epoch
    reveal = bls.sign(
        secrets[proposer],
        compute_signing_root(Epoch(epoch).hash_tree_root(), state.domain(DOMAIN_RANDAO)),
    )
    started = time.perf_counter()
    block = node.produce_block(slot, reveal).block
    spent += time.perf_counter() - started
    signature = bls.sign(
        secrets[proposer],
        compute_signing_root(block.hash_tree_root(), state.domain(DOMAIN_BEACON_PROPOSER)),
    )
    started = time.perf_counter()
    node.submit_block(SignedBeaconBlock(message=block, signature=signature))
    data = node.attestation_data(slot, 0)
    state = node.signing_state()
    committees = [
        (ci, state.beacon_committee(slot, ci))
        for ci in range(state.committee_count_per_slot(epoch))
    ]
    spent += time.perf_counter() - started
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
    started = time.perf_counter()
    node.submit_attestations(singles)
    return spent + time.perf_counter() - started


def run() -> dict[str, float]:
    console = Console()
    results: dict[str, float] = {}
    table = Table(title="devnet beacon chain: slot processing, all validators attesting")
    for column in (
        "validators",
        "slots",
        "mean ms/slot",
        "max ms/slot",
        "share of 2 s slot",
        "goal",
    ):
        table.add_column(column)
    for count, slots in SIZES:
        node, secrets = _node(count)
        _run_slot(node, secrets)  # warm caches (pubkeys, first committees)
        times = [_run_slot(node, secrets) for _ in range(slots)]
        mean_ms = 1000 * sum(times) / len(times)
        goal = GOAL_MS.get(count)
        results[f"beacon.slot_{count}v_ms"] = mean_ms
        table.add_row(
            f"{count:,}",
            str(slots),
            f"{mean_ms:.1f}",
            f"{1000 * max(times):.1f}",
            f"{mean_ms / 2000:.0%}",
            f"< {goal:.0f} ms ({mean_ms / goal:.2f}x)" if goal else "-",
        )
    console.print(table)
    return results


if __name__ == "__main__":
    print(run())
