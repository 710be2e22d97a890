"""NetworkRegistry: terms, opt-in/out, allocations, stake_at, slashing, equivocation, rewards."""

from __future__ import annotations

import boa
import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak

from nektar.chain.restaking import g1_uncompressed, g2_uncompressed
from nektar.crypto import bls

from .conftest import restaking_fixtures

F = restaking_fixtures()
ETHER, WAD, DAY, VETO = F.ETHER, F.WAD, F.DAY, F.VETO
UNBONDING, ALLOCATION_DELAY, TERMS_DELAY, BURN = (
    F.UNBONDING,
    F.ALLOCATION_DELAY,
    F.TERMS_DELAY,
    F.BURN,
)


def _now() -> int:
    return boa.env.evm.patch.timestamp


def _staked(u, fraction: int = WAD // 2, **terms):
    """A network, an operator allocated `fraction` to it, and a restaker with 10 wdivETH."""
    op = u.operator("op")
    net = u.network("net", **terms)
    r = u.restaker("r")
    u.deposit(r, 10 * ETHER, op)
    u.join(net, op, fraction)
    return net, op, r


# ------------------------------------------------------------------ networks and terms


def test_register_and_bad_terms(upper):
    net = upper.network("net")
    assert upper.registry.reward_token(net.address) == net.token.address
    assert upper.registry.network_of_slasher(net.slasher) == net.address
    with boa.env.prank(net.address), boa.reverts("network already registered"):
        upper.registry.register_network(upper.terms(net.slasher, net.resolver), net.token.address)
    other = upper.account("other")
    bad = {
        "unknown asset": {"accepted_assets": [net.token.address]},
        "restaked asset not accepted": {"accepted_assets": []},
        "duplicate asset": {"accepted_assets": [upper.wdiv.address] * 2},
        "max slash above 100%": {"max_slash": WAD + 1},
        "bad max operators": {"max_operators": 0},
        "veto window not shorter than unbonding": {"veto_window": UNBONDING},
    }
    with boa.env.prank(other):
        for reason, change in bad.items():
            with boa.reverts(reason):
                upper.registry.register_network(
                    upper.terms(upper.account("s"), upper.account("v"), **change), net.token.address
                )
        with boa.reverts("slasher already used"):
            upper.registry.register_network(upper.terms(net.slasher, other), net.token.address)
        with boa.reverts("reward token is the restaked asset"):
            upper.registry.register_network(
                upper.terms(upper.account("s2"), other), upper.wdiv.address
            )


def test_whitelist_is_optional(upper):
    with boa.env.prank(upper.admin):
        upper.registry.set_whitelist(True)
    with boa.reverts("network not whitelisted"):
        upper.network("net")
    address = upper.account("net2")
    with boa.env.prank(upper.admin):
        upper.registry.whitelist(address, True)
    with boa.reverts("not governance"):
        upper.registry.set_whitelist(False)
    upper.network("net2", address=address)


def test_terms_change_only_after_delay(upper):
    net = upper.network("net")
    new_slasher = upper.account("new-slasher")
    with boa.env.prank(net.address):
        upper.registry.propose_terms(upper.terms(new_slasher, net.resolver, unbonding=20 * DAY))
    with boa.reverts("terms delay not passed"):
        upper.registry.apply_terms(net.address)
    boa.env.time_travel(seconds=TERMS_DELAY)
    upper.registry.apply_terms(net.address)
    assert upper.registry.terms(net.address)[4] == 20 * DAY
    assert upper.registry.network_of_slasher(new_slasher) == net.address
    assert upper.registry.network_of_slasher(net.slasher) == "0x" + "00" * 20
    with boa.reverts("no pending terms"):
        upper.registry.apply_terms(net.address)
    with boa.env.prank(upper.account("x")), boa.reverts("unknown network"):
        upper.registry.propose_terms(upper.terms(new_slasher, net.resolver))


# ------------------------------------------------------------------ opt-in and allocations


def test_opt_in_rules(upper):
    net = upper.network("net", max_operators=1, min_stake=ETHER)
    a, b = upper.operator("a"), upper.operator("b")
    with boa.env.prank(upper.account("nobody")), boa.reverts("not an operator"):
        upper.registry.opt_in(net.address)
    with boa.env.prank(a), boa.reverts("unknown network"):
        upper.registry.opt_in(upper.account("nowhere"))
    with boa.env.prank(a), boa.reverts("stake below network minimum"):
        upper.registry.opt_in(net.address)
    for op in (a, b):
        upper.deposit(upper.restaker(f"r-{op}"), ETHER, op)
    with boa.env.prank(a):
        upper.registry.opt_in(net.address)
    with boa.env.prank(a), boa.reverts("already opted in"):
        upper.registry.opt_in(net.address)
    with boa.env.prank(b), boa.reverts("network full"):
        upper.registry.opt_in(net.address)
    assert upper.registry.operators_of(net.address) == [a]


def test_allocations_delays_and_cap(upper):
    n1, n2 = upper.network("n1"), upper.network("n2")
    op = upper.operator("op")
    with boa.env.prank(op), boa.reverts("operator not opted in"):
        upper.registry.allocate(n1.address, WAD // 2)
    with boa.env.prank(op):
        upper.registry.opt_in(n1.address)
        upper.registry.opt_in(n2.address)
        upper.registry.allocate(n1.address, WAD * 6 // 10)
        with boa.reverts("allocations exceed 100%"):  # the pending increase counts
            upper.registry.allocate(n2.address, WAD // 2)
        upper.registry.allocate(n2.address, WAD * 4 // 10)
        with boa.reverts("allocation change pending"):
            upper.registry.allocate(n1.address, WAD // 2)
    assert upper.registry.allocation(n1.address, op) == 0
    boa.env.time_travel(seconds=ALLOCATION_DELAY)
    assert upper.registry.allocation(n1.address, op) == WAD * 6 // 10
    with boa.env.prank(op):
        upper.registry.allocate(n1.address, WAD // 10)  # decrease: after unbonding
    boa.env.time_travel(seconds=UNBONDING - 1)
    assert upper.registry.allocation(n1.address, op) == WAD * 6 // 10
    boa.env.time_travel(seconds=1)
    assert upper.registry.allocation(n1.address, op) == WAD // 10
    assert upper.registry.encumbered(op) == WAD // 2


def test_stake_at_is_checkpointed(upper):
    net, op, r = _staked(upper)
    t1 = _now()
    boa.env.time_travel(seconds=10)
    upper.deposit(r, 10 * ETHER, op)
    t2 = _now()
    boa.env.time_travel(seconds=10)
    assert upper.registry.stake_at(net.address, op, t1) == 5 * ETHER
    assert upper.registry.stake_at(net.address, op, t2) == 10 * ETHER
    assert upper.registry.stake_at(net.address, op, t1 - ALLOCATION_DELAY - 1) == 0


def test_opt_out_after_unbonding(upper):
    net, op, _ = _staked(upper)
    with boa.env.prank(op), boa.reverts("opt-out not requested"):
        upper.registry.opt_out(net.address)
    with boa.env.prank(op):
        upper.registry.request_opt_out(net.address)
    assert upper.registry.allocation(net.address, op) == WAD // 2  # still slashable
    boa.env.time_travel(seconds=UNBONDING - 1)
    with boa.env.prank(op), boa.reverts("unbonding not passed"):
        upper.registry.opt_out(net.address)
    boa.env.time_travel(seconds=1)
    with boa.env.prank(op):
        upper.registry.opt_out(net.address)
    assert upper.registry.allocation(net.address, op) == 0
    assert upper.registry.operators_of(net.address) == []
    assert upper.registry.max_unbonding(op) == 0


# ------------------------------------------------------------------ slashing


def test_veto_flow_and_bad_input(upper):
    net, op, r = _staked(upper)
    with boa.env.prank(upper.account("x")), boa.reverts("not a slasher"):
        upper.registry.request_slash(op, WAD // 10, b"\x01" * 32)
    with boa.env.prank(net.slasher):
        with boa.reverts("operator not opted in"):
            upper.registry.request_slash(upper.operator("other"), WAD // 10, b"\x01" * 32)
        with boa.reverts("fraction above network maximum"):
            upper.registry.request_slash(op, WAD // 2 + 1, b"\x01" * 32)
        rid = upper.registry.request_slash(op, WAD // 10, b"\x01" * 32)
        with boa.reverts("evidence already used"):
            upper.registry.request_slash(op, WAD // 10, b"\x01" * 32)
    assert upper.vault.value_of(r) == 10 * ETHER - ETHER // 2  # reserved at once
    with boa.reverts("veto window open"):
        upper.registry.execute_slash(rid)
    with boa.reverts("not the resolver"):
        upper.registry.veto_slash(rid)
    with boa.env.prank(net.resolver):
        upper.registry.veto_slash(rid)
    assert upper.vault.value_of(r) == 10 * ETHER
    with boa.reverts("slash not pending"):
        upper.registry.execute_slash(rid)
    with boa.env.prank(net.slasher):
        rid2 = upper.registry.request_slash(op, WAD // 10, b"\x02" * 32)
    boa.env.time_travel(seconds=VETO)
    with boa.env.prank(net.resolver), boa.reverts("veto window closed"):
        upper.registry.veto_slash(rid2)
    upper.registry.execute_slash(rid2)
    assert upper.wdiv.balanceOf(BURN) == ETHER // 2
    assert upper.vault.value_of(r) == 10 * ETHER - ETHER // 2


def test_slash_to_network(upper):
    net, op, _ = _staked(upper, slash_to_network=True)
    with boa.env.prank(net.slasher):
        rid = upper.registry.request_slash(op, WAD // 2, b"\x03" * 32)
    boa.env.time_travel(seconds=VETO)
    upper.registry.execute_slash(rid)
    assert upper.wdiv.balanceOf(net.address) == ETHER * 5 // 2


def test_execute_slash_gas_is_independent_of_restakers(upper):
    gas = []
    for count in (1, 40):
        with boa.env.anchor():
            op = upper.operator("op")
            net = upper.network("net")
            for i in range(count):
                upper.deposit(upper.restaker(f"r{i}", 2 * ETHER), ETHER, op)
            upper.join(net, op, WAD)
            with boa.env.prank(net.slasher):
                rid = upper.registry.request_slash(op, WAD // 10, b"\x04" * 32)
            boa.env.time_travel(seconds=VETO)
            upper.registry.execute_slash(rid)
            gas.append(upper.registry._computation.get_gas_used())
    assert gas[0] == gas[1]


# ------------------------------------------------------------------ equivocation (real BLS)


def _conflict(u, op):
    a = b"\x09" * 32 + b"result: 42"
    b = b"\x09" * 32 + b"result: 43"
    return a, u.sign(op, a), b, u.sign(op, b)


def test_equivocation_slashes_without_veto(upper):
    net, op, r = _staked(upper)
    upper.bls_key(net, op)
    ma, sa, mb, sb = _conflict(upper, op)
    assert bls.verify(bls.sk_to_pk(upper.bls_keys[op]), ma, bls.sign(upper.bls_keys[op], ma))
    amount = upper.registry.slash_equivocation(net.address, op, ma, sa, mb, sb)
    assert amount == ETHER * 5 // 2  # max 50% of the 50% allocated of 10
    assert upper.vault.value_of(r) == 10 * ETHER - amount
    with boa.reverts("evidence already used"):
        upper.registry.slash_equivocation(net.address, op, ma, sa, mb, sb)
    # proofs and requests have separate evidence namespaces: neither can pre-empt the other
    proof_key = keccak(abi_encode(["address", "bytes32"], [op, ma[:32]]))
    with boa.env.prank(net.slasher):
        upper.registry.request_slash(op, WAD // 10, proof_key)


def test_equivocation_bad_input(upper):
    net, op, _ = _staked(upper)
    with boa.reverts("no BLS key for operator"):
        upper.registry.slash_equivocation(net.address, op, b"\x00" * 33, b"", b"\x00" * 33, b"")
    upper.bls_key(net, op)
    ma, sa, mb, sb = _conflict(upper, op)
    reg = upper.registry
    with boa.reverts("no conflict"):
        reg.slash_equivocation(net.address, op, ma, sa, ma, sa)
    with boa.reverts("different tasks"):
        other = b"\x0a" * 32 + b"result: 43"
        reg.slash_equivocation(net.address, op, ma, sa, other, upper.sign(op, other))
    with boa.reverts("message without task id"):
        reg.slash_equivocation(net.address, op, b"short", sa, mb, sb)
    bad = bytearray(sa)
    bad[100] ^= 1  # off the curve
    with boa.reverts("malformed BLS point"):
        reg.slash_equivocation(net.address, op, ma, bytes(bad), mb, sb)
    with boa.reverts("malformed BLS point"):
        reg.slash_equivocation(net.address, op, ma, sa, mb, sb[:200])
    with boa.reverts("unknown network"):
        reg.slash_equivocation(upper.account("x"), op, ma, sa, mb, sb)
    with boa.reverts("operator not opted in"):
        reg.slash_equivocation(net.address, upper.account("y"), ma, sa, mb, sb)
    stranger = bls.keygen(b"\x05" * 32)  # a valid signature by another key
    with boa.reverts("invalid signature"):
        reg.slash_equivocation(net.address, op, ma, g2_uncompressed(bls.sign(stranger, ma)), mb, sb)


def test_bls_key_registration_rejects_malformed_points(upper):
    net, op, _ = _staked(upper)
    good = g1_uncompressed(bls.sk_to_pk(7))
    with boa.env.prank(net.address):
        for bad in (b"\x00" * 128, good[:64] + bytes(64), good[:127] + bytes([good[127] ^ 1])):
            with boa.reverts("malformed BLS point"):
                upper.registry.register_bls_key(op, bad)
        with boa.reverts("operator not opted in"):
            upper.registry.register_bls_key(upper.account("z"), good)


def test_contract_hash_to_curve_matches_crypto_core(upper):
    """The contract's RFC 9380 hash equals blst's (checked through a signature)."""
    harness = boa.load(F.ROOT / "tests" / "contracts" / "marketplace" / "BlsHarness.vy")
    sk = bls.keygen(b"\x06" * 32)
    pk = g1_uncompressed(bls.sk_to_pk(sk))
    m1, m2 = b"", bytes(range(200))  # lengths 0 and 200: one and two padding blocks
    sig1, sig2 = bls.sign(sk, m1), bls.sign(sk, m2)
    assert harness.verify_two(pk, m1, g2_uncompressed(sig1), m2, g2_uncompressed(sig2))


# ------------------------------------------------------------------ rewards


def test_rewards_split_commission_and_claims(upper):
    net = upper.network("net")
    a, b = upper.operator("a"), upper.operator("b")
    r1, r2, r3 = (upper.restaker(n) for n in ("r1", "r2", "r3"))
    upper.deposit(r1, 3 * ETHER, a)
    upper.deposit(r2, ETHER, a)
    upper.deposit(r3, 4 * ETHER, b)
    with boa.env.prank(a):
        upper.vault.set_commission(1_000)
    upper.join(net, a, WAD)
    upper.join(net, b, WAD // 2)
    with boa.env.prank(net.address):
        upper.registry.fund_epoch(600 * ETHER)  # weights 4 : 2
    token = net.token.address
    gen = upper.vault.generation(net.address, a)
    key_a = upper.vault.reward_key(token, net.address, a)
    assert upper.vault.commission_owed(token, a) == 40 * ETHER
    assert upper.vault.claimable(key_a, r1, a) == pytest.approx(270 * ETHER, abs=10**6)
    with boa.env.prank(r1):
        got = upper.vault.claim(token, net.address, a, gen)
    assert net.token.balanceOf(r1) == got
    with boa.env.prank(r1), boa.reverts("nothing to claim"):
        upper.vault.claim(token, net.address, a, gen)
    with boa.env.prank(r3):
        upper.vault.claim(token, net.address, b, gen)
    assert net.token.balanceOf(r3) == pytest.approx(200 * ETHER, abs=10**6)
    with boa.env.prank(a):
        upper.vault.claim_commission(token)
    # unclaimed rewards survive later share changes and opt-out
    upper.deposit(r2, ETHER, a)
    with boa.env.prank(a):
        upper.registry.request_opt_out(net.address)
    boa.env.time_travel(seconds=UNBONDING)
    with boa.env.prank(a):
        upper.registry.opt_out(net.address)
    with boa.env.prank(r2):
        assert upper.vault.claim(token, net.address, a, gen) == pytest.approx(90 * ETHER, abs=10**6)


def test_unallocated_rewards_return_to_the_network(upper):
    net = upper.network("net")
    with boa.env.prank(net.address):
        upper.registry.fund_epoch(ETHER)
        assert upper.vault.unallocated(net.token.address, net.address) == ETHER
        assert upper.vault.reclaim_unallocated(net.token.address) == ETHER
    with boa.env.prank(upper.account("x")), boa.reverts("unknown network"):
        upper.registry.fund_epoch(ETHER)
