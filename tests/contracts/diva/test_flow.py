"""End-to-end staker flow on the in-process EVM: deposit → wrap → unwrap → request →
report (rewards, fee) → finalize → claim, with the exact figures each step must give."""

from __future__ import annotations

import boa

from .conftest import DEAD_SHARES, ETHER, Lst


def test_deployment_wiring(lst: Lst) -> None:
    assert lst.token.sharesOf(lst.token.DEAD_ADDRESS()) == DEAD_SHARES
    assert lst.pool.total_pooled_ether() == DEAD_SHARES == lst.pool.buffered_ether()
    assert lst.pool.token() == lst.token.address
    assert lst.token.withdrawal_queue() == lst.queue.address
    assert lst.wrapper.asset() == lst.token.address
    assert lst.pool.hasRole(lst.pool.ORACLE_ROLE(), lst.oracle)
    assert lst.pool.hasRole(lst.pool.DEPOSITOR_ROLE(), lst.depositor)
    assert lst.pool.fee_bps() == 1000
    assert lst.token.symbol() == "divETH" and lst.wrapper.symbol() == "wdivETH"


def test_staker_walkthrough(lst: Lst) -> None:
    alice, bob = lst.account("alice"), lst.account("bob")
    assert lst.deposit(alice, 10 * ETHER) == 10 * ETHER
    assert lst.token.balanceOf(alice) == 10 * ETHER
    # plain transfer = deposit
    boa.env.raw_call(lst.pool.address, sender=bob, value=2 * ETHER)
    assert lst.token.sharesOf(bob) == 2 * ETHER

    # wrap / unwrap at rate 1
    with boa.env.prank(alice):
        lst.token.approve(lst.wrapper.address, 4 * ETHER)
        assert lst.wrapper.wrap(4 * ETHER) == 4 * ETHER
        assert lst.wrapper.balanceOf(alice) == 4 * ETHER
        assert lst.wrapper.unwrap(ETHER) == ETHER
    assert lst.token.balanceOf(alice) == 7 * ETHER

    # fund a validator: ETH leaves the buffer, total pooled ETH is unchanged
    with boa.env.prank(lst.depositor):
        lst.pool.withdraw_for_deposit(8 * ETHER)
    assert lst.pool.in_transit_ether() == 8 * ETHER
    assert lst.pool.total_pooled_ether() == 12 * ETHER + DEAD_SHARES

    # withdrawal request before the report
    with boa.env.prank(alice):
        ids = lst.queue.request_withdrawals([ETHER, 2 * ETHER])
    assert list(ids) == [1, 2]
    assert lst.queue.ownerOf(1) == alice and lst.queue.balanceOf(alice) == 2
    assert lst.queue.unfinalized_ether() == 3 * ETHER

    # the beacon chain credited the 8 ETH and earned 0.12 ETH in a year
    pre_pooled, pre_shares = lst.rate()
    lst.report(8 * ETHER + 12 * ETHER // 100, 1, 8 * ETHER, elapsed=365 * 86_400)
    assert lst.pool.in_transit_ether() == 0
    post_pooled = pre_pooled + 12 * ETHER // 100
    # requests are capped at their request-time value; the buffer pays them
    assert lst.queue.last_finalized_id() == 2
    assert lst.queue.locked_ether() == 3 * ETHER
    assert lst.pool.total_pooled_ether() == post_pooled - 3 * ETHER
    # 10% of the rewards, minted as shares worth (rounded down) that much at the post rate
    fee = 12 * ETHER // 1000
    assert lst.token.sharesOf(lst.admin) == fee * pre_shares // (post_pooled - fee)
    # finalizing at the request-time value left the excess to the holders: the rate rose
    pooled, shares = lst.rate()
    assert pooled * pre_shares > pre_pooled * shares

    before = boa.env.get_balance(alice)
    with boa.env.prank(alice):
        lst.queue.claim_withdrawal(2)
        lst.queue.claim_withdrawal(1)
    assert boa.env.get_balance(alice) - before == 3 * ETHER
    assert lst.queue.locked_ether() == 0
    assert lst.queue.balanceOf(alice) == 0
