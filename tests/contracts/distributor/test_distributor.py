"""Distributor vaults: weights, rebalance, queued redeems, slashing pass-through, fees,
receipts, manager rights and the ERC-4626 rounding rules, on the real restaking stack."""

from __future__ import annotations

import boa

from .conftest import BPS, ETHER, WAD, Dist, deployers


def _deposit(d: Dist, lrt, holder: str, amount: int) -> int:
    with boa.env.prank(holder):
        return lrt.deposit(amount, holder)


def test_deposit_spreads_by_weight(dist: Dist):
    ops = dist.operators(3)
    lrt = dist.create(ops, [5_000, 3_000, 2_000])
    h = dist.holder("h", lrt)
    shares = _deposit(dist, lrt, h, 10 * ETHER)
    assert shares == lrt.balanceOf(h) > 0
    values = [dist.vault.value_of(lrt.accounts(i)) for i in range(3)]
    assert values == [5 * ETHER, 3 * ETHER, 2 * ETHER]
    assert [dist.vault.delegated_to(lrt.accounts(i)) for i in range(3)] == ops
    assert lrt.totalAssets() == 10 * ETHER


def test_bad_creation_reverts(dist: Dist):
    ops = dist.operators(2)
    with boa.reverts("weights must sum to 10000"):
        dist.create(ops, [5_000, 4_000])
    with boa.reverts("one weight per operator"):
        dist.create(ops, [10_000])
    with boa.reverts("duplicate operator"):
        dist.create([ops[0], ops[0]], [5_000, 5_000])
    with boa.reverts("fee above maximum"):
        dist.create(ops, [5_000, 5_000], fee_bps=1_001)
    with boa.reverts("no operators"):
        dist.create([], [])
    with boa.reverts("not an operator"):
        lrt = dist.create([dist.upper.account("nobody")], [10_000])
        _deposit(dist, lrt, dist.holder("h", lrt), ETHER)


def test_factory_registers(dist: Dist):
    lrt = dist.create(dist.operators(1), [10_000])
    assert dist.factory.distributor_count() == 1
    assert dist.factory.distributors(0) == lrt.address
    assert dist.factory.is_distributor(lrt.address)
    assert lrt.manager() == dist.manager


def test_rebalance_moves_stake_toward_weights(dist: Dist):
    ops = dist.operators(2)
    lrt = dist.create(ops, [10_000, 0])
    h = dist.holder("h", lrt)
    _deposit(dist, lrt, h, 10 * ETHER)
    with boa.env.prank(dist.manager):
        lrt.set_weights([5_000, 5_000])
        lrt.rebalance()
    assert lrt.totalAssets() == 10 * ETHER  # queued stake still counts
    with boa.reverts("withdrawal delay not passed"):
        lrt.finish_rebalance()
    with boa.env.prank(dist.manager), boa.reverts("rebalance in progress"):
        lrt.rebalance()
    with boa.env.prank(h), boa.reverts("rebalance in progress"):
        lrt.request_redeem(1)
    dist.delay()
    lrt.finish_rebalance()
    assert [dist.vault.value_of(lrt.accounts(i)) for i in range(2)] == [5 * ETHER, 5 * ETHER]
    assert lrt.totalAssets() == 10 * ETHER
    with boa.reverts("no rebalance in progress"):
        lrt.finish_rebalance()


def test_request_and_complete_redeem_after_delay(dist: Dist):
    ops = dist.operators(2)
    lrt = dist.create(ops, [6_000, 4_000])
    h = dist.holder("h", lrt)
    other = dist.holder("other", lrt)
    shares = _deposit(dist, lrt, h, 10 * ETHER)
    _deposit(dist, lrt, other, 10 * ETHER)
    before = dist.wdiv.balanceOf(h)
    with boa.env.prank(h):
        rid = lrt.request_redeem(shares)
    assert lrt.balanceOf(h) == 0
    assert lrt.request_value(rid) <= 10 * ETHER
    assert 10 * ETHER - lrt.request_value(rid) <= 2
    assert lrt.totalAssets() >= 10 * ETHER
    with boa.reverts("withdrawal delay not passed"):
        lrt.complete_redeem(rid)
    dist.delay()
    paid = lrt.complete_redeem(rid)
    assert dist.wdiv.balanceOf(h) - before == paid
    assert 10 * ETHER - paid <= 2
    with boa.reverts("unknown request"):
        lrt.complete_redeem(rid)


