"""Genesis state (electra `initialize_beacon_state_from_eth1`, adapted to a devnet).

Genesis validators come either as trusted records (like interop genesis tools: pubkey,
credentials, balance) or as deposits whose proof of possession is checked (invalid ones are
skipped, as the spec does). Those with at least MIN_ACTIVATION_BALANCE are active at epoch 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nektar.beacon.chain import containers as c
from nektar.beacon.chain.config import BeaconConfig
from nektar.beacon.chain.epoch import apply_pending_deposit, next_sync_committee
from nektar.beacon.chain.shuffling import sha256
from nektar.beacon.chain.state import BeaconState, PendingDepositRecord, ValidatorRecord
from nektar.crypto.signing import BeaconBlockHeader

GENESIS_PAYLOAD_HASH = sha256(b"nektar devnet genesis payload")


@dataclass(frozen=True)
class GenesisValidator:
    """A trusted genesis entry (no signature check): interop-style devnet genesis."""

    pubkey: bytes
    withdrawal_credentials: bytes
    balance: int


def genesis_state(
    cfg: BeaconConfig,
    genesis_time: int,
    validators: Sequence[GenesisValidator] = (),
    deposits: Sequence[PendingDepositRecord] = (),
) -> BeaconState:
    n_roots = cfg.slots_per_historical_root
    version = cfg.chain.fork("electra").version
    state = BeaconState(
        cfg=cfg,
        genesis_time=genesis_time,
        genesis_validators_root=b"\x00" * 32,
        slot=0,
        fork=(version, version, 0),
        latest_block_header=BeaconBlockHeader(body_root=c.BeaconBlockBody().hash_tree_root()),
        block_roots=[b"\x00" * 32] * n_roots,
        state_roots=[b"\x00" * 32] * n_roots,
        randao_mixes=[GENESIS_PAYLOAD_HASH] * cfg.epochs_per_historical_vector,
        slashings=[0] * cfg.epochs_per_slashings_vector,
        latest_execution_payload_header=c.ExecutionPayloadHeader(
            block_hash=GENESIS_PAYLOAD_HASH, timestamp=genesis_time, gas_limit=cfg.gas_limit
        ),
    )
    inc = cfg.effective_balance_increment
    for entry in validators:
        if state.index_of(entry.pubkey) is not None:
            raise ValueError(f"duplicate genesis pubkey 0x{entry.pubkey.hex()}")
        record = ValidatorRecord(
            pubkey=entry.pubkey,
            withdrawal_credentials=entry.withdrawal_credentials,
            effective_balance=0,
        )
        effective = min(entry.balance - entry.balance % inc, state.max_effective_balance(record))
        state.add_validator(
            ValidatorRecord(entry.pubkey, entry.withdrawal_credentials, effective), entry.balance
        )
    for deposit in deposits:
        apply_pending_deposit(state, deposit)
    for i, v in enumerate(state.validators):
        balance = state.balances[i]
        effective = min(balance - balance % inc, state.max_effective_balance(v))
        state.update_validator(i, effective_balance=effective)
        if effective >= cfg.min_activation_balance:
            state.update_validator(i, activation_eligibility_epoch=0, activation_epoch=0)
    if not state.active_indices(0):
        raise ValueError("genesis needs at least one active validator")
    state.genesis_validators_root = bytes(state._validators_root_view().hash_tree_root())
    state.current_sync_committee = next_sync_committee(state)
    state.next_sync_committee = next_sync_committee(state)
    return state
