"""Bad inputs for every external function: each must revert with its named reason.

Covers zero amounts, wrong roles, paused staking, the staking limit, sanity limits of the
report, reentrancy by a malicious receiver, and claiming twice or too early.
"""

from __future__ import annotations

from pathlib import Path

import boa
import pytest
from eth.exceptions import Revert

from .conftest import DEAD_SHARES, ETHER, Lst, deployers

HERE = Path(__file__).resolve().parent
MISSING_ROLE = "access_control: account is missing role"


@pytest.fixture
def staker(lst: Lst) -> str:
    alice = lst.account("alice")
    lst.deposit(alice, 20 * ETHER)
    return alice


@pytest.fixture
def attacker(lst: Lst):
    boa.env.set_balance(boa.env.eoa, 100 * ETHER)
    return boa.load(HERE / "Reenterer.vy", lst.pool.address, lst.queue.address)


def _request(lst: Lst, who: str, amount: int = ETHER) -> int:
    with boa.env.prank(who):
        return lst.queue.request_withdrawals([amount])[0]


# ---------------------------------------------------------------- StakingPool


def test_deposit_bad_inputs(lst: Lst) -> None:
    bob = lst.account("bob")
    minimum = lst.pool.min_deposit()
    with boa.reverts("pool: deposit below minimum"), boa.env.prank(bob):
        lst.pool.deposit(value=0)
    with boa.reverts("pool: deposit below minimum"), boa.env.prank(bob):
        lst.pool.deposit(value=minimum - 1)
    with pytest.raises(Revert, match="pool: deposit below minimum"):
        boa.env.raw_call(lst.pool.address, sender=bob, value=minimum - 1)
    with boa.env.prank(lst.admin):
        lst.pool.pause_staking()
    assert lst.pool.current_stake_limit() == 0
    with boa.reverts("pool: staking paused"), boa.env.prank(bob):
        lst.pool.deposit(value=ETHER)
    with pytest.raises(Revert, match="pool: staking paused"):
        boa.env.raw_call(lst.pool.address, sender=bob, value=ETHER)
    with boa.env.prank(lst.admin):
        lst.pool.resume_staking()
    lst.deposit(bob, ETHER)


def test_deposit_buying_zero_shares(lst: Lst) -> None:
    with boa.env.prank(lst.admin):
        lst.pool.set_parameters(1, 1000, lst.admin, 1000, 500, 100)
        lst.pool.receive_donation(value=10 * ETHER)  # 1000 dead shares now worth 10 ETH
    with boa.reverts("divETH: deposit buys zero shares"):
        lst.deposit(lst.account("bob"), 10**15)


def test_staking_limit(lst: Lst) -> None:
    bob = lst.account("bob")
    with boa.env.prank(lst.admin):
        lst.pool.set_staking_limit(10 * ETHER, ETHER)
    assert lst.pool.staking_limit() == (10 * ETHER, ETHER)
    lst.deposit(bob, 9 * ETHER)
    assert lst.pool.current_stake_limit() == ETHER
    with boa.reverts("pool: staking limit exceeded"):
        lst.deposit(bob, 2 * ETHER)
    boa.env.time_travel(blocks=3)
    assert lst.pool.current_stake_limit() == 4 * ETHER
    lst.deposit(bob, 4 * ETHER)
    boa.env.time_travel(blocks=100)
    assert lst.pool.current_stake_limit() == 10 * ETHER
    with boa.env.prank(lst.admin):
        lst.pool.remove_staking_limit()
    assert lst.pool.current_stake_limit() == 2**256 - 1
    lst.deposit(bob, 50 * ETHER)


def test_staking_control_bad_inputs(lst: Lst) -> None:
    bob = lst.account("bob")
    with boa.env.prank(bob):
        with boa.reverts("pool: caller lacks PAUSE_ROLE"):
            lst.pool.pause_staking()
        with boa.reverts("pool: caller lacks RESUME_ROLE"):
            lst.pool.resume_staking()
        with boa.reverts("pool: caller lacks STAKING_CONTROL_ROLE"):
            lst.pool.set_staking_limit(ETHER, 1)
        with boa.reverts("pool: caller lacks STAKING_CONTROL_ROLE"):
            lst.pool.remove_staking_limit()
    with boa.env.prank(lst.admin):
        with boa.reverts("pool: staking not paused"):
            lst.pool.resume_staking()
        lst.pool.pause_staking()
        with boa.reverts("pool: staking already paused"):
            lst.pool.pause_staking()
        with boa.reverts("pool: zero staking limit"):
            lst.pool.set_staking_limit(0, 0)
        with boa.reverts("pool: increase per block exceeds the limit"):
            lst.pool.set_staking_limit(ETHER, ETHER + 1)
        with boa.reverts("pool: staking limit too large"):
            lst.pool.set_staking_limit(2**128, 1)
        with boa.reverts("pool: no staking limit set"):
            lst.pool.remove_staking_limit()


