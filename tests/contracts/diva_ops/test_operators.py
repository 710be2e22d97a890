"""OperatorRegistry: registration with a node-key proof, bonds in three assets, capacity,
delayed withdrawals of unbacked collateral, pause/resume, ejection, penalties (ETH donated,
divETH burnt, wdivETH unwrapped and burnt), and every bad input by its named reason."""

from __future__ import annotations

import boa
import pytest
from eth.exceptions import Revert

from nektar.chain.diva_ops import node_key_binding
from nektar.crypto.eip712 import SECP256K1_N
from nektar.crypto.node_key import NodeKey

from .conftest import ETHER, Ops

WEEK = 7 * 86_400


def _proof(ops: Ops, key: NodeKey, operator: str) -> bytes:
    return node_key_binding(key, boa.env.evm.chain.chain_id, ops.operators.address, operator)


def _register(ops: Ops, operator: str, key: NodeKey, proof: bytes, fee: str | None = None) -> int:
    node = "0x" + key.address.hex()
    with boa.env.prank(operator):
        return ops.operators.register(node, proof, "ipfs://meta", fee or operator)


# ---------------------------------------------------------------- registration


def test_register_binds_node_key(ops: Ops) -> None:
    alice = ops.account("alice")
    key = NodeKey.generate()
    operator_id = _register(ops, alice, key, _proof(ops, key, alice))
    assert operator_id == 1
    operator, node, status, capacity, used, active = ops.operators.operator(1)
    assert (operator, node.lower(), status) == (alice, "0x" + key.address.hex(), 1)
    assert (capacity, used, active) == (0, 0, 0)
    assert ops.operators.node_operator("0x" + key.address.hex()) == 1


@pytest.mark.parametrize(
    "tamper, reason",
    [
        (lambda sig: sig[:64], "operator: signature must be 65 bytes"),
        (lambda sig: sig + b"\x00", "operator: signature must be 65 bytes"),
        (lambda sig: sig[:64] + bytes([sig[64] - 27]), "signature: v must be 27 or 28"),
        (
            lambda sig: (
                sig[:32]
                + (SECP256K1_N - int.from_bytes(sig[32:64], "big")).to_bytes(32, "big")
                + bytes([55 - sig[64]])
            ),
            "signature: s is zero or in the upper half of the curve order",
        ),
        (
            lambda sig: sig[:5] + bytes([sig[5] ^ 1]) + sig[6:],
            "operator: bad node key binding signature",
        ),
    ],
)
def test_register_rejects_bad_binding(ops: Ops, tamper, reason: str) -> None:
    alice = ops.account("alice")
    key = NodeKey.generate()
    with boa.reverts(reason):
        _register(ops, alice, key, tamper(_proof(ops, key, alice)))


def test_binding_is_for_one_operator(ops: Ops) -> None:
    alice, mallory = ops.account("alice"), ops.account("mallory")
    key = NodeKey.generate()
    with boa.reverts("operator: bad node key binding signature"):
        _register(ops, mallory, key, _proof(ops, key, alice))


def test_duplicate_node_key_and_operator(ops: Ops) -> None:
    """A node key can serve one operator only, so a cluster never has a duplicate member."""
    alice, bob = ops.account("alice"), ops.account("bob")
    key = NodeKey.generate()
    _register(ops, alice, key, _proof(ops, key, alice))
    with boa.reverts("operator: node key already registered"):
        _register(ops, bob, key, _proof(ops, key, bob))
    other = NodeKey.generate()
    with boa.reverts("operator: already registered"):
        _register(ops, alice, other, _proof(ops, other, alice))


def test_register_zero_addresses(ops: Ops) -> None:
    alice = ops.account("alice")
    key = NodeKey.generate()
    with boa.reverts("operator: fee recipient is the zero address"):
        _register(ops, alice, key, _proof(ops, key, alice), fee="0x" + "00" * 20)
    with boa.env.prank(alice), boa.reverts("operator: node is the zero address"):
        ops.operators.register("0x" + "00" * 20, _proof(ops, key, alice), "", alice)


# ---------------------------------------------------------------- collateral


