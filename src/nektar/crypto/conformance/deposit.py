"""Deposit conformance suite: `deposit_data.json` files (`DIR/*.json`, staking-deposit-cli
format, a list of entries). Each entry is a case: its deposit message root and deposit data
root must be recomputed exactly, and its signature must verify for the entry's fork version
(the deposit domain uses the genesis fork version and a zero genesis validators root).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from nektar.crypto import bls
from nektar.crypto.conformance import CaseResult
from nektar.crypto.signing import (
    compute_deposit_domain,
    compute_signing_root,
    deposit_data_root,
    deposit_message_root,
)


def _bytes(entry: dict[str, Any], key: str, length: int) -> bytes:
    value = entry[key]
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a hex string")
    raw = bytes.fromhex(value.removeprefix("0x"))
    if len(raw) != length:
        raise ValueError(f"{key} must be {length} bytes, got {len(raw)}")
    return raw


def _check(entry: dict[str, Any]) -> str:
    pubkey = _bytes(entry, "pubkey", 48)
    credentials = _bytes(entry, "withdrawal_credentials", 32)
    signature = _bytes(entry, "signature", 96)
    fork_version = _bytes(entry, "fork_version", 4)
    amount = entry["amount"]
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount < 2**64:
        return f"amount must be a positive uint64 (gwei), got {amount!r}"
    message_root = deposit_message_root(pubkey, credentials, amount)
    if message_root != _bytes(entry, "deposit_message_root", 32):
        return f"deposit_message_root is {message_root.hex()}"
    data_root = deposit_data_root(pubkey, credentials, amount, signature)
    if data_root != _bytes(entry, "deposit_data_root", 32):
        return f"deposit_data_root is {data_root.hex()}"
    signing_root = compute_signing_root(message_root, compute_deposit_domain(fork_version))
    if not bls.verify(pubkey, signing_root, signature):
        return f"signature does not verify for fork version {fork_version.hex()}"
    return ""


def run_cases(directory: Path) -> Iterator[CaseResult]:
    for path in sorted(Path(directory).glob("*.json")):
        try:
            entries = json.loads(path.read_text())
            if not isinstance(entries, list):
                raise ValueError("a deposit data file is a JSON list of entries")
        except (OSError, ValueError) as exc:
            yield CaseResult(path.stem, False, f"malformed deposit data file: {exc}")
            continue
        for i, entry in enumerate(entries):
            try:
                failure = _check(entry)
            except (ValueError, KeyError, TypeError) as exc:
                failure = f"malformed entry: {exc!r}"
            yield CaseResult(f"{path.stem}[{i}]", not failure, failure)
