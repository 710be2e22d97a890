"""nektar.chain.pods end to end on the in-process backend: deploy_native_restaking over
deploy_diva_system, a pod's validator registered by its cluster with the pod's credentials,
activated, reported, earning a network's rewards (the network accepts wdivETH and nETH),
exited and paid out through the wrappers."""

from __future__ import annotations

import pytest

from nektar.chain import InProcessBackend, TransactionReverted
from nektar.chain.compiler import compile_contract
from nektar.chain.diva_ops import Report, deploy_diva_system, play_cluster
from nektar.chain.marketplace import WAD, Terms
from nektar.chain.pods import NativePod, NativeRestaking, deploy_native_restaking
from nektar.crypto.node_key import NodeKey

ETHER = 10**18
GENESIS_FORK_VERSION = bytes.fromhex("10004e4b")
WEEK = 7 * 86_400
DAY = 86_400
COMMISSION_BPS = 1_000
EPOCH_REWARD = 1_000 * ETHER


def _claim_network_rewards(
    backend: InProcessBackend,
    native: NativeRestaking,
    wdiv: str,
    pod: NativePod,
    owner,
    operator,
) -> None:
    """A network accepting wdivETH and nETH funds an epoch; the pod's operator has native
    stake only, so its whole share (less commission) is the pod's, which its owner claims."""
    registry = native.network_registry
    assert registry is not None and registry.vaults()[1] == native.vault.address
    net, stranger = backend.new_account(ETHER), backend.new_account(ETHER)
    token = backend.deploy(compile_contract("devnet/RewardToken.vy"), "R", "RWD", sender=net)
    token.transact("mint", net.address, EPOCH_REWARD, sender=net)
    token.transact("approve", registry.address, EPOCH_REWARD, sender=net)
    terms = Terms(
        accepted_assets=(wdiv, native.native_ether.address),
        min_stake=0,
        max_operators=8,
        max_slash=WAD // 5,
        unbonding=2 * DAY,
        veto_window=DAY,
        slasher=net.address,
        resolver=net.address,
        slash_to_network=False,
        metadata_uri="https://both-assets.example",
    )
    registry.register_network(net, terms, token.address)
    assert registry.network_vaults(net.address) == [0, 1]
    native.vault.set_commission(operator, COMMISSION_BPS)
    registry.opt_in(operator, net.address)
    registry.allocate(operator, net.address, WAD // 2)
    backend.increase_time(DAY + 1)
    registry.fund_epoch(net, EPOCH_REWARD)

    generation = native.vault.generation(net.address, operator.address)
    rest = EPOCH_REWARD - EPOCH_REWARD * COMMISSION_BPS // 10_000  # the only staked operator
    owed = native.vault.claimable(
        token.address, net.address, operator.address, generation, pod.address
    )
    assert rest - 1 <= owed <= rest  # the pod holds every share of operator's native pool
    with pytest.raises(TransactionReverted, match="pod: caller is not the owner"):
        pod.claim_rewards(stranger, token.address, net.address, generation)
    assert pod.claim_rewards(owner, token.address, net.address, generation) == owed
    assert token.call("balanceOf", owner.address) == owed
    assert token.call("balanceOf", pod.address) == 0
    with pytest.raises(TransactionReverted, match="nothing to claim"):
        pod.claim_rewards(owner, token.address, net.address, generation)


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
    _claim_network_rewards(backend, native, system.lst.wrapper.address, pod, owner, operators[0])

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
