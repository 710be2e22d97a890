"""Deposit data signed by a cluster, and `deposit_data.json` in the staking-deposit-cli format.

A deposit signature covers the DepositMessage under the deposit domain (genesis fork version,
zero genesis root). Each cluster member signs that root with its key share; any t partials
combine into the validator's signature, so the validator key never exists in one place.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from nektar.crypto import bls, threshold
from nektar.crypto.signing import deposit_data_root, deposit_message_root, deposit_signing_root

DEPOSIT_CLI_VERSION = "2.7.0"
MAX_AMOUNT_GWEI = 2**64 - 1
_FIELDS = {
    "pubkey": 48,
    "withdrawal_credentials": 32,
    "signature": 96,
    "deposit_message_root": 32,
    "deposit_data_root": 32,
    "fork_version": 4,
}


class DepositDataError(ValueError):
    """A malformed deposit_data.json, inconsistent roots, or a signature that does not verify."""


@dataclass(frozen=True)
class DepositDataEntry:
    """One entry of deposit_data.json (bytes fields; hex without 0x in the file)."""

    pubkey: bytes
    withdrawal_credentials: bytes
    amount: int  # gwei
    signature: bytes
    deposit_message_root: bytes
    deposit_data_root: bytes
    fork_version: bytes
    network_name: str
    deposit_cli_version: str = DEPOSIT_CLI_VERSION

    def verify(self) -> None:
        """Check the roots against our SSZ and the signature against the pubkey; raise if not."""
        message_root = deposit_message_root(self.pubkey, self.withdrawal_credentials, self.amount)
        if message_root != self.deposit_message_root:
            raise DepositDataError(f"deposit_message_root mismatch for {self.pubkey.hex()}")
        data_root = deposit_data_root(
            self.pubkey, self.withdrawal_credentials, self.amount, self.signature
        )
        if data_root != self.deposit_data_root:
            raise DepositDataError(f"deposit_data_root mismatch for {self.pubkey.hex()}")
        root = deposit_signing_root(
            self.pubkey, self.withdrawal_credentials, self.amount, self.fork_version
        )
        if not bls.verify(self.pubkey, root, self.signature):
            raise DepositDataError(f"deposit signature does not verify for {self.pubkey.hex()}")

    def to_json(self) -> dict[str, Any]:
        return {k: v.hex() if isinstance(v, bytes) else v for k, v in asdict(self).items()}


def _check_message(pubkey: bytes, credentials: bytes, amount_gwei: int, fork: bytes) -> None:
    for name, value, length in (
        ("pubkey", pubkey, 48),
        ("withdrawal_credentials", credentials, 32),
        ("genesis fork version", fork, 4),
    ):
        if not isinstance(value, bytes) or len(value) != length:
            raise DepositDataError(f"{name} must be {length} bytes")
    _check_amount(amount_gwei)


def _check_amount(amount_gwei: int) -> None:
    if not isinstance(amount_gwei, int) or isinstance(amount_gwei, bool):
        raise DepositDataError("the amount is an integer number of gwei")
    if not 0 < amount_gwei <= MAX_AMOUNT_GWEI:
        raise DepositDataError(f"amount {amount_gwei} gwei is outside (0, 2^64)")


def partial_deposit_signature(
    share: int,
    group_pubkey: bytes,
    withdrawal_credentials: bytes,
    amount_gwei: int,
    genesis_fork_version: bytes,
) -> bytes:
    """A member's partial signature of the validator's DepositMessage."""
    _check_message(group_pubkey, withdrawal_credentials, amount_gwei, genesis_fork_version)
    root = deposit_signing_root(
        group_pubkey, withdrawal_credentials, amount_gwei, genesis_fork_version
    )
    return threshold.partial_sign(share, root)


def combine_deposit(
    group_pubkey: bytes,
    public_shares: Mapping[int, bytes],
    partials: Mapping[int, bytes],
    threshold_: int,
    withdrawal_credentials: bytes,
    amount_gwei: int,
    genesis_fork_version: bytes,
    network_name: str,
) -> DepositDataEntry:
    """Combine t partial deposit signatures into a verified deposit-data entry.

    Raises threshold.PartialSignatureError naming the members whose partials are wrong.
    """
    _check_message(group_pubkey, withdrawal_credentials, amount_gwei, genesis_fork_version)
    root = deposit_signing_root(
        group_pubkey, withdrawal_credentials, amount_gwei, genesis_fork_version
    )
    job = threshold.PartialSet(root, group_pubkey, public_shares, partials)
    signature = threshold.combine_and_verify(job, threshold_)
    return DepositDataEntry(
        pubkey=group_pubkey,
        withdrawal_credentials=withdrawal_credentials,
        amount=amount_gwei,
        signature=signature,
        deposit_message_root=deposit_message_root(
            group_pubkey, withdrawal_credentials, amount_gwei
        ),
        deposit_data_root=deposit_data_root(
            group_pubkey, withdrawal_credentials, amount_gwei, signature
        ),
        fork_version=genesis_fork_version,
        network_name=network_name,
    )


def _entry_from_json(raw: Any, position: int) -> DepositDataEntry:
    where = f"entry {position}"
    if not isinstance(raw, dict):
        raise DepositDataError(f"{where}: expected an object")
    missing = [
        k for k in (*_FIELDS, "amount", "network_name", "deposit_cli_version") if k not in raw
    ]
    if missing:
        raise DepositDataError(f"{where}: missing {', '.join(missing)}")
    values: dict[str, Any] = {}
    for name, length in _FIELDS.items():
        text = raw[name]
        if not isinstance(text, str):
            raise DepositDataError(f"{where}: {name} must be a hex string")
        try:
            value = bytes.fromhex(text.removeprefix("0x"))
        except ValueError:
            raise DepositDataError(f"{where}: {name} is not hex") from None
        if len(value) != length:
            raise DepositDataError(f"{where}: {name} is {len(value)} bytes, expected {length}")
        values[name] = value
    try:
        _check_amount(raw["amount"])
    except DepositDataError as exc:
        raise DepositDataError(f"{where}: {exc}") from None
    for name in ("network_name", "deposit_cli_version"):
        if not isinstance(raw[name], str):
            raise DepositDataError(f"{where}: {name} must be a string")
    return DepositDataEntry(
        amount=raw["amount"],
        network_name=raw["network_name"],
        deposit_cli_version=raw["deposit_cli_version"],
        **values,
    )


def parse_deposit_data(text: str | bytes, verify: bool = True) -> list[DepositDataEntry]:
    """Parse deposit_data.json; with `verify`, also check every root and signature."""
    try:
        document = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DepositDataError(f"deposit data is not JSON: {exc}") from None
    if not isinstance(document, list) or not document:
        raise DepositDataError("deposit data is a non-empty JSON list of entries")
    entries = [_entry_from_json(raw, n) for n, raw in enumerate(document)]
    if verify:
        for entry in entries:
            entry.verify()
    return entries


def read_deposit_data(path: Path, verify: bool = True) -> list[DepositDataEntry]:
    """Read and check a deposit_data.json file."""
    try:
        text = Path(path).read_bytes()
    except OSError as exc:
        raise DepositDataError(f"cannot read {path}: {exc}") from None
    return parse_deposit_data(text, verify)


def write_deposit_data(path: Path, entries: Sequence[DepositDataEntry]) -> None:
    """Write entries in the staking-deposit-cli layout (verified first: never write bad data)."""
    for entry in entries:
        entry.verify()
    Path(path).write_text(json.dumps([e.to_json() for e in entries], indent=1) + "\n")
