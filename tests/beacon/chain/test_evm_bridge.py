"""Deposits in and withdrawals out over JSON-RPC (anvil), the way a multi-process devnet runs."""

from __future__ import annotations

import pytest

from nektar.beacon.chain.devnet import devnet_node, interop_secret
from nektar.beacon.chain.sources import ContractDeposits, EvmWithdrawals
from nektar.chain import compile_contract
from nektar.chain.anvil import start_anvil
from nektar.crypto import bls
from nektar.crypto.signing import eth1_withdrawal_credentials

from .conftest import ETH, GWEI, signed_deposit


@pytest.mark.anvil
def test_deposit_logs_and_withdrawal_payments_over_json_rpc() -> None:
    anvil = start_anvil()
    try:
        backend = anvil.backend()
        contract = backend.deploy(compile_contract("beacon/DepositContract.vy"))
        node = devnet_node(8, genesis_time=1_700_000_000, deposit_contract=contract)
        fork = node.cfg.chain.genesis_fork_version
        sk = interop_secret(1000)
        creds = eth1_withdrawal_credentials(b"\x77" * 20)
        contract.transact("deposit", *signed_deposit(sk, creds, 32 * GWEI, fork), value=32 * ETH)
        source = ContractDeposits(contract)
        requests = source.poll()
        assert [bytes(r.pubkey) for r in requests] == [bls.sk_to_pk(sk)]
        assert int(requests[0].amount) == 32 * GWEI and source.poll() == []
        node.advance_slots(2)
        assert len(node.head_state().pending_deposits) == 1
        address = "0x" + "42" * 20
        before = backend.balance_of(address)
        EvmWithdrawals(backend).pay(bytes.fromhex("42" * 20), 5 * GWEI)
        assert backend.balance_of(address) == before + 5 * ETH
    finally:
        anvil.stop()