def test_governance_bad_inputs(lst: Lst) -> None:
    good = (ETHER, 1000, lst.admin, 1000, 500, 100)
    with boa.reverts("pool: caller is not admin"), boa.env.prank(lst.oracle):
        lst.pool.set_parameters(*good)
    bad = {
        "pool: zero minimum deposit": (0, 1000, lst.admin, 1000, 500, 100),
        "pool: minimum deposit too large": (2**88, 1000, lst.admin, 1000, 500, 100),
        "pool: fee above 50%": (ETHER, 5001, lst.admin, 1000, 500, 100),
        "pool: fee recipient is the zero address": (ETHER, 1000, "0x" + "00" * 20, 1000, 500, 100),
        "pool: APR limit out of range": (ETHER, 1000, lst.admin, 0, 500, 100),
        "pool: loss limit must be below 100%": (ETHER, 1000, lst.admin, 1000, 10_000, 100),
        "pool: finalize batch out of range": (ETHER, 1000, lst.admin, 1000, 500, 0),
    }
    with boa.env.prank(lst.admin):
        for reason, args in bad.items():
            with boa.reverts(reason):
                lst.pool.set_parameters(*args)
        lst.pool.set_parameters(*good)
    with boa.reverts(MISSING_ROLE), boa.env.prank(lst.oracle):
        lst.pool.grantRole(lst.pool.ORACLE_ROLE(), lst.oracle)


def test_initialize_bad_inputs(lst: Lst) -> None:
    with boa.env.prank(lst.admin):
        with boa.reverts("pool: already initialized"):
            lst.pool.initialize(
                lst.token.address, lst.queue.address, lst.vault.address, value=DEAD_SHARES
            )
        pool = deployers()["StakingPool"].deploy()
        token = deployers()["DivEther"].deploy(pool.address)
        with boa.reverts("pool: not initialized"):
            pool.deposit(value=ETHER)
        with boa.reverts("pool: not initialized"):
            pool.receive_donation(value=ETHER)
        with boa.reverts("pool: initial deposit must equal dead shares"):
            pool.initialize(token.address, lst.queue.address, lst.vault.address, value=1)
        with boa.reverts("pool: zero address"):
            pool.initialize(token.address, "0x" + "00" * 20, lst.vault.address, value=1000)
    boa.env.set_balance(lst.oracle, ETHER)
    with boa.reverts("pool: caller is not admin"), boa.env.prank(lst.oracle):
        pool.initialize(token.address, lst.queue.address, lst.vault.address, value=1000)
    with boa.reverts("divETH: pool is the zero address"):
        deployers()["DivEther"].deploy("0x" + "00" * 20)


def test_donation_and_vault_hook_bad_inputs(lst: Lst) -> None:
    bob = lst.account("bob")
    with boa.env.prank(bob):
        with boa.reverts("pool: zero donation"):
            lst.pool.receive_donation(value=0)
        with boa.reverts("pool: ETH only from the withdrawal vault"):
            lst.pool.receive_from_vault(value=ETHER)
    boa.env.set_balance(bob, 2**129)
    with boa.reverts("pool: pooled ether exceeds 128 bits"), boa.env.prank(bob):
        lst.pool.receive_donation(value=2**128)


def test_withdraw_for_deposit_bad_inputs(lst: Lst, staker: str) -> None:
    with boa.reverts("pool: caller lacks DEPOSITOR_ROLE"), boa.env.prank(staker):
        lst.pool.withdraw_for_deposit(ETHER)
    with boa.env.prank(lst.depositor):
        with boa.reverts("pool: zero amount"):
            lst.pool.withdraw_for_deposit(0)
        with boa.reverts("pool: buffer too small (reserved for withdrawals)"):
            lst.pool.withdraw_for_deposit(lst.pool.buffered_ether() + 1)
    _request(lst, staker, 5 * ETHER)
    free = lst.pool.buffered_ether() - 5 * ETHER
    with (
        boa.reverts("pool: buffer too small (reserved for withdrawals)"),
        boa.env.prank(lst.depositor),
    ):
        lst.pool.withdraw_for_deposit(free + 1)
    with boa.env.prank(lst.depositor):
        lst.pool.withdraw_for_deposit(free)
    assert lst.pool.in_transit_ether() == free