def test_bond_in_three_assets_values_in_eth(ops: Ops) -> None:
    op = ops.add_operator("op", bond=ETHER)
    ops.lst.deposit(op.address, 10 * ETHER)
    token, wrapper = ops.lst.token, ops.lst.wrapper
    with boa.env.prank(op.address):
        token.approve(ops.operators.address, 2 * ETHER + 1)
        ops.operators.bond_div_eth(token.getSharesByPooledEth(2 * ETHER))
        token.approve(wrapper.address, 3 * ETHER)
        wrapped = wrapper.wrap(3 * ETHER)
        wrapper.approve(ops.operators.address, wrapped)
        ops.operators.bond_wdiv_eth(wrapped)
    assert ops.operators.collateral_value(op.operator_id) == 6 * ETHER
    assert ops.operators.operator(op.operator_id)[3] == 6
    # divETH collateral keeps earning: when the rate doubles, so does the divETH/wdivETH part
    with boa.env.prank(ops.account("donor")):
        ops.pool.receive_donation(value=ops.pool.total_pooled_ether())
    assert ops.operators.operator(op.operator_id)[3] == 6  # cached until refreshed
    ops.operators.refresh(op.operator_id)
    assert ops.operators.collateral_value(op.operator_id) == 11 * ETHER
    assert ops.operators.operator(op.operator_id)[3] == 11


def test_bond_reverts(ops: Ops) -> None:
    stranger = ops.account("stranger")
    with boa.env.prank(stranger), boa.reverts("operator: caller is not a registered operator"):
        ops.operators.bond_eth(value=ETHER)
    op = ops.add_operator("op", bond=0)
    with boa.env.prank(op.address), boa.reverts("operator: zero bond"):
        ops.operators.bond_eth(value=0)
    with pytest.raises(Revert) as exc:
        boa.env.raw_call(ops.operators.address, sender=op.address, value=ETHER)
    assert b"operator: use bond_eth" in exc.value.args[0]


def test_withdrawal_after_delay_and_only_unbacked(cluster_ready: Ops) -> None:
    ops = cluster_ready
    vid = ops.propose()
    member = ops.members_of(vid)[0]
    addr, operator_id = member.address, member.operator_id
    # 4 ETH bonded, 1 key share used: 3 ETH are free, the 4th backs the share
    with boa.env.prank(addr), boa.reverts("operator: collateral backs active key shares"):
        ops.operators.request_withdrawal(4 * ETHER, 0, 0)
    with boa.env.prank(addr), boa.reverts("operator: withdrawal exceeds collateral"):
        ops.operators.request_withdrawal(5 * ETHER, 0, 0)
    with boa.env.prank(addr):
        ops.operators.request_withdrawal(3 * ETHER, 0, 0)
    assert ops.operators.free_capacity(operator_id) == 0
    with boa.env.prank(addr), boa.reverts("operator: withdrawal delay not over"):
        ops.operators.withdraw()
    boa.env.time_travel(seconds=WEEK)
    balance = boa.env.get_balance(addr)
    with boa.env.prank(addr):
        ops.operators.withdraw()
    assert boa.env.get_balance(addr) == balance + 3 * ETHER
    assert ops.operators.collateral(operator_id) == [ETHER, 0, 0]
    assert ops.operators.total_withdrawn(0) == 3 * ETHER
    with boa.env.prank(addr), boa.reverts("operator: no pending withdrawal"):
        ops.operators.withdraw()


def test_cancel_withdrawal_restores_capacity(ops: Ops) -> None:
    op = ops.add_operator("op", bond=3 * ETHER)
    with boa.env.prank(op.address):
        ops.operators.request_withdrawal(2 * ETHER, 0, 0)
        assert ops.operators.free_capacity(op.operator_id) == 1
        ops.operators.cancel_withdrawal()
        assert ops.operators.free_capacity(op.operator_id) == 3
        with boa.reverts("operator: no pending withdrawal"):
            ops.operators.cancel_withdrawal()


def test_pause_resume(ops: Ops) -> None:
    op = ops.add_operator("op")
    with boa.env.prank(op.address):
        ops.operators.pause()
        assert ops.operators.operator(op.operator_id)[2] == 2
        with boa.reverts("operator: not active"):
            ops.operators.pause()
        ops.operators.resume()
        with boa.reverts("operator: already active"):
            ops.operators.resume()


