"""One staker through the Diva liquid-staking system, in-process and on anvil."""

from __future__ import annotations

from fractions import Fraction

import pytest

from nektar.chain import Backend, TransactionReverted
from nektar.chain.diva import DEAD_SHARES, deploy_diva_lst, role_id

ETH = 10**18
DAY = 86_400


def test_one_staker_round_trip(backend: Backend):
    lst = deploy_diva_lst(backend)
    oracle, depositor = backend.new_account(ETH), backend.new_account(ETH)
    lst.pool.grant_role(lst.admin, "ORACLE_ROLE", oracle.address)
    lst.pool.grant_role(lst.admin, "DEPOSITOR_ROLE", depositor.address)
    assert lst.pool.has_role("ORACLE_ROLE", oracle.address)
    assert lst.rate() == 1

    staker = backend.new_account(100 * ETH)
    receipt = lst.pool.deposit(staker, 40 * ETH)
    assert receipt.event("TransferShares")["sharesValue"] == 40 * ETH
    assert lst.token.balance_of(staker.address) == 40 * ETH
    assert lst.pool.total_pooled_ether() == 40 * ETH + DEAD_SHARES

    lst.token.approve(staker, lst.wrapper.address, 10 * ETH)
    lst.wrapper.wrap(staker, 10 * ETH)
    assert lst.wrapper.balance_of(staker.address) == 10 * ETH  # rate 1: one share per divETH
    lst.wrapper.unwrap(staker, 10 * ETH)
    assert lst.token.balance_of(staker.address) == 40 * ETH

    (request_id,) = lst.queue.request_ids(lst.queue.request_withdrawals(staker, [2 * ETH]))
    assert lst.queue.request(request_id).finalized is False
    with pytest.raises(TransactionReverted) as raised:
        lst.queue.claim(staker, request_id)
    assert raised.value.reason == "queue: request not finalized"

    # 32 ETH go to the beacon chain, which credits them and earns 0.005 ETH in a day.
    lst.pool.withdraw_for_deposit(depositor, 32 * ETH)
    assert backend.balance_of(depositor.address) == 33 * ETH
    backend.increase_time(DAY)
    report = lst.pool.report(oracle, 32 * ETH + 5 * 10**15, 1, 32 * ETH)
    rebase = report.event("TokenRebased")
    assert rebase["post_total_ether"] == 40 * ETH + DEAD_SHARES + 5 * 10**15
    assert rebase["shares_minted_as_fees"] > 0
    assert lst.rate() > 1
    assert report.event("BeaconReported")["finalized_to"] == request_id

    request = lst.queue.request(request_id)
    assert request.finalized and not request.claimed
    before = backend.balance_of(staker.address)
    lst.queue.claim(staker, request_id)
    assert backend.balance_of(staker.address) == before + request.ether
    # Requested at rate 1, finalized after the rate rose: the request-time amount is paid.
    assert request.ether == 2 * ETH
    assert lst.queue.request(request_id).claimed
    assert Fraction(lst.token.balance_of(staker.address), 38 * ETH) > 1


def test_roles_are_enforced(backend: Backend):
    lst = deploy_diva_lst(backend)
    stranger = backend.new_account(ETH)
    with pytest.raises(TransactionReverted) as raised:
        lst.pool.report(stranger, 0, 0, 0)
    assert raised.value.reason == "pool: caller lacks ORACLE_ROLE"
    with pytest.raises(ValueError, match="unknown role"):
        role_id("KING_ROLE")
