"""RestakingVault: deposits, delegation, withdrawals and the slashing trouble spots."""

from __future__ import annotations

import boa
import pytest

from .conftest import ALLOCATION_DELAY, ETHER, MIN_DELAY, UNBONDING, VETO, WAD, Upper


def _now() -> int:
    return boa.env.evm.patch.timestamp


def _queue(u: Upper, restaker: str, shares: int) -> int:
    with boa.env.prank(restaker):
        return u.vault.queue_withdrawal(shares)


def _complete(u: Upper, restaker: str, withdrawal_id: int) -> int:
    with boa.env.prank(restaker):
        return u.vault.complete_withdrawal(withdrawal_id)


def test_deposit_delegates_and_values_exactly(upper: Upper):
    op = upper.operator("op")
    r = upper.restaker("r")
    shares = upper.deposit(r, 10 * ETHER, op)
    assert upper.vault.delegated_to(r) == op
    assert shares == 10 * ETHER * 1000  # virtual offset: 1,000 shares per wei at start
    assert upper.vault.value_of(r) == 10 * ETHER
    assert upper.vault.stake(op) == 10 * ETHER
    assert upper.vault.total_deposited() == 10 * ETHER


def test_deposit_to_another_operator_reverts(upper: Upper):
    a, b = upper.operator("a"), upper.operator("b")
    r = upper.restaker("r")
    upper.deposit(r, ETHER, a)
    with boa.reverts("delegated to another operator"):
        upper.deposit(r, ETHER, b)


def test_unknown_operator_and_dust_revert(upper: Upper):
    r = upper.restaker("r")
    with boa.reverts("not an operator"):
        upper.deposit(r, ETHER, upper.account("nobody"))
    op = upper.operator("op")
    with boa.reverts("deposit too small"):
        upper.deposit(r, 0, op)


def test_operator_approval(upper: Upper):
    op = upper.operator("op")
    r = upper.restaker("r")
    with boa.env.prank(op):
        upper.vault.set_requires_approval(True)
    with boa.reverts("operator approval required"):
        upper.deposit(r, ETHER, op)
    with boa.env.prank(op):
        upper.vault.approve_restaker(r, True)
    upper.deposit(r, ETHER, op)