def test_paused_operator_is_not_selected(ops: Ops) -> None:
    for i in range(5):
        ops.add_operator(f"op-{i}")
    ops.stake(32 * ETHER)
    with boa.env.prank(ops.members[3].address):
        ops.operators.pause()
    vid = ops.propose()
    assert 3 not in ops.validators.validator(vid)[4]


# ---------------------------------------------------------------- penalties and ejection


def _settle(ops: Ops, entries: list[int], rewards: int = 0) -> None:
    with boa.env.prank(ops.oracle.address):
        ops.operators.settle(entries, rewards, 1, 10**18)


def test_penalties_reach_stakers_in_every_asset(ops: Ops) -> None:
    """1 ETH per missed duty: ETH goes to the pool's buffer, divETH is burnt, wdivETH is
    unwrapped and burnt; each raises the divETH rate for stakers."""
    op = ops.add_operator("op", bond=ETHER)
    ops.stake(10 * ETHER)
    ops.lst.deposit(op.address, 5 * ETHER)
    token, wrapper = ops.lst.token, ops.lst.wrapper
    with boa.env.prank(op.address):
        token.approve(ops.operators.address, 2 * ETHER)
        ops.operators.bond_div_eth(token.getSharesByPooledEth(ETHER))
        token.approve(wrapper.address, ETHER)
        wrapped = wrapper.wrap(ETHER)
        wrapper.approve(ops.operators.address, wrapped)
        ops.operators.bond_wdiv_eth(wrapped)
    buffered = ops.pool.buffered_ether()
    div_bonded = ops.operators.collateral(op.operator_id)[1]
    _settle(ops, [(op.operator_id << 32) | 1])
    assert ops.pool.buffered_ether() == buffered + ETHER
    assert ops.operators.collateral(op.operator_id)[0] == 0
    # divETH: shares worth 1 ETH (rounded up) are burnt, which raises the rate
    held, total, rate = (
        ops.operators.collateral(op.operator_id)[1],
        token.getTotalShares(),
        ops.pool.total_pooled_ether() / token.getTotalShares(),
    )
    _settle(ops, [(op.operator_id << 32) | 1])
    burnt = held - ops.operators.collateral(op.operator_id)[1]
    assert token.getTotalShares() == total - burnt
    assert 0 <= burnt * rate - ETHER < 10**4
    assert ops.pool.total_pooled_ether() / token.getTotalShares() > rate
    # wdivETH: unwrapped, then the divETH it returned is burnt
    held, total = ops.operators.collateral(op.operator_id)[2], token.getTotalShares()
    wrapped_supply = wrapper.totalSupply()
    _settle(ops, [(op.operator_id << 32) | 1])
    taken = held - ops.operators.collateral(op.operator_id)[2]
    assert wrapper.totalSupply() == wrapped_supply - taken and taken > 0
    assert token.getTotalShares() < total
    assert ops.operators.total_penalised(0) == ETHER
    # the third penalty first took the divETH shares left over, then wdivETH
    assert ops.operators.collateral(op.operator_id)[1] == 0
    assert ops.operators.total_penalised(1) == div_bonded
    assert ops.operators.total_penalised(2) == taken


def test_penalty_capped_by_collateral(ops: Ops) -> None:
    op = ops.add_operator("op", bond=ETHER)
    ops.stake(ETHER)
    _settle(ops, [(op.operator_id << 32) | 5])
    assert ops.operators.collateral(op.operator_id) == [0, 0, 0]
    assert ops.operators.total_penalised(0) == ETHER