def test_withdraw_for_deposit_reentrancy(lst: Lst, staker: str, attacker) -> None:
    with boa.env.prank(lst.admin):
        lst.pool.grantRole(lst.pool.DEPOSITOR_ROLE(), attacker.address)
    payload = lst.pool.withdraw_for_deposit.prepare_calldata(ETHER)
    attacker.arm(lst.pool.address, payload)
    with boa.env.prank(attacker.address):
        lst.pool.withdraw_for_deposit(ETHER)
    assert attacker.reentry_attempts() == 1 and not attacker.reentry_succeeded()
    assert lst.pool.in_transit_ether() == ETHER


def test_report_bad_inputs(lst: Lst, staker: str) -> None:
    with boa.reverts("pool: caller lacks ORACLE_ROLE"), boa.env.prank(staker):
        lst.pool.report(0, 0, 0, 0)
    with boa.env.prank(lst.depositor):
        lst.pool.withdraw_for_deposit(8 * ETHER)
    boa.env.time_travel(seconds=86_400)
    with boa.env.prank(lst.oracle):
        with boa.reverts("pool: beacon deposits exceed ETH sent"):
            lst.pool.report(8 * ETHER, 1, 8 * ETHER + 1, 0)
        with boa.reverts("vault: amount exceeds balance"):
            lst.pool.report(8 * ETHER, 1, 8 * ETHER, 1)
        # 20 ETH pooled; one day at the 10%/yr limit allows 20 * 0.1 / 365 ≈ 0.00548 ETH
        allowed = 20 * ETHER * 1000 * 86_400 // (10_000 * 365 * 86_400)
        with boa.reverts("pool: rewards exceed the APR limit"):
            lst.pool.report(8 * ETHER + allowed + 10**12, 1, 8 * ETHER, 0)
        # 5% of the 20 ETH (+1000 wei) pooled may be lost per report, not more
        with boa.reverts("pool: loss exceeds the per-report limit"):
            lst.pool.report(7 * ETHER - 100, 1, 8 * ETHER, 0)
        lst.pool.report(7 * ETHER, 1, 8 * ETHER, 0)
        with boa.reverts("pool: beacon deposits went down"):
            lst.pool.report(7 * ETHER, 1, 7 * ETHER, 0)
        # no time has passed: no rewards at all may be reported
        with boa.reverts("pool: rewards exceed the APR limit"):
            lst.pool.report(7 * ETHER + 1, 1, 8 * ETHER, 0)


def test_vault_bad_inputs(lst: Lst) -> None:
    boa.env.set_balance(lst.vault.address, ETHER)
    with boa.reverts("vault: caller is not the pool"):
        lst.vault.withdraw_to_pool(1)
    with boa.reverts("vault: zero amount"), boa.env.prank(lst.pool.address):
        lst.vault.withdraw_to_pool(0)
    with boa.reverts("vault: pool is the zero address"):
        deployers()["WithdrawalVault"].deploy("0x" + "00" * 20)


# ---------------------------------------------------------------- divETH