def test_withdrawal_delay_is_max_unbonding_and_minimum(upper: Upper):
    op = upper.operator("op")
    r = upper.restaker("r")
    upper.deposit(r, 10 * ETHER, op)
    wid = _queue(upper, r, upper.vault.shares(r) // 2)
    assert upper.vault.withdrawal(wid)[4] == _now() + MIN_DELAY  # no network: the minimum
    net = upper.network("net", unbonding=30 * 86_400)
    upper.join(net, op, WAD // 2)
    wid2 = _queue(upper, r, upper.vault.shares(r) // 2)
    assert upper.vault.withdrawal(wid2)[4] == _now() + 30 * 86_400
    boa.env.time_travel(seconds=upper.vault.withdrawal(wid)[4] - _now() - 1)
    with boa.reverts("withdrawal delay not passed"):
        _complete(upper, r, wid)
    boa.env.time_travel(seconds=1)
    before = upper.wdiv.balanceOf(r)
    assert _complete(upper, r, wid) == 5 * ETHER
    assert upper.wdiv.balanceOf(r) == before + 5 * ETHER
    with boa.reverts("unknown withdrawal"):
        _complete(upper, r, wid)


def test_only_the_restaker_completes_its_withdrawal(upper: Upper):
    op = upper.operator("op")
    r = upper.restaker("r")
    upper.deposit(r, 4 * ETHER, op)
    wid = _queue(upper, r, upper.vault.shares(r))
    boa.env.time_travel(seconds=MIN_DELAY)
    with boa.env.prank(upper.account("keeper")), boa.reverts("caller is not the restaker"):
        upper.vault.complete_withdrawal(wid)
    assert _complete(upper, r, wid) == 4 * ETHER


def test_undelegate_queues_everything_and_redelegate(upper: Upper):
    a, b = upper.operator("a"), upper.operator("b")
    r = upper.restaker("r")
    upper.deposit(r, 4 * ETHER, a)
    with boa.env.prank(r):
        wid = upper.vault.redelegate(b)
    assert upper.vault.delegated_to(r) == b and upper.vault.shares(r) == 0
    assert upper.vault.withdrawal_value(wid) == 4 * ETHER
    upper.deposit(r, ETHER, b)
    with boa.env.prank(r):
        wid2 = upper.vault.undelegate()
    assert upper.vault.delegated_to(r) == "0x" + "00" * 20
    assert upper.vault.withdrawal_value(wid2) == ETHER
    assert upper.vault.stake(a) == 4 * ETHER and upper.vault.stake(b) == ETHER


def test_inflation_attack_is_unprofitable(upper: Upper):
    """First depositor mints 1 wei of shares' worth, donates 10 ETH: the victim loses ≈0."""
    op = upper.operator("op")
    attacker, victim = upper.restaker("attacker"), upper.restaker("victim")
    upper.deposit(attacker, 1, op)
    with boa.env.prank(attacker):
        upper.wdiv.transfer(upper.vault.address, 10 * ETHER)  # a donation is not counted
    upper.deposit(victim, 10 * ETHER, op)
    assert upper.vault.value_of(victim) >= 10 * ETHER - 1
    assert upper.vault.value_of(attacker) <= 1


def _slashable(u: Upper, fraction: int = WAD):
    op = u.operator("op")
    net = u.network("net", max_slash=WAD)
    u.join(net, op, fraction)
    return op, net


def _slash(u: Upper, net, op: str, fraction: int, evidence: bytes = b"\x01" * 32) -> int:
    with boa.env.prank(net.slasher):
        return u.registry.request_slash(op, fraction, evidence)


def test_queued_stake_is_slashed_like_active(upper: Upper):
    op, net = _slashable(upper)
    r1, r2 = upper.restaker("r1"), upper.restaker("r2")
    upper.deposit(r1, 10 * ETHER, op)
    upper.deposit(r2, 10 * ETHER, op)
    wid = _queue(upper, r2, upper.vault.shares(r2))
    rid = _slash(upper, net, op, WAD // 4)
    boa.env.time_travel(seconds=VETO)
    upper.registry.execute_slash(rid)
    assert upper.vault.value_of(r1) == pytest.approx(7.5 * ETHER, abs=2)
    assert upper.vault.withdrawal_value(wid) == pytest.approx(7.5 * ETHER, abs=2)
    assert upper.vault.total_slashed() == 5 * ETHER


def test_slash_requested_before_a_deposit_never_hits_it(upper: Upper):
    op, net = _slashable(upper)
    early, late = upper.restaker("early"), upper.restaker("late")
    upper.deposit(early, 10 * ETHER, op)
    rid = _slash(upper, net, op, WAD // 2)
    upper.deposit(late, 10 * ETHER, op)
    boa.env.time_travel(seconds=VETO)
    upper.registry.execute_slash(rid)
    assert upper.vault.value_of(late) >= 10 * ETHER - 1
    assert upper.vault.value_of(early) == pytest.approx(5 * ETHER, abs=2)


def test_fully_slashed_operator_does_not_brick_others(upper: Upper):
    op, net = _slashable(upper)
    other = upper.operator("other")
    r = upper.restaker("r")
    upper.deposit(r, 10 * ETHER, op)
    rid = _slash(upper, net, op, WAD)
    boa.env.time_travel(seconds=VETO)
    upper.registry.execute_slash(rid)
    assert upper.vault.value_of(r) == 0 and upper.vault.stake(op) == 0
    with boa.reverts("operator fully slashed"):
        upper.deposit(upper.restaker("new"), ETHER, op)
    with boa.env.prank(r):  # leaving still works (worth 0), and delegation elsewhere too
        upper.vault.redelegate(other)
    upper.deposit(r, ETHER, other)
    assert upper.vault.value_of(r) == ETHER
    assert upper.vault.value_of(upper.restaker("x")) == 0


def test_wiped_queue_pool_starts_a_new_generation(upper: Upper):
    op, net = _slashable(upper)
    r = upper.restaker("r")
    upper.deposit(r, 10 * ETHER, op)
    wid = _queue(upper, r, upper.vault.shares(r))
    rid = _slash(upper, net, op, WAD)
    boa.env.time_travel(seconds=VETO)
    upper.registry.execute_slash(rid)
    assert upper.vault.withdrawal_value(wid) == 0
    # the active pool was empty (all queued) so it is intact: new stake queues into a
    # fresh queued pool and keeps its full value
    r2 = upper.restaker("r2")
    upper.deposit(r2, 10 * ETHER, op)
    wid2 = _queue(upper, r2, upper.vault.shares(r2))
    assert upper.vault.queue_generation(op) == 1
    assert upper.vault.withdrawal_value(wid2) == 10 * ETHER


def test_pending_increase_is_not_slashable(upper: Upper):
    op = upper.operator("op")
    net = upper.network("net", max_slash=WAD)
    r = upper.restaker("r")
    upper.deposit(r, 10 * ETHER, op)
    upper.join(net, op, WAD // 4, wait=False)
    with boa.env.prank(net.slasher), boa.reverts("nothing allocated"):
        upper.registry.request_slash(op, WAD, b"\x02" * 32)
    boa.env.time_travel(seconds=ALLOCATION_DELAY)
    rid = _slash(upper, net, op, WAD)
    boa.env.time_travel(seconds=VETO)
    upper.registry.execute_slash(rid)
    assert upper.vault.value_of(r) == pytest.approx(7.5 * ETHER, abs=2)


def test_completed_withdrawal_pays_after_unbonding(upper: Upper):
    op, _ = _slashable(upper, WAD // 2)
    r = upper.restaker("r")
    upper.deposit(r, 8 * ETHER, op)
    wid = _queue(upper, r, upper.vault.shares(r))
    boa.env.time_travel(seconds=UNBONDING)
    assert _complete(upper, r, wid) == 8 * ETHER
    assert upper.vault.stake(op) == 0
