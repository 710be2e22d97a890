"""Native restaking on chain: a pod's validators from proposal to withdrawal, nETH minted from
oracle reports and restaked, withdrawals through the vault's delay, refunds, named reverts,
and pool validators untouched."""

from __future__ import annotations

import boa

from .conftest import (
    BURN,
    DAY,
    ETHER,
    EXITING,
    FAILED,
    MIN_DELAY,
    PROPOSED,
    REGISTERED,
    WITHDRAWN,
    Native,
    deployers,
    pod_credentials,
)

GWEI = 10**9


def _events(called, name: str) -> list:
    """Events called `name` of the last call made through `called` (its children's too)."""
    return [e for e in called.get_logs() if type(e).__name__ == name]


def test_stake_proposes_validators_with_the_pods_credentials(native: Native):
    owner, pod = native.create_pod("alice")
    registry = native.validators
    buffered = native.ops.pool.buffered_ether()
    committed = registry.committed_ether()
    with boa.env.prank(owner):
        ids = list(pod.stake(value=64 * ETHER))
    assert len(ids) == 2
    proposed = _events(pod, "PodValidatorProposed")
    assert [(e.validator_id, e.pod) for e in proposed] == [(i, pod.address) for i in ids]
    for validator_id in ids:
        assert registry.validator(validator_id)[0] == PROPOSED
        assert registry.validator_pod(validator_id) == pod.address
        assert bytes(registry.withdrawal_credentials(validator_id)) == pod_credentials(pod.address)
    assert list(pod.validators()) == ids
    assert boa.env.get_balance(registry.address) == 64 * ETHER
    # the pool is not involved
    assert native.ops.pool.buffered_ether() == buffered
    assert registry.committed_ether() == committed


