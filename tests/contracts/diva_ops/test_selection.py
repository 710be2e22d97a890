"""The pure-Python twins agree with the contracts: cluster selection (`reserve`) for many
seeds and operator sets, and the reward split (`settle`); plus properties of the twins."""

from __future__ import annotations

import boa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nektar.chain.selection import (
    OperatorSlot,
    Performance,
    SelectionError,
    capacity_for,
    proposal_seed,
    required_bond,
    select,
    split_rewards,
    threshold,
)

from .conftest import ETHER, Ops, deploy_ops

POOL_SIZE = 20


@pytest.fixture(scope="module")
def roster() -> Ops:
    """A system with 20 registered operators and no collateral yet."""
    with boa.env.anchor():
        ops = deploy_ops()
        for i in range(POOL_SIZE):
            ops.add_operator(f"sel-{i}", bond=0)
        ops.stake(10 * ETHER)
        yield ops


operator_sets = st.lists(
    st.tuples(st.integers(0, 5), st.booleans()), min_size=1, max_size=POOL_SIZE
)
draws = st.lists(
    st.tuples(
        st.binary(min_size=32, max_size=32),
        st.integers(1, 16),
        st.sets(st.integers(1, POOL_SIZE), max_size=4),
    ),
    min_size=1,
    max_size=3,
)


@settings(max_examples=max(40, settings.default.max_examples // 3))
@given(operator_sets, draws)
def test_reserve_matches_twin(roster: Ops, operators: list[tuple[int, bool]], calls) -> None:
    ops = roster
    with boa.env.anchor():
        for operator_id, (bond, paused) in enumerate(operators, start=1):
            member = ops.members[operator_id]
            with boa.env.prank(member.address):
                if bond:
                    ops.operators.bond_eth(value=bond * ETHER)
                if paused:
                    ops.operators.pause()
        for seed, n, exclude in calls:
            expected = select(seed, n, ops.slots(), exclude)
            with boa.env.prank(ops.validators.address):
                picked = ops.operators.reserve(seed, n, sorted(exclude))
            assert [word >> 160 for word in picked] == expected
            for word in picked:
                assert (word & (2**160 - 1)) == int(ops.members[word >> 160].node, 16)


@settings(max_examples=max(30, settings.default.max_examples // 3))
@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 12)), min_size=1, max_size=8),
    st.integers(0, 10**18),
    st.integers(1, 4),
)
def test_settle_matches_twin(
    roster: Ops, operators: list[tuple[int, int]], reward: int, duties: int
) -> None:
    ops = roster
    with boa.env.anchor():
        entries = []
        for operator_id, (active, missed) in enumerate(operators, start=1):
            with boa.env.prank(ops.validators.address):
                for _ in range(active):
                    ops.operators.activate([operator_id])
            entries.append(Performance(operator_id, active, missed))
        staker = ops.account("rewarder")
        ops.lst.deposit(staker, 2 * ETHER)
        with boa.env.prank(staker):
            ops.lst.token.transferShares(ops.operators.address, reward)
        shares_before = ops.lst.token.getTotalShares()
        with boa.env.prank(ops.oracle.address):
            ops.operators.settle([e.packed() for e in entries], reward, duties, 0)
        credited, burnt = split_rewards(reward, entries, duties)
        for operator_id, shares in credited.items():
            assert ops.operators.reward_shares(operator_id) == shares
        assert ops.lst.token.getTotalShares() == shares_before - burnt
        assert sum(credited.values()) + burnt == reward
        assert burnt < max(len(entries), 1) or sum(credited.values()) == 0


@settings(max_examples=max(40, settings.default.max_examples // 3))
@given(
    st.integers(10**15, 40 * ETHER),
    st.sampled_from([0, 1, 250, 1000, 10_000]),
    st.integers(0, 10**22),
    st.integers(0, 300),
)
def test_bond_curve_matches_twin(roster: Ops, bond: int, curve: int, worth: int, k: int) -> None:
    ops = roster
    with boa.env.anchor():
        with boa.env.prank(ops.lst.admin):
            ops.operators.set_parameters(bond, 0)
            ops.operators.set_curve(curve)
        capacity = capacity_for(worth, bond, curve)
        assert ops.operators.capacity_for(worth) == capacity
        assert ops.operators.required_bond(k) == required_bond(k, bond, curve)
        assert required_bond(capacity, bond, curve) <= worth
        assert capacity == 2**24 - 1 or required_bond(capacity + 1, bond, curve) > worth


# ---------------------------------------------------------------- twin properties


slots = st.lists(
    st.tuples(st.sampled_from([1, 1, 1, 2, 3]), st.integers(0, 50), st.integers(0, 50)),
    min_size=1,
    max_size=40,
).map(lambda raw: [OperatorSlot(i + 1, s, c, u) for i, (s, c, u) in enumerate(raw)])


@given(slots, st.binary(min_size=32, max_size=32), st.integers(1, 16))
def test_select_properties(operators: list[OperatorSlot], seed: bytes, n: int) -> None:
    picked = select(seed, n, operators)
    eligible = {o.operator_id for o in operators if o.status == 1 and o.free > 0}
    if len(eligible) < n:
        assert picked == []
    else:
        assert len(picked) == n == len(set(picked))
        assert set(picked) <= eligible
        assert select(seed, n, list(reversed(operators))) == picked


def test_threshold_and_seed() -> None:
    assert [threshold(n) for n in (4, 7, 10, 13, 16)] == [3, 5, 7, 9, 11]
    with pytest.raises(SelectionError):
        threshold(5)
    assert proposal_seed(1, 0) != proposal_seed(1, 1)
    with pytest.raises(SelectionError):
        select(b"\x00" * 31, 4, [])
    with pytest.raises(SelectionError):
        select(b"\x00" * 32, 4, [OperatorSlot(2, 1, 1, 0)])
