"""Property: a pod round trip never profits. Whatever the beacon balance did (rewards,
penalties, a skim), whether the withdrawal reached the pod before or after the oracle saw
the validator at 0, whatever slash hit the operator and however the owner split its
withdrawals, the owner is paid at most the ETH that reached the pod, the rest (the ETH
behind slashed nETH) goes to the sink, and without a slash the owner loses only rounding."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .conftest import BURN, DAY, ETHER, Native

EXAMPLES = settings().max_examples  # 100 with the "ci" profile, more with "fuzz"
WAD = 10**18
GWEI = 10**9


@pytest.fixture(scope="module")
def staked(native_system: Native) -> Iterator[tuple[Native, Any, str, Any, int]]:
    """One pod validator ACTIVATED with 32 ETH reported (32 nETH restaked with an operator
    that serves a network able to slash it); rolled back after the module."""
    native = native_system
    with boa.env.anchor():
        market = native.upper
        operator = native.ops.members[1].address
        network = market.network("net", accepted_assets=[native.neth.address])
        market.join(network, operator, WAD)
        owner, pod = native.create_pod("round-tripper")
        with boa.env.prank(owner):
            pod.delegate(operator)
        (validator_id,) = native.onboard(owner, pod)
        yield native, network, owner, pod, validator_id


@settings(max_examples=max(10, EXAMPLES // 5))
@given(
    balances=st.lists(st.integers(-GWEI // 2, GWEI // 2), max_size=3),
    skim=st.booleans(),
    slash=st.sampled_from([0, WAD // 10, WAD // 3, WAD // 2]),
    arrives_first=st.booleans(),
    split=st.integers(1, 100),
)
def test_pod_round_trip_never_profits(
    staked: tuple[Native, Any, str, Any, int],
    balances: list[int],
    skim: bool,
    slash: int,
    arrives_first: bool,
    split: int,
) -> None:
    native, network, owner, pod, validator_id = staked
    with boa.env.anchor():
        balance, reached = 32 * ETHER, 0
        for delta in balances:
            balance = 32 * ETHER + delta * GWEI
            native.apply({validator_id: balance})
        if skim and balance > 32 * ETHER:  # 0x01 credentials: the excess is swept to the pod
            native.withdraw(pod, balance - 32 * ETHER)
            reached += balance - 32 * ETHER
            balance = 32 * ETHER
            native.apply({validator_id: balance})
        if slash:
            with boa.env.prank(network.slasher):
                request = native.upper.registry.request_slash(
                    native.vault.delegated_to(pod.address), slash, b"\x07" * 32
                )
            boa.env.time_travel(seconds=3 * DAY)
            native.upper.registry.execute_slash(request)

        with boa.env.prank(owner):
            pod.request_exit(validator_id)
        if arrives_first:
            native.withdraw(pod, balance)
        native.apply({validator_id: 0}, withdrawn=(validator_id,))
        if not arrives_first:
            native.withdraw(pod, balance)
        reached += balance

        shares = native.vault.shares(pod.address)
        first = shares * split // 100
        with boa.env.prank(owner):
            ids = [pod.queue_withdrawal(part) for part in (first, shares - first) if part]
        boa.env.time_travel(seconds=30 * DAY)
        before = boa.env.get_balance(owner)
        with boa.env.prank(owner):
            for withdrawal_id in ids:
                pod.complete_withdrawal(withdrawal_id)
        paid = boa.env.get_balance(owner) - before
        sink = boa.env.get_balance(BURN)
        if pod.accounted():
            pod.sweep_slashed()
        swept = boa.env.get_balance(BURN) - sink

    assert paid <= reached, "a round trip paid more than the ETH that reached the pod"
    assert paid + swept == reached, "ETH left behind or created"
    if not slash:
        assert paid >= reached - 4, "the owner lost more than rounding"