def test_third_party_cannot_strand_a_redeem_request(dist: Dist):
    ops = dist.operators(2)
    lrt = dist.create(ops, [5_000, 5_000])
    h = dist.holder("h", lrt)
    _deposit(dist, lrt, h, 4 * ETHER)
    with boa.env.prank(h):
        rid = lrt.request_redeem(lrt.balanceOf(h))
    last = dist.vault.withdrawal_count()
    dist.delay()
    before = dist.wdiv.balanceOf(h)
    with boa.env.prank(dist.upper.account("griefer")):
        for wid in (last - 1, last):  # the request's two slices, one per sub-account
            with boa.reverts("caller is not the restaker"):
                dist.vault.complete_withdrawal(wid)
        paid = lrt.complete_redeem(rid)  # anyone may still complete the request itself
    assert 4 * ETHER - paid <= 2
    assert dist.wdiv.balanceOf(h) - before == paid


def test_request_redeem_bad_input(dist: Dist):
    lrt = dist.create(dist.operators(1), [10_000])
    h = dist.holder("h", lrt)
    shares = _deposit(dist, lrt, h, ETHER)
    with boa.env.prank(h):
        with boa.reverts("zero shares"):
            lrt.request_redeem(0)
        with boa.reverts("not enough shares"):
            lrt.request_redeem(shares + 1)


