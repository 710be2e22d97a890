"""Transaction gas of a distributor's user operations, printed (`pytest -s`) and recorded in
docs/restaking-marketplace.md. Measured as intrinsic + calldata +
execution − capped refund, on a system where the sub-accounts already hold stake
(second deposit), with 1, 3 and 16 operators."""

from __future__ import annotations

from typing import Any

import boa

from .conftest import ETHER, Dist


def tx_gas(contract: Any, function: str, *args: Any, sender: str) -> int:
    """Send one call and return its transaction gas (intrinsic + calldata + execution −
    capped refund), as bench/bench_gas_lst.py::tx_gas counts it."""
    with boa.env.prank(sender):
        getattr(contract, function)(*args)
    computation = contract._computation
    calldata = bytes(computation.msg.data)
    used = 21_000 + sum(16 if b else 4 for b in calldata) + computation.get_gas_used()
    return used - min(computation.get_gas_refund(), used // 5)


def test_deposit_and_redeem_gas(dist: Dist):
    ops = dist.operators(16)
    rows = []
    for n in (1, 3, 16):
        weights = [10_000 // n] * n
        weights[-1] += 10_000 - sum(weights)
        lrt = dist.create(ops[:n], weights, fee_bps=50)
        h = dist.holder(f"h{n}", lrt)
        with boa.env.prank(h):
            lrt.deposit(ETHER, h)
        deposit = tx_gas(lrt, "deposit", ETHER, h, sender=h)
        request = tx_gas(lrt, "request_redeem", lrt.balanceOf(h) // 2, sender=h)
        dist.delay()
        complete = tx_gas(lrt, "complete_redeem", lrt.request_count(), sender=h)
        rows.append((n, deposit, request, complete))
        assert lrt.request_value(lrt.request_count()) == 0
    print("\noperators  deposit  request_redeem  complete_redeem")
    for n, deposit, request, complete in rows:
        print(f"{n:>9}  {deposit:>7,}  {request:>14,}  {complete:>15,}")
    # gas grows with the operators a deposit is spread over, linearly
    assert rows[0][1] < rows[1][1] < rows[2][1]


def test_harvest_and_reward_claim_gas(dist: Dist):
    """One reward token registered; the second harvest and claim (warm accumulators)."""
    ops = dist.operators(3)
    lrt = dist.create(ops, [5_000, 3_000, 2_000], fee_bps=50)
    net = dist.network("net", ops)
    token = net.token.address
    with boa.env.prank(dist.manager):
        lrt.add_reward_token(token)
    holders = [dist.holder(f"h{i}", lrt) for i in range(2)]
    for h in holders:
        with boa.env.prank(h):
            lrt.deposit(ETHER, h)
    deposit = tx_gas(lrt, "deposit", ETHER, holders[0], sender=holders[0])
    gas = {}
    for _ in range(2):
        dist.fund(net, 1_000 * ETHER)
        gas["harvest"] = tx_gas(lrt, "harvest", token, net.address, 0, sender=holders[1])
        gas["claim_rewards"] = tx_gas(lrt, "claim_rewards", token, sender=holders[0])
    print(
        f"\n3 operators, 1 reward token: deposit {deposit:,}, harvest {gas['harvest']:,},"
        f" holder claim {gas['claim_rewards']:,}"
    )
    assert gas["claim_rewards"] < 60_000