def test_pod_validator_lifecycle_mints_restakes_and_pays_out(native: Native):
    ops, registry = native.ops, native.validators
    owner, pod = native.create_pod("alice")
    operator = ops.members[1].address
    with boa.env.prank(owner):
        pod.delegate(operator)
    (validator_id,) = native.stake(owner, pod)

    # the cluster's DKG (real threshold keys) signs a 1 ETH deposit to 0x01‖pod
    registration = native.register(validator_id, use_dkg=True)
    deposit = _events(registry, "DepositEvent")[-1]
    assert bytes(deposit.withdrawal_credentials) == pod_credentials(pod.address)
    assert bytes(deposit.pubkey) == registration.pubkey
    assert bytes(deposit.amount) == (10**9).to_bytes(8, "little")
    assert registry.validator(validator_id)[0] == REGISTERED

    with boa.env.prank(owner), boa.reverts("validator: credentials not confirmed by the oracle"):
        registry.activate(validator_id, registration.pubkey, registration.deposit_signature)
    native.apply(confirmed=(validator_id,))
    pool_activated = registry.activated_count()
    ops.activate(validator_id)
    deposit = _events(registry, "DepositEvent")[-1]
    assert bytes(deposit.withdrawal_credentials) == pod_credentials(pod.address)
    assert bytes(deposit.amount) == (31 * 10**9).to_bytes(8, "little")
    assert registry.pod_activated_count() == 1
    assert registry.activated_count() == pool_activated
    assert boa.env.get_balance(registry.address) == 0

    # the oracle reports 32 ETH: 32 nETH minted and restaked with the operator
    native.apply({validator_id: 32 * ETHER})
    assert native.neth.totalSupply() == 32 * ETHER
    assert native.vault.delegated_to(pod.address) == operator
    assert 32 * ETHER - 1 <= pod.restaked_balance() <= 32 * ETHER
    native.apply({validator_id: 32 * ETHER + ETHER // 10})  # a reward
    assert native.neth.totalSupply() == 32 * ETHER + ETHER // 10

    # exit, the beacon chain pays the pod, the oracle sees the balance at 0
    with boa.env.prank(owner):
        pod.request_exit(validator_id)
    assert registry.validator(validator_id)[0] == EXITING
    assert _events(pod, "ExitRequested")[-1].by_ejection is False
    shares = native.vault.shares(pod.address)
    with boa.env.prank(owner):
        early = pod.queue_withdrawal(shares // 2)
    boa.env.time_travel(seconds=MIN_DELAY)
    with boa.env.prank(owner), boa.reverts("pod: not enough withdrawn ETH"):
        pod.complete_withdrawal(early)

    native.withdraw(pod, 32 * ETHER + ETHER // 10)
    native.apply({validator_id: 0}, withdrawn=(validator_id,))
    assert registry.validator(validator_id)[0] == WITHDRAWN
    assert pod.withdrawable_ether() == 32 * ETHER + ETHER // 10
    with boa.env.prank(owner):
        late = pod.queue_withdrawal(native.vault.shares(pod.address))
        with boa.reverts("withdrawal delay not passed"):
            pod.complete_withdrawal(late)
    boa.env.time_travel(seconds=MIN_DELAY)
    before = boa.env.get_balance(owner)
    with boa.env.prank(owner):
        paid = pod.complete_withdrawal(early) + pod.complete_withdrawal(late)
    assert boa.env.get_balance(owner) - before == paid
    staked = 32 * ETHER + ETHER // 10
    assert staked - 2 <= paid <= staked  # vault rounding, never more
    assert native.neth.balanceOf(pod.address) == 0
    assert native.neth.totalSupply() == staked - paid


def test_one_report_mints_and_restakes_once_per_pod(native: Native):
    owner, pod = native.create_pod("alice")
    with boa.env.prank(owner):
        pod.delegate(native.ops.members[2].address)
    native.onboard(owner, pod, validators=2)  # both balances in one report
    restaked = _events(native.ops.oracle, "Restaked")
    assert [e.amount for e in restaked] == [64 * ETHER]
    assert native.neth.totalSupply() == 64 * ETHER
    assert pod.unminted() == 0 and pod.idle() == 0


def test_failed_dkg_reproposes_for_the_same_pod(native: Native):
    owner, pod = native.create_pod("alice")
    (first,) = native.stake(owner, pod)
    boa.env.time_travel(seconds=native.validators.dkg_timeout() + 1)
    with boa.env.prank(owner):
        again = native.validators.fail(first)
    assert again == first + 1
    assert native.validators.validator(first)[0] == FAILED
    assert native.validators.validator_pod(again) == pod.address
    assert list(pod.validators()) == [first, again]
    assert boa.env.get_balance(native.validators.address) == 32 * ETHER


def test_failed_dkg_without_a_cluster_refunds_the_pod(native: Native):
    owner, pod = native.create_pod("alice")
    (first,) = native.stake(owner, pod)
    for operator in native.ops.members.values():  # nobody is left for a new cluster
        if operator.operator_id not in native.validators.validator(first)[4]:
            with boa.env.prank(operator.address):
                native.ops.operators.pause()
    boa.env.time_travel(seconds=native.validators.dkg_timeout() + 1)
    with boa.env.prank(owner):
        assert native.validators.fail(first) == 0
    assert pod.refundable() == 32 * ETHER
    before = boa.env.get_balance(owner)
    with boa.env.prank(owner):
        pod.claim_refund()
        with boa.reverts("pod: nothing refunded"):
            pod.claim_refund()
    assert boa.env.get_balance(owner) - before == 32 * ETHER


def test_front_run_rejection_refunds_31_ether(native: Native):
    owner, pod = native.create_pod("alice")
    (validator_id,) = native.stake(owner, pod)
    native.register(validator_id)
    native.apply(rejected=(validator_id,))
    assert native.validators.validator(validator_id)[0] == FAILED
    assert pod.refundable() == 31 * ETHER
    assert boa.env.get_balance(native.validators.address) == 0


def test_pool_validators_are_unaffected(native: Native):
    ops, registry = native.ops, native.validators
    owner, pod = native.create_pod("alice")
    ids = native.onboard(owner, pod)
    ops.stake(32 * ETHER)
    pool_id = ops.propose()
    assert registry.validator_pod(pool_id) == "0x" + "00" * 20
    assert bytes(registry.withdrawal_credentials(pool_id)) == bytes(
        registry.WITHDRAWAL_CREDENTIALS()
    )
    ops.register(pool_id)
    deposit = _events(registry, "DepositEvent")[-1]
    assert bytes(deposit.withdrawal_credentials) == bytes(registry.WITHDRAWAL_CREDENTIALS())
    ops.next_frame()
    ops.apply(ops.report(confirmed=(pool_id,), beacon_balance=ops.pool.beacon_balance() + ETHER))
    ops.activate(pool_id)
    assert registry.activated_count() == 1 and registry.pod_activated_count() == len(ids)
    with boa.env.prank(owner), boa.reverts("validator: caller is not this validator's pod"):
        pod.request_exit(pool_id)


def test_named_reverts(native: Native):
    ops, registry = native.ops, native.validators
    owner, pod = native.create_pod("alice")
    stranger = ops.account("mallory")
    with boa.env.prank(stranger), boa.reverts("validator: caller is not a pod"):
        registry.propose_for_pod(value=32 * ETHER)
    with boa.env.prank(owner), boa.reverts("pod: stake must be a multiple of 32 ETH"):
        pod.stake(value=31 * ETHER)
    with boa.env.prank(owner), boa.reverts("pod: at most 8 validators per stake"):
        pod.stake(value=9 * 32 * ETHER)
    with boa.env.prank(stranger), boa.reverts("pod: caller is not the owner"):
        pod.stake(value=32 * ETHER)
    with boa.env.prank(stranger), boa.reverts("pod: caller is not the owner"):
        pod.queue_withdrawal(1)
    with boa.env.prank(owner), boa.reverts("validator: unknown validator"):
        pod.request_exit(99)
    with boa.env.prank(owner), boa.reverts("pod: unknown withdrawal"):
        pod.complete_withdrawal(7)
    with boa.env.prank(owner), boa.reverts("pod: not an operator"):
        pod.delegate(stranger)
    with boa.env.prank(owner), boa.reverts("factory: owner already has a pod"):
        native.factory.create_pod()
    with boa.env.prank(stranger), boa.reverts("pod: caller is not the validator registry"):
        pod.on_balance(1, 32 * ETHER)
    with boa.env.prank(stranger), boa.reverts("pod: caller is not the validator registry"):
        pod.on_report()
    with boa.env.prank(stranger), boa.reverts("nETH: caller is not a pod"):
        native.neth.mint(stranger, 1)
    with boa.env.prank(stranger), boa.reverts("pod: already initialized"):
        pod.initialize(stranger, stranger, stranger, stranger, stranger)
    implementation = deployers()["NativePod"].at(native.factory.POD_IMPLEMENTATION())
    with boa.env.prank(stranger), boa.reverts("pod: already initialized"):
        implementation.initialize(stranger, stranger, stranger, stranger, stranger)
    with boa.env.prank(stranger), boa.reverts("validator: caller is not the oracle"):
        registry.apply_pod_balances([1], [1])
    with boa.env.prank(ops.lst.admin), boa.reverts("validator: pod factory already set"):
        registry.set_pod_factory(stranger)

    (validator_id,) = native.stake(owner, pod)
    with boa.env.prank(owner), boa.reverts("validator: not activated"):
        pod.request_exit(validator_id)
    boa.env.set_balance(pod.address, 64 * ETHER)
    with boa.env.prank(pod.address), boa.reverts("validator: a pod validator takes exactly 32 ETH"):
        registry.propose_for_pod(value=31 * ETHER)
    report = native.report({validator_id: 32 * ETHER})
    ops.agree(report)
    with boa.reverts("validator: pod validator not activated"):
        ops.oracle.submit(report.as_tuple())
    report = native.report(pod_validators=(validator_id,), pod_balances=())
    ops.agree(report)
    with boa.reverts("validator: pod balances length mismatch"):
        ops.oracle.submit(report.as_tuple())


def test_slashed_neth_is_never_paid_and_its_ether_goes_to_the_sink(native: Native):
    market = native.upper
    owner, pod = native.create_pod("alice")
    operator = native.ops.members[1].address
    with boa.env.prank(owner):
        pod.delegate(operator)
    (validator_id,) = native.onboard(owner, pod)
    network = market.network("net", accepted_assets=[native.neth.address])
    market.join(network, operator, 10**18)
    with boa.env.prank(network.slasher):
        request = native.upper.registry.request_slash(operator, 10**18 // 4, b"\x01" * 32)
    boa.env.time_travel(seconds=3 * DAY)
    native.upper.registry.execute_slash(request)
    assert 24 * ETHER - 1 <= pod.restaked_balance() <= 24 * ETHER

    with boa.env.prank(owner):
        pod.request_exit(validator_id)
    native.withdraw(pod, 32 * ETHER)
    native.apply({validator_id: 0}, withdrawn=(validator_id,))
    with boa.env.prank(owner):
        withdrawal = pod.queue_withdrawal(native.vault.shares(pod.address))
    boa.env.time_travel(seconds=30 * DAY)
    with boa.env.prank(owner):
        paid = pod.complete_withdrawal(withdrawal)
    assert 24 * ETHER - 2 <= paid <= 24 * ETHER
    sink = boa.env.get_balance(BURN)
    pod.sweep_slashed()
    assert boa.env.get_balance(BURN) - sink == 32 * ETHER - paid
    assert boa.env.get_balance(pod.address) == 0
