"""Deterministic development accounts: the same keys, hence addresses, on every backend."""

from __future__ import annotations

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

DEV_SEED = b"nektar devnet account"


def dev_account(index: int) -> LocalAccount:
    """The `index`-th development key (never for real funds: the seed is public)."""
    return Account.from_key(keccak(DEV_SEED + index.to_bytes(4, "big")))


def sign_dynamic_fee_tx(
    sender: LocalAccount,
    *,
    chain_id: int,
    nonce: int,
    max_fee: int,
    tip: int,
    gas: int,
    value: int,
    data: bytes,
    to: str | None,
) -> bytes:
    """The raw bytes of a signed EIP-1559 (type 2) transaction; `to=None` creates a contract.
    Both backends send exactly these bytes, so gas and hashes agree between them."""
    fields: dict[str, object] = {
        "type": 2,
        "chainId": chain_id,
        "nonce": nonce,
        "maxFeePerGas": max_fee,
        "maxPriorityFeePerGas": tip,
        "gas": gas,
        "value": value,
        "data": data,
    }
    if to is not None:
        fields["to"] = to
    return bytes(sender.sign_transaction(fields).raw_transaction)
