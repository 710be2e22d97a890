"""Deterministic development accounts: the same keys, hence addresses, on every backend."""

from __future__ import annotations

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

DEV_SEED = b"nektar devnet account"


def dev_account(index: int) -> LocalAccount:
    """The `index`-th development key (never for real funds: the seed is public)."""
    return Account.from_key(keccak(DEV_SEED + index.to_bytes(4, "big")))
