"""NetworkRegistry with two RestakingVaults: wdivETH (vault 0) and a native nETH stand-in.

The second vault is a real deployment of contracts/restaking/RestakingVault.vy over a snekmate
ERC-20 (conftest.add_native_vault). A network's accepted assets choose its vaults: stake is
the ETH value summed over them, a slash takes the same fraction in each (active and queued),
rewards are split per (vault, operator) by ETH value.
"""

from __future__ import annotations

import boa
import pytest

from .conftest import add_native_vault, restaking_fixtures

F = restaking_fixtures()
ETHER, WAD, VETO, UNBONDING, BURN = F.ETHER, F.WAD, F.VETO, F.UNBONDING, F.BURN


def _now() -> int:
    return boa.env.evm.patch.timestamp


def _both(u, native, **terms):
    return u.network("both", accepted_assets=[u.wdiv.address, native.neth.address], **terms)


def _raise_wdiv_rate(u) -> int:
    """A real oracle report crediting beacon rewards: 1 wdivETH is then worth > 1 ETH."""
    u.ops.lst.report(ETHER // 100)
    rate = u.wdiv.convertToAssets(WAD)
    assert rate > WAD
    return rate


# ------------------------------------------------------------------ governance and terms


def test_add_vault_bad_input(upper, native):
    reg = upper.registry
    assert reg.vault_count() == 2
    assert reg.vaults(1) == native.vault.address
    assert reg.vault_of_asset(native.neth.address) == native.vault.address
    assert reg.vault_priced_by_4626(0) and not reg.vault_priced_by_4626(1)
    d = F.deployers()
    with boa.env.prank(upper.admin):
        token = d["RewardToken"].deploy("Network reward", "X")
        loose = d["RestakingVault"].deploy(token.address, upper.ops.operators.address, 0)
    with boa.env.prank(upper.account("nobody")), boa.reverts("not governance"):
        reg.add_vault(loose.address, False)
    with boa.env.prank(upper.admin):
        with boa.reverts("vault not wired to this registry"):
            reg.add_vault(loose.address, False)
        with boa.reverts("vault already added"):
            reg.add_vault(native.vault.address, False)
        with boa.reverts("vault already added"):
            reg.add_vault(upper.vault.address, True)
        same_asset = d["RestakingVault"].deploy(native.neth.address, upper.ops.operators.address, 0)
        same_asset.set_network_registry(reg.address)
        with boa.reverts("asset already has a vault"):
            reg.add_vault(same_asset.address, False)
    add_native_vault(upper, "V2")
    add_native_vault(upper, "V3")
    assert reg.vault_count() == 4
    with boa.reverts("too many vaults"):
        add_native_vault(upper, "V4")


def test_terms_select_known_vaults_and_stay_fixed(upper, native):
    with boa.reverts("unknown asset"):
        upper.network("bad", accepted_assets=[native.neth.address, upper.account("stranger")])
    with boa.reverts("reward token is the restaked asset"), boa.env.prank(upper.account("n")):
        upper.registry.register_network(
            upper.terms(upper.account("s"), upper.account("v")), native.neth.address
        )
    net = _both(upper, native)
    only_native = upper.network("native", accepted_assets=[native.neth.address])
    assert upper.registry.network_vaults(net.address) == 0b11
    assert upper.registry.network_vaults(only_native.address) == 0b10
    with boa.env.prank(net.address), boa.reverts("accepted assets are fixed"):
        upper.registry.propose_terms(upper.terms(net.slasher, net.resolver))
    with boa.env.prank(net.address):  # same set, other order: accepted
        upper.registry.propose_terms(
            upper.terms(
                net.slasher, net.resolver, accepted_assets=[native.neth.address, upper.wdiv.address]
            )
        )


# ------------------------------------------------------------------ stake


def test_min_stake_and_stake_at_sum_both_vaults(upper, native):
    op = upper.operator("op")
    upper.deposit(upper.restaker("r"), ETHER, op)
    native.deposit(native.restaker("n", 10 * ETHER), ETHER, op)
    rate = _raise_wdiv_rate(upper)
    wdiv_only = upper.network("wdiv", min_stake=ETHER * 3 // 2)
    net = _both(upper, native, min_stake=2 * ETHER)
    with boa.env.prank(op), boa.reverts("stake below network minimum"):
        upper.registry.opt_in(wdiv_only.address)
    upper.join(net, op, WAD // 2)
    t1 = _now()
    boa.env.time_travel(seconds=10)
    native.deposit(native.restaker("n2", 10 * ETHER), 2 * ETHER, op)
    t2 = _now()
    boa.env.time_travel(seconds=10)
    eth_of_wdiv = upper.wdiv.convertToAssets(ETHER)
    assert eth_of_wdiv == ETHER * rate // WAD
    assert upper.registry.stake_at(net.address, op, t1) == (eth_of_wdiv + ETHER) // 2
    assert upper.registry.stake_at(net.address, op, t2) == (eth_of_wdiv + 3 * ETHER) // 2
    # opted in: each accepted vault opened a reward accumulator for this network
    assert upper.vault.generation(net.address, op) == native.vault.generation(net.address, op) == 1


# ------------------------------------------------------------------ slashing


def _slash_setup(u, native):
    op = u.operator("op")
    r = u.restaker("r")
    u.deposit(r, 10 * ETHER, op)
    n = native.restaker("n", 20 * ETHER)
    native.deposit(n, 20 * ETHER, op)
    with boa.env.prank(n):
        wid = native.vault.queue_withdrawal(native.vault.shares(n) // 2)
    net = _both(u, native)
    u.join(net, op, WAD // 2)
    return op, r, n, wid, net


def test_slash_takes_the_same_fraction_in_both_vaults(upper, native):
    op, r, n, wid, net = _slash_setup(upper, native)
    with boa.env.prank(net.slasher):
        rid = upper.registry.request_slash(op, WAD // 5, b"\x01" * 32)  # 20% × 50% = 10%
    assert upper.registry.reservation(rid, 0)[:2] == (ETHER, 0)
    assert upper.registry.reservation(rid, 1)[:2] == (ETHER, ETHER)  # active and queued
    assert upper.registry.request(rid)[2:4] == (ETHER, 0)
    assert native.vault.active_pool(op)[2] == native.vault.queued_pool(op, 0)[2] == ETHER
    # a deposit after the request does not pay for it, in either vault
    late = native.restaker("late", ETHER)
    native.deposit(late, ETHER, op)
    boa.env.time_travel(seconds=VETO)
    upper.registry.execute_slash(rid)
    assert upper.wdiv.balanceOf(BURN) == ETHER
    assert native.neth.balanceOf(BURN) == 2 * ETHER
    assert upper.vault.value_of(r) == pytest.approx(9 * ETHER, abs=10)
    assert native.vault.value_of(n) == pytest.approx(9 * ETHER, abs=10)
    assert native.vault.withdrawal_value(wid) == pytest.approx(9 * ETHER, abs=10)
    assert native.vault.value_of(late) == pytest.approx(ETHER, abs=10)


def test_veto_releases_every_vault(upper, native):
    op, _r, n, _wid, net = _slash_setup(upper, native)
    with boa.env.prank(net.slasher):
        rid = upper.registry.request_slash(op, WAD // 5, b"\x02" * 32)
    with boa.env.prank(net.resolver):
        upper.registry.veto_slash(rid)
    assert upper.vault.active_pool(op)[2] == native.vault.active_pool(op)[2] == 0
    assert native.vault.queued_pool(op, 0)[2] == 0
    assert native.vault.value_of(n) == pytest.approx(10 * ETHER, abs=10)


def test_equivocation_slashes_both_vaults(upper, native):
    op, _r, _n, wid, net = _slash_setup(upper, native)
    upper.bls_key(net, op)
    ma, mb = b"\x09" * 32 + b"result: 1", b"\x09" * 32 + b"result: 2"
    amount = upper.registry.slash_equivocation(
        net.address, op, ma, upper.sign(op, ma), mb, upper.sign(op, mb)
    )
    assert amount == 5 * ETHER // 2 + 5 * ETHER  # 25% of 10 wdivETH and of 20 nETH
    assert native.vault.withdrawal_value(wid) == pytest.approx(ETHER * 75 // 10, abs=10)


def test_network_accepting_one_asset_ignores_the_other_vault(upper, native):
    op, _r, n, _wid, _ = _slash_setup(upper, native)
    wdiv_net = upper.network("wdiv-only")
    upper.join(wdiv_net, op, WAD // 2)
    assert native.vault.generation(wdiv_net.address, op) == 0  # no accumulator there
    assert upper.registry.stake_at(wdiv_net.address, op, _now()) == 5 * ETHER
    with boa.env.prank(wdiv_net.slasher):
        rid = upper.registry.request_slash(op, WAD // 2, b"\x03" * 32)
    assert upper.registry.reservation(rid, 1) == (0, 0, 0)
    boa.env.time_travel(seconds=VETO)
    upper.registry.execute_slash(rid)
    assert native.neth.balanceOf(BURN) == 0
    assert native.vault.value_of(n) == pytest.approx(10 * ETHER, abs=10)
    with boa.env.prank(wdiv_net.address):
        upper.registry.fund_epoch(100 * ETHER)
    assert wdiv_net.token.balanceOf(native.vault.address) == 0
    assert wdiv_net.token.balanceOf(upper.vault.address) == 100 * ETHER


# ------------------------------------------------------------------ rewards


def test_rewards_split_by_eth_value_per_vault(upper, native):
    a, b = upper.operator("a"), upper.operator("b")
    r = upper.restaker("r")
    upper.deposit(r, 4 * ETHER, a)
    na, nb = native.restaker("na", 10 * ETHER), native.restaker("nb", 10 * ETHER)
    native.deposit(na, ETHER, a)
    native.deposit(nb, 2 * ETHER, b)
    rate = _raise_wdiv_rate(upper)
    net = _both(upper, native)
    upper.join(net, a, WAD)
    upper.join(net, b, WAD)
    amount = 1_000 * ETHER
    with boa.env.prank(net.address):
        upper.registry.fund_epoch(amount)
    token = net.token
    total = 4 * rate + 3 * WAD  # ETH value (× WAD) of 4 wdivETH + 1 + 2 nETH
    expected = {
        (upper.vault, a, r): amount * 4 * rate // total,
        (native.vault, a, na): amount * WAD // total,
        (native.vault, b, nb): amount * 2 * WAD // total,
    }
    for (vault, op, holder), owed in expected.items():
        key = vault.reward_key(token.address, net.address, op)
        assert vault.claimable(key, holder, op) == pytest.approx(owed, rel=1e-12)
    # every token landed in one of the two vaults; the remainder is reclaimable from vault 0
    assert token.balanceOf(upper.vault.address) + token.balanceOf(native.vault.address) == amount
    assert token.balanceOf(native.vault.address) == native.vault.rewards_funded(token.address)
    assert native.vault.unallocated(token.address, net.address) < 10
    gen = native.vault.generation(net.address, b)
    with boa.env.prank(nb):
        native.vault.claim(token.address, net.address, b, gen)
    assert token.balanceOf(nb) == pytest.approx(expected[(native.vault, b, nb)], rel=1e-12)
