"""The cluster-independent validator path, end to end on a real in-process EVM:
deposit through the DepositContract → activation → duties and rewards → exit → withdrawal."""

from __future__ import annotations

from nektar.beacon.chain.config import BeaconConfig, devnet_chain
from nektar.beacon.chain.interface import ValidatorStatus
from nektar.beacon.chain.sources import ContractDeposits, EvmWithdrawals
from nektar.chain import InProcessBackend, compile_contract
from nektar.crypto.signing import eth1_withdrawal_credentials

from .conftest import ETH, GENESIS_TIME, GWEI, PlainValidator, make_node, secret, signed_deposit


def run_until(node, validator, condition, max_slots: int) -> int:
    for _ in range(max_slots):
        if condition():
            return node.current_slot()
        node.advance_slots(1)
        validator.act()
    raise AssertionError(f"condition not reached within {max_slots} slots")


def test_plain_validator_deposits_attests_proposes_exits_and_is_withdrawn() -> None:
    backend = InProcessBackend()
    contract = backend.deploy(compile_contract("beacon/DepositContract.vy"))
    cfg = BeaconConfig(
        chain=devnet_chain(genesis_time=GENESIS_TIME, deposit_contract_address=contract.address)
    )
    node = make_node(
        16, cfg, deposits=ContractDeposits(contract), withdrawals=EvmWithdrawals(backend)
    )
    sk = secret(1000)
    address = bytes.fromhex("5eed" * 10)
    evm_before = backend.balance_of("0x" + address.hex())
    credentials = eth1_withdrawal_credentials(address)
    fork = cfg.chain.genesis_fork_version
    # 1 ETH first (creates the validator with our credentials), then 31 ETH: the 1+31 flow.
    for amount in (1, 31):
        args = signed_deposit(sk, credentials, amount * GWEI, fork)
        contract.transact("deposit", *args, value=amount * ETH)
    validator = PlainValidator(node, sk)

    run_until(node, validator, lambda: validator.index is not None, 120)
    info = node.validator("head", validator.pubkey)
    assert bytes(info.validator.withdrawal_credentials) == credentials
    assert info.status in (ValidatorStatus.PENDING_INITIALIZED, ValidatorStatus.PENDING_QUEUED)

    run_until(
        node,
        validator,
        lambda: node.validator("head", validator.pubkey).status == ValidatorStatus.ACTIVE_ONGOING,
        160,
    )
    assert node.validator("head", validator.pubkey).balance == 32 * GWEI
    start = node.current_slot()
    run_until(
        node,
        validator,
        lambda: validator.proposed and node.current_slot() >= start + 3 * 8,
        240,
    )
    assert len(validator.attested) >= 3
    assert any(
        node.block(s).block.message.proposer_index == validator.index for s in validator.proposed
    )
    state = node.head_state()
    earned = state.balances[validator.index] + sum(
        int(w.amount) for w in node.paid_withdrawals if int(w.validator_index) == validator.index
    )
    assert earned > 32 * GWEI, "an attesting, proposing validator earns rewards"

    node.submit_voluntary_exit(validator.voluntary_exit())
    run_until(
        node,
        validator,
        lambda: node.validator("head", validator.pubkey).status == ValidatorStatus.WITHDRAWAL_DONE,
        200,
    )
    withdrawn = sum(
        int(w.amount) for w in node.paid_withdrawals if int(w.validator_index) == validator.index
    )
    assert withdrawn >= 32 * GWEI
    assert backend.balance_of("0x" + address.hex()) == evm_before + withdrawn * 10**9
    assert node.validator("head", validator.pubkey).balance == 0
