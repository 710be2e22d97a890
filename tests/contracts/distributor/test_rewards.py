"""Network rewards through a distributor: harvest by anyone, the manager's fee, reward-per-share
accumulators settled on every receipt change, O(1) claims, nothing lost but sub-unit dust."""

from __future__ import annotations

import boa

from .conftest import ETHER, Dist

RWD = 10**18


def _deposit(lrt, holder: str, amount: int) -> int:
    with boa.env.prank(holder):
        return lrt.deposit(amount, holder)


def _claim(lrt, token, holder: str) -> int:
    with boa.env.prank(holder):
        return lrt.claim_rewards(token.address)


def _setup(d: Dist, fee_bps: int = 0):
    ops = d.operators(2)
    lrt = d.create(ops, [5_000, 5_000], fee_bps=fee_bps)
    net = d.network("net", ops)
    with boa.env.prank(d.manager):
        lrt.add_reward_token(net.token.address)
    return lrt, net


def test_harvest_pays_holders_pro_rata_and_the_manager_its_fee(dist: Dist):
    lrt, net = _setup(dist, fee_bps=100)
    token = net.token
    a, b = dist.holder("a", lrt), dist.holder("b", lrt)
    _deposit(lrt, a, 3 * ETHER)
    _deposit(lrt, b, ETHER)
    dist.fund(net, 1_000 * RWD)  # both operators carry only the distributor: 500 each
    keeper = dist.upper.account("keeper")
    with boa.env.prank(keeper):
        got = [lrt.harvest(token.address, net.address, i) for i in range(2)]
    assert all(500 * RWD - g <= 1 for g in got)
    harvested = sum(got)
    fee = lrt.total_reward_fees(token.address)
    assert token.balanceOf(dist.manager) == fee == 2 * ((500 * RWD - 1) // 100 + 1)
    rest = harvested - fee
    due_a, due_b = lrt.claimable_rewards(token.address, a), lrt.claimable_rewards(token.address, b)
    assert rest * 3 // 4 - due_a <= 1 and rest // 4 - due_b <= 1
    assert _claim(lrt, token, a) == due_a and token.balanceOf(a) == due_a
    assert _claim(lrt, token, b) == due_b
    dust = harvested - fee - due_a - due_b
    assert 0 <= dust <= 2  # ≤ 1 unit per holder
    assert token.balanceOf(lrt.address) == dust
    with boa.env.prank(a), boa.reverts("nothing to claim"):
        lrt.claim_rewards(token.address)
    # already harvested: the RestakingVault has nothing left for the sub-account
    with boa.reverts("nothing to claim"):
        lrt.harvest(token.address, net.address, 0)


def test_rewards_follow_receipts_through_transfers_and_redeems(dist: Dist):
    lrt, net = _setup(dist)
    token = net.token
    a, b, c = (dist.holder(x, lrt) for x in "abc")
    shares = _deposit(lrt, a, 2 * ETHER)
    _deposit(lrt, b, 2 * ETHER)
    dist.fund(net, 100 * RWD)
    lrt.harvest(token.address, net.address, 0)
    lrt.harvest(token.address, net.address, 1)
    first = lrt.claimable_rewards(token.address, a)
    assert 50 * RWD - first <= 1
    with boa.env.prank(a):
        lrt.transfer(c, shares // 2)  # c earns from now on only
    assert lrt.claimable_rewards(token.address, a) == first
    assert lrt.claimable_rewards(token.address, c) == 0
    with boa.env.prank(b):
        lrt.request_redeem(lrt.balanceOf(b))  # b keeps what it earned, earns no more
    earned_b = lrt.claimable_rewards(token.address, b)
    dist.fund(net, 100 * RWD)
    lrt.harvest(token.address, net.address, 0)
    lrt.harvest(token.address, net.address, 1)
    assert lrt.claimable_rewards(token.address, b) == earned_b
    assert 50 * RWD + first - lrt.claimable_rewards(token.address, a) <= 2
    assert 50 * RWD - lrt.claimable_rewards(token.address, c) <= 2


def test_harvest_with_no_receipts_waits_for_the_next_holders(dist: Dist):
    lrt, net = _setup(dist)
    token = net.token
    a = dist.holder("a", lrt)
    _deposit(lrt, a, ETHER)
    dist.fund(net, 10 * RWD)
    with boa.env.prank(a):
        lrt.request_redeem(lrt.balanceOf(a))  # before the harvest: leaves its rewards behind
    got = lrt.harvest(token.address, net.address, 0)
    assert lrt.claimable_rewards(token.address, a) == 0
    assert lrt.reward_per_share(token.address) == 0  # carried, not lost
    b = dist.holder("b", lrt)
    _deposit(lrt, b, ETHER)
    dist.fund(net, 10 * RWD)
    got += lrt.harvest(token.address, net.address, 1)
    assert 0 <= got - _claim(lrt, token, b) <= 1


def test_reward_token_registration_and_bad_harvests(dist: Dist):
    lrt, net = _setup(dist)
    token = net.token.address
    with boa.env.prank(dist.upper.account("x")), boa.reverts("not the manager"):
        lrt.add_reward_token(token)
    with boa.env.prank(dist.manager):
        with boa.reverts("reward token already added"):
            lrt.add_reward_token(token)
        with boa.reverts("the asset is not a reward token"):
            lrt.add_reward_token(dist.wdiv.address)
        for i in range(3):
            lrt.add_reward_token(dist.upper.account(f"token{i}"))
        with boa.reverts("too many reward tokens"):
            lrt.add_reward_token(dist.upper.account("token4"))
    assert lrt.reward_token_count() == 4 and lrt.reward_tokens(0) == token
    with boa.reverts("unknown reward token"):
        lrt.harvest(dist.upper.account("other"), net.address, 0)
    with boa.reverts("unknown operator"):
        lrt.harvest(token, net.address, 2)
    with boa.reverts("nothing to claim"):
        lrt.harvest(token, net.address, 0)