def test_diveth_bad_inputs(lst: Lst, staker: str) -> None:
    bob = lst.account("bob")
    zero = "0x" + "00" * 20
    with boa.env.prank(staker):
        with boa.reverts("divETH: transfer amount exceeds balance"):
            lst.token.transfer(bob, 21 * ETHER)
        with boa.reverts("divETH: transfer to the zero address"):
            lst.token.transfer(zero, ETHER)
        with boa.reverts("divETH: transfer to the divETH contract"):
            lst.token.transfer(lst.token.address, ETHER)
        with boa.reverts("divETH: transfer amount exceeds balance"):
            lst.token.transferShares(bob, 21 * ETHER)
        with boa.reverts("divETH: approve to the zero address"):
            lst.token.approve(zero, ETHER)
        with boa.reverts("divETH: zero shares"):
            lst.token.burn_shares(0)
        with boa.reverts("divETH: burn amount exceeds balance"):
            lst.token.burn_shares(21 * ETHER)
        lst.token.approve(bob, ETHER)
    with boa.env.prank(bob):
        with boa.reverts("divETH: insufficient allowance"):
            lst.token.transferFrom(staker, bob, ETHER + 1)
        with boa.reverts("divETH: insufficient allowance"):
            lst.token.transferSharesFrom(staker, bob, ETHER + 1)
        with boa.reverts("divETH: caller is not the pool"):
            lst.token.mint_for_ether(bob, ETHER, ETHER)
        with boa.reverts("divETH: caller is not the pool"):
            lst.token.mint_shares(bob, ETHER)
        with boa.reverts("divETH: caller is not the pool"):
            lst.token.set_withdrawal_queue(bob)
        with boa.reverts("divETH: caller is not the withdrawal queue"):
            lst.token.pull_for_withdrawal(staker, ETHER)
    with boa.reverts("divETH: queue already set"), boa.env.prank(lst.pool.address):
        lst.token.set_withdrawal_queue(bob)


# ---------------------------------------------------------------- wdivETH


def test_wdiveth_bad_inputs(lst: Lst, staker: str) -> None:
    bob = lst.account("bob")
    w = lst.wrapper
    with boa.env.prank(staker):
        for call in (w.deposit, w.wrap, w.withdraw):
            with boa.reverts("wdivETH: zero assets"):
                call(0)
        for call in (w.mint, w.unwrap, w.redeem):
            with boa.reverts("wdivETH: zero shares"):
                call(0)
        with boa.reverts("divETH: insufficient allowance"):
            w.wrap(ETHER)
        lst.token.approve(w.address, 2**256 - 1)
        w.wrap(5 * ETHER)
        lst.pool.receive_donation(value=lst.pool.total_pooled_ether())  # rate ≈ 2
        with boa.reverts("wdivETH: zero shares"):
            w.deposit(1)
        with boa.reverts("erc20: burn amount exceeds balance"):
            w.unwrap(5 * ETHER + 1)
        with boa.reverts("erc20: burn amount exceeds balance"):
            w.withdraw(w.maxWithdraw(staker) + 3)
        with boa.reverts("wdivETH: receiver is the zero address"):
            w.redeem(ETHER, "0x" + "00" * 20)
    with boa.reverts("erc20: insufficient allowance"), boa.env.prank(bob):
        w.redeem(ETHER, bob, staker)
    with boa.reverts("wdivETH: divETH is the zero address"):
        deployers()["WrappedDivEther"].deploy("0x" + "00" * 20)


# ---------------------------------------------------------------- WithdrawalQueue


def test_request_bad_inputs(lst: Lst, staker: str) -> None:
    q = lst.queue
    with boa.env.prank(staker):
        with boa.reverts("queue: no amounts"):
            q.request_withdrawals([])
        with boa.reverts("queue: request below 0.1 divETH"):
            q.request_withdrawals([ETHER, 10**17 - 1])
        with boa.reverts("queue: request above 1,000 divETH"):
            q.request_withdrawals([1000 * ETHER + 1])
        with boa.reverts("queue: owner is the zero address"):
            q.request_withdrawals([ETHER], "0x" + "00" * 20)
        with boa.reverts("divETH: transfer amount exceeds balance"):
            q.request_withdrawals([10 * ETHER, 10 * ETHER, ETHER])
    with boa.reverts("queue: caller is not the pool"):
        q.finalize(1, ETHER, ETHER)
    with boa.reverts("queue: invalid finalization range"), boa.env.prank(lst.pool.address):
        q.finalize(1, ETHER, ETHER)
    _request(lst, staker)
    boa.env.set_balance(lst.pool.address, 10 * ETHER)
    with boa.env.prank(lst.pool.address):
        with boa.reverts("queue: value does not match the batch"):
            q.finalize(1, ETHER, ETHER, value=1)
        with boa.reverts("queue: zero total shares"):
            q.finalize(1, ETHER, 0)
    with boa.reverts("queue: unknown request"):
        q.get_request(2)
    with boa.reverts("queue: zero address"):
        deployers()["WithdrawalQueue"].deploy(lst.pool.address, "0x" + "00" * 20)


