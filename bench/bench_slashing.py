"""Slashing-protection checks per second (EIP-3076 store, sqlite, synchronous=FULL).

Each single check is its own durable transaction (BEGIN IMMEDIATE … COMMIT with fsync), as the
signer does it. Four workloads: attestations and blocks for validators never seen before, and
in steady state (validators with 64 epochs of history signing the next one); plus the batch API
(all validators' attestations of a slot in one transaction).

Anchor: a node running 1,000 validators on the devnet (2 s slots) must check 1,000 attestations
per slot, i.e. 500 checks/s. `slashing.checks_per_s` is the steady-state single-attestation rate.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from nektar.crypto.slashing_protection import AttestationRequest, SlashingProtectionDB

GVR = b"\x42" * 32
VALIDATORS = 1000
HISTORY_EPOCHS = 64
ANCHOR_CHECKS_PER_S = 500.0


def _pubkey(i: int) -> bytes:
    return i.to_bytes(48, "big")


def _root(*parts: int) -> bytes:
    return b"".join(p.to_bytes(8, "big") for p in parts).rjust(32, b"\x00")


def _rate(count: int, started: float) -> float:
    return count / (time.perf_counter() - started)


def run() -> dict[str, float]:
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as directory:
        db = SlashingProtectionDB(Path(directory) / "sp.sqlite", GVR)

        started = time.perf_counter()
        for v in range(VALIDATORS):
            db.check_and_record_attestation(_pubkey(v), 0, 1, _root(v, 1))
        figures["attestations, new validators"] = _rate(VALIDATORS, started)

        started = time.perf_counter()
        for v in range(VALIDATORS):
            db.check_and_record_block(_pubkey(VALIDATORS + v), 1, _root(v, 1))
        figures["blocks, new validators"] = _rate(VALIDATORS, started)

        for epoch in range(2, HISTORY_EPOCHS + 2):  # build history with the batch API
            db.check_and_record_attestations(
                [
                    AttestationRequest(_pubkey(v), epoch - 1, epoch, _root(v, epoch))
                    for v in range(VALIDATORS)
                ]
            )
        epoch = HISTORY_EPOCHS + 2
        started = time.perf_counter()
        for v in range(VALIDATORS):
            db.check_and_record_attestation(_pubkey(v), epoch - 1, epoch, _root(v, epoch))
        figures["attestations, steady state"] = _rate(VALIDATORS, started)

        started = time.perf_counter()
        for slot in range(2, VALIDATORS + 2):
            db.check_and_record_block(_pubkey(VALIDATORS), slot, _root(slot))
        figures["blocks, steady state"] = _rate(VALIDATORS, started)

        epoch += 1
        started = time.perf_counter()
        results = db.check_and_record_attestations(
            [
                AttestationRequest(_pubkey(v), epoch - 1, epoch, _root(v, epoch))
                for v in range(VALIDATORS)
            ]
        )
        figures["attestations, batch of a slot"] = _rate(VALIDATORS, started)
        assert all(r is None for r in results)
        db.close()

    table = Table(title=f"slashing protection ({VALIDATORS} validators, durable commits)")
    table.add_column("workload")
    table.add_column("checks/s", justify="right")
    table.add_column(f"× anchor {ANCHOR_CHECKS_PER_S:.0f}/s", justify="right")
    for name, rate in figures.items():
        table.add_row(name, f"{rate:,.0f}", f"{rate / ANCHOR_CHECKS_PER_S:.1f}")
    Console().print(table)
    return {"slashing.checks_per_s": figures["attestations, steady state"]}


if __name__ == "__main__":
    run()
