"""Deposits from the DepositContract's logs: proof of possession, top-ups, front-running."""

from __future__ import annotations

import itertools

from nektar.beacon.chain.config import BeaconConfig, devnet_chain
from nektar.beacon.chain.sources import ContractDeposits
from nektar.chain import InProcessBackend, compile_contract
from nektar.crypto import bls
from nektar.crypto.signing import deposit_data_root, eth1_withdrawal_credentials

from .conftest import ETH, GENESIS_TIME, GWEI, make_node, secret, signed_deposit


def deposit_node():
    backend = InProcessBackend()
    contract = backend.deploy(compile_contract("beacon/DepositContract.vy"))
    cfg = BeaconConfig(
        chain=devnet_chain(genesis_time=GENESIS_TIME, deposit_contract_address=contract.address)
    )
    return make_node(8, cfg, deposits=ContractDeposits(contract)), contract, cfg


def test_first_valid_deposit_sets_credentials_bad_signature_ignored_later_ones_top_up() -> None:
    node, contract, cfg = deposit_node()
    fork = cfg.chain.genesis_fork_version
    sk = secret(500)
    attacker = eth1_withdrawal_credentials(b"\xba" * 20)
    protocol = eth1_withdrawal_credentials(b"\x11" * 20)
    # A deposit whose signature is not a proof of possession for the pubkey: ignored.
    pk = bls.sk_to_pk(sk)
    wrong_sig = bls.sign(secret(501), b"not a deposit message")
    bogus = (pk, protocol, wrong_sig, deposit_data_root(pk, protocol, 2 * GWEI, wrong_sig))
    contract.transact("deposit", *bogus, value=2 * ETH)
    # Front-run: the attacker's 1 ETH with its own credentials lands first…
    contract.transact("deposit", *signed_deposit(sk, attacker, GWEI, fork), value=ETH)
    # …then the protocol's deposit for the same key.
    contract.transact("deposit", *signed_deposit(sk, protocol, GWEI, fork), value=ETH)
    for _ in range(120):
        node.advance_slots(1)
        state = node.head_state()
        index = state.index_of(pk)
        if index is not None and state.balances[index] >= 2 * GWEI:
            break
    else:
        raise AssertionError("deposits were not processed")
    info = node.validator("head", pk)
    assert bytes(info.validator.withdrawal_credentials) == attacker  # first valid deposit wins
    assert info.balance == 2 * GWEI  # the bogus 2 ETH were dropped, the protocol's 1 ETH topped up
    assert info.status.value == "pending_initialized"
    assert len(node.head_state().pending_deposits) == 0


def test_deposits_wait_for_finality_and_churn() -> None:
    node, contract, cfg = deposit_node()
    fork = cfg.chain.genesis_fork_version
    keys = [secret(600 + i) for i in range(5)]
    for sk in keys:
        creds = eth1_withdrawal_credentials(b"\x22" * 20)
        contract.transact("deposit", *signed_deposit(sk, creds, 32 * GWEI, fork), value=32 * ETH)
    node.advance_slots(2)
    state = node.head_state()
    assert len(state.pending_deposits) == 5  # included as EIP-6110 requests, not yet applied
    assert state.finalized_checkpoint.epoch == 0
    seen_per_epoch = []
    for _ in range(12 * 8):
        node.advance_slots(1)
        if node.current_slot() % 8 == 1:
            seen_per_epoch.append(
                sum(node.head_state().index_of(bls.sk_to_pk(k)) is not None for k in keys)
            )
    # The churn (64 ETH per epoch on the devnet) lets at most two 32-ETH deposits in per epoch.
    increments = [b - a for a, b in itertools.pairwise(seen_per_epoch)]
    assert seen_per_epoch[-1] == 5
    assert max(increments) <= 2