def test_ejection_when_under_collateralised(cluster_ready: Ops) -> None:
    ops = cluster_ready
    vid = ops.propose()
    ops.onboard(vid)
    member = ops.members_of(vid)[0]
    with boa.reverts("operator: sufficiently collateralised"):
        ops.operators.eject(member.operator_id)
    with boa.reverts("validator: no member is ejected"):
        ops.validators.request_exit_for_ejection(vid)
    _settle(ops, [(member.operator_id << 32) | 4])  # 4 ETH of penalties: nothing left
    ops.operators.eject(member.operator_id)
    assert ops.operators.operator(member.operator_id)[2] == 3
    with boa.reverts("operator: already ejected"):
        ops.operators.eject(member.operator_id)
    ops.validators.request_exit_for_ejection(vid)
    assert ops.status(vid) == 4  # EXITING
    with boa.env.prank(member.address), boa.reverts("operator: under-collateralised"):
        ops.operators.resume()
    with boa.env.prank(member.address):
        ops.operators.bond_eth(value=ETHER)
        ops.operators.resume()
    assert ops.operators.operator(member.operator_id)[2] == 1


def test_unknown_operator(ops: Ops) -> None:
    with boa.reverts("operator: unknown operator"):
        ops.operators.eject(1)
    with boa.reverts("operator: unknown operator"):
        ops.operators.refresh(0)
    with boa.reverts("operator: unknown operator"):
        _settle(ops, [(7 << 32) | 1])


def test_settle_entries_strictly_increasing(ops: Ops) -> None:
    ops.add_operator("a")
    ops.add_operator("b")
    for entries in ([1 << 32, 1 << 32], [2 << 32, 1 << 32], [0]):
        with boa.reverts("operator: performance entries not strictly increasing"):
            _settle(ops, entries)


def test_hooks_are_guarded(ops: Ops) -> None:
    stranger = ops.account("stranger")
    with boa.env.prank(stranger):
        with boa.reverts("operator: caller is not the ValidatorRegistry"):
            ops.operators.reserve(b"\x00" * 32, 4, [])
        with boa.reverts("operator: caller is not the ValidatorRegistry"):
            ops.operators.release([1], False)
        with boa.reverts("operator: caller is not the ValidatorRegistry"):
            ops.operators.activate([1])
        with boa.reverts("operator: caller is not the oracle"):
            ops.operators.settle([], 0, 1, 0)
        with boa.reverts("operator: caller is not governance"):
            ops.operators.set_parameters(ETHER, WEEK)
        with boa.reverts("operator: caller is not governance"):
            ops.operators.set_protocol(stranger, stranger)
    with boa.env.prank(ops.lst.admin):
        with boa.reverts("operator: protocol already set"):
            ops.operators.set_protocol(stranger, stranger)
        with boa.reverts("operator: bond per share below 0.001 ETH"):
            ops.operators.set_parameters(10**14, WEEK)


def test_bond_per_share_is_governed(ops: Ops) -> None:
    op = ops.add_operator("op", bond=4 * ETHER)
    with boa.env.prank(ops.lst.admin):
        ops.operators.set_parameters(2 * ETHER, WEEK)
    ops.operators.refresh(op.operator_id)
    assert ops.operators.operator(op.operator_id)[3] == 2


def test_bond_curve(cluster_ready: Ops) -> None:
    """With a 50% curve the 2nd key share costs 1.5 ETH, the 3rd 2 ETH: 4 ETH back 2 shares,
    and backing for used shares follows the curve."""
    ops = cluster_ready
    with boa.env.prank(ops.lst.admin):
        ops.operators.set_curve(5_000)
        with boa.reverts("operator: curve above 100% per key share"):
            ops.operators.set_curve(10_001)
    assert ops.operators.required_bond(3) == ETHER * 9 // 2
    for operator_id in ops.members:
        ops.operators.refresh(operator_id)
    assert ops.operators.operator(1)[3] == 2
    vid = ops.propose()
    member = ops.members_of(vid)[0]
    with boa.env.prank(member.address), boa.reverts("operator: collateral backs active key shares"):
        ops.operators.request_withdrawal(3 * ETHER + 1, 0, 0)
    with boa.env.prank(member.address):
        ops.operators.request_withdrawal(3 * ETHER, 0, 0)
    with boa.env.prank(ops.account("x")), boa.reverts("operator: caller is not governance"):
        ops.operators.set_curve(0)


def test_claim_rewards_without_rewards(ops: Ops) -> None:
    op = ops.add_operator("op")
    with boa.env.prank(op.address), boa.reverts("operator: no rewards"):
        ops.operators.claim_rewards()