def test_claim_twice_too_early_and_by_others(lst: Lst, staker: str) -> None:
    bob = lst.account("bob")
    request_id = _request(lst, staker)
    with boa.env.prank(staker):
        with boa.reverts("queue: request not finalized"):
            lst.queue.claim_withdrawal(request_id)
        with boa.reverts("queue: unknown request"):
            lst.queue.claim_withdrawal(request_id + 1)
        with boa.reverts("queue: unknown request"):
            lst.queue.claim_withdrawal(0)
    lst.report(0)
    with boa.reverts("queue: caller is not the request owner"), boa.env.prank(bob):
        lst.queue.claim_withdrawal(request_id)
    with boa.env.prank(staker):
        with boa.reverts("queue: recipient is the zero address"):
            lst.queue.claim_withdrawal(request_id, "0x" + "00" * 20)
        lst.queue.claim_withdrawal(request_id)
        with boa.reverts("queue: request already claimed"):
            lst.queue.claim_withdrawal(request_id)
    assert lst.queue.get_request(request_id)[4]


def test_claim_reentrancy_and_rejecting_receiver(lst: Lst, attacker) -> None:
    attacker.stake(value=10 * ETHER)
    first, second = attacker.request(ETHER), attacker.request(ETHER)
    lst.report(0)
    locked = lst.queue.locked_ether()
    # re-entering claim from the ETH transfer fails; the outer claim pays exactly once
    attacker.arm(lst.queue.address, lst.queue.claim_withdrawal.prepare_calldata(second))
    attacker.claim(first)
    assert attacker.reentry_attempts() == 1 and not attacker.reentry_succeeded()
    assert boa.env.get_balance(attacker.address) == ETHER
    assert lst.queue.locked_ether() == locked - ETHER
    attacker.arm(lst.queue.address, lst.queue.claim_withdrawal.prepare_calldata(first))
    attacker.claim(second)
    assert not attacker.reentry_succeeded()
    assert boa.env.get_balance(attacker.address) == 2 * ETHER
    # a receiver that refuses ETH cannot claim, and the request stays claimable
    third = attacker.request(ETHER)
    lst.report(0)
    attacker.set_reject_ether(True)
    with boa.reverts("queue: ETH transfer failed"):
        attacker.claim(third)
    attacker.set_reject_ether(False)
    attacker.claim(third)
    assert lst.queue.locked_ether() == 0


def test_request_nft_bad_inputs(lst: Lst, staker: str, attacker) -> None:
    q = lst.queue
    bob, carol = lst.account("bob"), lst.account("carol")
    zero = "0x" + "00" * 20
    request_id = _request(lst, staker)
    with boa.reverts("queue: invalid request id"):
        q.ownerOf(99)
    with boa.reverts("queue: invalid request id"):
        q.getApproved(99)
    with boa.reverts("queue: balance of the zero address"):
        q.balanceOf(zero)
    with boa.env.prank(bob):
        with boa.reverts("queue: caller is not owner nor operator"):
            q.approve(bob, request_id)
        with boa.reverts("queue: caller is not owner nor approved"):
            q.transferFrom(staker, bob, request_id)
        with boa.reverts("queue: approve to caller"):
            q.setApprovalForAll(bob, True)
    with boa.env.prank(staker):
        with boa.reverts("queue: approval to the current owner"):
            q.approve(staker, request_id)
        with boa.reverts("queue: invalid request id"):
            q.approve(bob, 99)
        with boa.reverts("queue: transfer from incorrect owner"):
            q.transferFrom(bob, carol, request_id)
        with boa.reverts("queue: transfer to the zero address"):
            q.transferFrom(staker, zero, request_id)
        with boa.reverts("queue: ETH not accepted"):
            q.transferFrom(staker, bob, request_id, value=1)
        with boa.reverts("queue: receiver rejected the request NFT"):
            q.safeTransferFrom(staker, lst.vault.address, request_id)
        with boa.reverts("queue: receiver rejected the request NFT"):
            q.safeTransferFrom(staker, attacker.address, request_id)
        q.approve(bob, request_id)
    assert q.getApproved(request_id) == bob
    with boa.env.prank(bob):
        q.transferFrom(staker, carol, request_id)
    assert q.ownerOf(request_id) == carol and q.getApproved(request_id) == zero
    assert q.balanceOf(staker) == 0 and q.balanceOf(carol) == 1
    assert q.supportsInterface(bytes.fromhex("80ac58cd"))
    assert q.supportsInterface(bytes.fromhex("01ffc9a7"))
    assert not q.supportsInterface(bytes.fromhex("ffffffff"))