def test_slash_of_one_operator_lowers_share_price_pro_rata(dist: Dist):
    ops = dist.operators(2)
    lrt = dist.create(ops, [5_000, 5_000])
    a, b = dist.holder("a", lrt), dist.holder("b", lrt)
    sa = _deposit(dist, lrt, a, 6 * ETHER)
    sb = _deposit(dist, lrt, b, 2 * ETHER)
    # a direct restaker of the other operator is untouched
    r = dist.upper.restaker("direct")
    dist.upper.deposit(r, ETHER, ops[1])
    with boa.env.prank(a):
        rid = lrt.request_redeem(sa // 2)  # half of a's stake sits queued during the slash
    queued_before = lrt.request_value(rid)
    assets_before = lrt.totalAssets()
    dist.slash(ops[0], WAD // 10)  # 10 % of operator 0, which holds half of everything
    assert dist.vault.value_of(r) == ETHER
    loss = assets_before - lrt.totalAssets()
    assert abs(loss - assets_before // 20) <= 2  # 5 % of the vault's assets
    assert abs((queued_before - lrt.request_value(rid)) - queued_before // 20) <= 2
    # both holders lose the same fraction of their value
    va, vb = lrt.convertToAssets(lrt.balanceOf(a)), lrt.convertToAssets(sb)
    assert abs(va - 3 * ETHER * 95 // 100) <= 2
    assert abs(vb - 2 * ETHER * 95 // 100) <= 2


def test_non_transferable_receipts(dist: Dist):
    lrt = dist.create(dist.operators(1), [10_000], transferable=False)
    h = dist.holder("h", lrt)
    _deposit(dist, lrt, h, ETHER)
    x = dist.upper.account("x")
    with boa.env.prank(h):
        with boa.reverts("receipts are not transferable"):
            lrt.transfer(x, 1)
        lrt.approve(x, 1)
    with boa.env.prank(x), boa.reverts("receipts are not transferable"):
        lrt.transferFrom(h, x, 1)
    assert not lrt.transferable()


def test_transferable_receipts(dist: Dist):
    lrt = dist.create(dist.operators(1), [10_000])
    h = dist.holder("h", lrt)
    shares = _deposit(dist, lrt, h, ETHER)
    x = dist.upper.account("x")
    with boa.env.prank(h):
        lrt.transfer(x, shares)
    assert lrt.balanceOf(x) == shares


def test_deposit_fee_goes_to_manager(dist: Dist):
    lrt = dist.create(dist.operators(2), [5_000, 5_000], fee_bps=100)
    h = dist.holder("h", lrt)
    preview = lrt.previewDeposit(10 * ETHER)
    shares = _deposit(dist, lrt, h, 10 * ETHER)
    assert shares == preview
    assert dist.wdiv.balanceOf(dist.manager) == ETHER // 10
    assert lrt.total_fees() == ETHER // 10
    assert lrt.totalAssets() == 10 * ETHER - ETHER // 10
    assert lrt.total_deposited() == 10 * ETHER
    # mint charges at least the fee-inclusive preview
    need = lrt.previewMint(ETHER)
    with boa.env.prank(h):
        taken = lrt.mint(ETHER, h)
    assert taken == need
    assert need * (BPS - 100) // BPS <= lrt.convertToAssets(ETHER) + 2


def test_manager_only(dist: Dist):
    lrt = dist.create(dist.operators(2), [5_000, 5_000])
    x = dist.upper.account("x")
    with boa.env.prank(x):
        for call in (
            lambda: lrt.set_weights([10_000, 0]),
            lambda: lrt.rebalance(),
            lambda: lrt.set_fee(10),
            lambda: lrt.set_manager(x),
        ):
            with boa.reverts("not the manager"):
                call()
    with boa.env.prank(dist.manager):
        with boa.reverts("weights must sum to 10000"):
            lrt.set_weights([1, 2])
        lrt.set_fee(10)
        lrt.set_manager(x)
    assert lrt.manager() == x and lrt.fee_bps() == 10


def test_sub_accounts_only_obey_their_distributor(dist: Dist):
    lrt = dist.create(dist.operators(1), [10_000])
    account = deployers()["DistributorAccount"].at(lrt.accounts(0))
    with boa.env.prank(dist.upper.account("x")):
        with boa.reverts("not the distributor"):
            account.queue(1)
        with boa.reverts("already initialized"):
            account.initialize(dist.vault.address, dist.wdiv.address, dist.manager)


def test_erc4626_previews_favour_the_vault_and_max_never_reverts(dist: Dist):
    lrt = dist.create(dist.operators(2), [7_000, 3_000])
    h = dist.holder("h", lrt)
    stranger = dist.upper.account("stranger")
    assert lrt.maxWithdraw(stranger) == 0 and lrt.maxRedeem(stranger) == 0
    _deposit(dist, lrt, h, 3 * ETHER + 7)
    dist.slash(lrt.operators(0), WAD // 3)  # an uneven price
    for amount in (1, 3, 10**9 + 1, ETHER + 13):
        assert lrt.previewDeposit(amount) <= lrt.convertToShares(amount)
        assert lrt.previewMint(amount) >= lrt.convertToAssets(amount)
        assert lrt.previewWithdraw(amount) >= lrt.convertToShares(amount)
        assert lrt.previewRedeem(amount) <= lrt.convertToAssets(amount)
        # a round trip never profits
        assert lrt.previewRedeem(lrt.previewDeposit(amount)) <= amount
        assert lrt.previewMint(lrt.previewWithdraw(amount)) >= amount
    # everything is restaked: nothing is instantly available, and max* say so
    assert lrt.maxWithdraw(h) == 0 and lrt.maxRedeem(h) == 0
    with boa.env.prank(h), boa.reverts("zero amount"):
        lrt.redeem(lrt.maxRedeem(h), h, h)
    assert lrt.maxDeposit(h) == 2**256 - 1 and lrt.maxMint(h) == 2**256 - 1


def test_instant_exit_serves_idle_only(dist: Dist):
    ops = dist.operators(2)
    lrt = dist.create(ops, [10_000, 0])
    h = dist.holder("h", lrt)
    _deposit(dist, lrt, h, 10 * ETHER)
    with boa.env.prank(dist.manager):
        lrt.set_weights([0, 10_000])
        lrt.rebalance()
    dist.delay()
    # keep the stake idle: finish while operator 1 refuses new restakers
    with boa.env.prank(ops[1]):
        dist.vault.set_requires_approval(True)
    with boa.reverts("operator approval required"):
        lrt.finish_rebalance()
    with boa.env.prank(ops[1]):
        dist.vault.set_requires_approval(False)
    lrt.finish_rebalance()
    assert lrt.idle() == 0
    assert lrt.maxWithdraw(h) == 0
    with boa.env.prank(h), boa.reverts("not enough idle assets: use request_redeem"):
        lrt.withdraw(1, h, h)
