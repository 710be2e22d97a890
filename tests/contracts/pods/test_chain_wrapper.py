"""nektar.chain.pods end to end on the in-process backend: deploy_native_restaking over
deploy_diva_system, a pod's validator registered by its cluster with the pod's credentials,
activated, reported, exited and paid out through the wrappers."""

from __future__ import annotations

import pytest

from nektar.chain import InProcessBackend, TransactionReverted
from nektar.chain.diva_ops import Report, deploy_diva_system, play_cluster
from nektar.chain.pods import deploy_native_restaking
from nektar.crypto.node_key import NodeKey

ETHER = 10**18
GENESIS_FORK_VERSION = bytes.fromhex("10004e4b")
WEEK = 7 * 86_400


def test_native_restaking_through_wrappers():
    backend = InProcessBackend()
    system = deploy_diva_system(backend)
    native = deploy_native_restaking(system)
    admin = backend.accounts[0]
    system.oracle.set_parameters(admin, 1, 10**14, False)
    system.oracle.add_member(admin, admin.address)
    keys = {}
    operators = []
    for _ in range(4):
        account, key = backend.new_account(10 * ETHER), NodeKey.generate()
        operator_id = system.operators.register(account, key, "https://op.example")
        system.operators.bond_eth(account, 4 * ETHER)
        keys[operator_id] = key
        operators.append(account)

    owner = backend.new_account(100 * ETHER)
    pod = native.create_pod(owner)
    assert native.pod_of(owner.address).address == pod.address
    assert pod.owner() == owner.address
    pod.delegate(owner, operators[0].address)
    [validator_id] = pod.stake(owner)
    registry = system.validators
    credentials = b"\x01" + bytes(11) + bytes.fromhex(pod.address[2:])
    assert registry.withdrawal_credentials(validator_id) == credentials
    assert registry.validator_pod(validator_id) == pod.address
    assert pod.validators() == [validator_id]

    members = [keys[i] for i in registry.validator(validator_id).operator_ids]
    registration = play_cluster(
        backend.chain_id,
        registry.address,
        validator_id,
        members,
        credentials,
        GENESIS_FORK_VERSION,
        use_dkg=False,
    )
    registry.register(owner, registration)
    [deposit] = system.deposit_contract.contract.events("DepositEvent")
    assert bytes(deposit["withdrawal_credentials"]) == credentials

    def apply(balance: int, **fields: object) -> None:
        backend.increase_time(system.oracle.frame_seconds())
        pool = system.lst.pool
        report = Report(
            ref_slot=system.oracle.current_ref_slot(),
            beacon_balance=pool.beacon_balance(),
            beacon_deposited=pool.beacon_deposited_ether(),
            active_validators=0,
            exited_validators=0,
            vault_balance=0,
            pod_validators=(validator_id,) if balance >= 0 else (),
            pod_balances=(balance,) if balance >= 0 else (),
            **fields,
        )
        system.oracle.vote(admin, report)
        system.oracle.submit(admin, report)

    apply(-1, confirmed=(validator_id,))
    registry.activate(owner, registration)
    assert registry.pod_activated_count() == 1
    apply(32 * ETHER)
    assert native.neth_balance(native.vault.address) == 32 * ETHER
    assert 32 * ETHER - 1 <= pod.restaked_balance() <= 32 * ETHER

    pod.request_exit(owner, validator_id)
    backend.set_balance(pod.address, backend.balance_of(pod.address) + 32 * ETHER)
    apply(0, withdrawn=(validator_id,))
    assert pod.withdrawable_ether() == 32 * ETHER
    withdrawal_id = pod.queue_withdrawal(owner, native.vault.shares(pod.address))
    with pytest.raises(TransactionReverted, match="withdrawal delay not passed"):
        pod.complete_withdrawal(owner, withdrawal_id)
    backend.increase_time(WEEK)
    before = backend.balance_of(owner.address)
    paid = pod.complete_withdrawal(owner, withdrawal_id)
    assert 32 * ETHER - 2 <= paid <= 32 * ETHER
    assert backend.balance_of(owner.address) - before == paid  # no gas: base fee is zero
    with pytest.raises(TransactionReverted, match="pod: unknown withdrawal"):
        pod.complete_withdrawal(owner, withdrawal_id)
