"""Gas of the Diva operator contracts on titanoboa's in-process EVM (transaction gas, measured
as bench_gas_lst.tx_gas does: intrinsic + calldata + execution − capped refund, cold access
lists before each call).

Scenario: 16 operators with 40 ETH bonded each (a 17th registers and bonds for the first two
figures); the n = 4 and n = 16 proposals draw from all 16. The oracle vote is a committee
member's vote in a later frame (its slot was written before) that is not the first vote of
the frame. `submit_100` applies a report for 100 active validators: rewards split among the
16 operators with missed-duty penalties for three of them.
"""

from __future__ import annotations

from typing import Any

import boa
from rich.console import Console
from rich.table import Table

ETHER = 10**18
GOALS: dict[str, int | None] = {
    "operator.register": None,
    "operator.bond": None,
    "validator.propose_n4": 150_000,
    "validator.register_n4": None,
    "validator.register_n16": None,
    "validator.activate": None,
    "oracle.vote": 60_000,
    "oracle.submit_100": None,
}
PER_MEMBER_GOAL = 12_000


def measure() -> tuple[dict[str, int], dict[str, int]]:
    from bench_gas_lst import tx_gas
    from support import load_conftest

    fx = load_conftest("contracts/diva_ops")
    from nektar.chain.diva_ops import node_key_binding
    from nektar.chain.selection import Performance
    from nektar.crypto.node_key import NodeKey

    ops = fx.deploy_ops()
    for i in range(16):
        ops.add_operator(f"bench-op-{i}", bond=40 * ETHER)
    ops.stake(101 * 32 * ETHER + 16 * 32 * ETHER)
    gas: dict[str, int] = {}

    newcomer = ops.account("bench-newcomer")
    key = NodeKey.generate()
    proof = node_key_binding(key, boa.env.evm.chain.chain_id, ops.operators.address, newcomer)
    node = "0x" + key.address.hex()
    args = (node, proof, "https://newcomer.example/operator.json", newcomer)
    gas["operator.register"] = tx_gas(ops.operators, "register", *args, sender=newcomer)
    gas["operator.bond"] = tx_gas(ops.operators, "bond_eth", sender=newcomer, value=ETHER)
    with boa.env.prank(newcomer):
        ops.operators.pause()  # keep the selection over the 16 bench operators

    proposer = ops.account("bench-proposer")
    gas["validator.propose_n4"] = tx_gas(ops.validators, "propose", sender=proposer)
    first = ops.validators.validator_count()
    registration = ops.play(first)
    gas["validator.register_n4"] = tx_gas(
        ops.validators, "register", *registration.args(), sender=proposer
    )
    ops.next_frame()
    ops.apply(ops.report(confirmed=(first,)))
    r = ops.registrations[first]
    gas["validator.activate"] = tx_gas(
        ops.validators, "activate", first, r.pubkey, r.deposit_signature, sender=proposer
    )

    with boa.env.prank(ops.lst.admin):
        ops.validators.set_parameters(16, 3_600)
    big = ops.propose()
    registration = ops.play(big)
    gas["validator.register_n16"] = tx_gas(
        ops.validators, "register", *registration.args(), sender=proposer
    )
    with boa.env.prank(ops.lst.admin):
        ops.validators.set_parameters(4, 3_600)

    # 99 more validators: register all, confirm in one report, activate
    ids = [ops.propose() for _ in range(99)]
    for validator_id in ids:
        ops.register(validator_id)
    ops.next_frame()
    ops.apply(ops.report(confirmed=tuple(ids)))
    for validator_id in ids:
        ops.activate(validator_id)

    # steady-state vote: members voted in an earlier frame; the measured vote is not the first
    boa.env.time_travel(seconds=86_400)
    active = [first, *ids]
    entries = []
    for operator_id in range(1, 17):
        shares = ops.operators.operator(operator_id)[5]
        entries.append(Performance(operator_id, shares, 3 if operator_id % 5 == 0 else 0))
    report = ops.report(
        reward=ETHER // 2,
        active_validators=len(active),
        performance=tuple(e.packed() for e in entries if e.active_shares),
    )
    ops.agree(report, ops.committee[:1])
    member = ops.committee[1]
    gas["oracle.vote"] = tx_gas(
        ops.oracle, "vote", report.ref_slot, report.hash(), 0, sender=member
    )
    ops.agree(report, ops.committee[2:])
    gas["oracle.submit_100"] = tx_gas(ops.oracle, "submit", report.as_tuple(), sender=proposer)
    extra = {"oracle.vote by an operator node (steady state)": _operator_vote(ops, tx_gas)}
    return gas, extra


def _operator_vote(ops: Any, tx_gas: Any) -> int:
    """An operator with active shares votes from its node: once to create its slot, then the
    measured vote one frame later (after a committee member opened the frame)."""
    with boa.env.prank(ops.lst.admin):
        ops.oracle.set_parameters(1, ops.oracle.penalty_per_missed_duty(), True)
    member = ops.members[1]
    boa.env.set_balance(member.node, ETHER)
    used = 0
    for _ in range(2):
        report = ops.report(ref_slot=ops.next_frame())
        ops.agree(report, ops.committee[:1])
        args = (report.ref_slot, report.hash(), member.operator_id)
        used = tx_gas(ops.oracle, "vote", *args, sender=member.node)
    return used


def run() -> dict[str, float]:
    gas, extra = measure()
    per_member = (gas["validator.register_n16"] - gas["validator.register_n4"]) / 12
    table = Table(title="Diva operator contracts: transaction gas")
    for column in ("operation", "gas", "goal", "verdict"):
        table.add_column(column, justify="left" if column == "operation" else "right")
    for op, value in gas.items():
        goal = GOALS[op]
        verdict = "" if goal is None else ("[green]met" if value <= goal else "[red]missed")
        table.add_row(op, f"{value:,}", "" if goal is None else f"≤ {goal:,}", verdict)
    for op, value in extra.items():
        verdict = "[green]met" if value <= GOALS["oracle.vote"] else "[red]missed"
        table.add_row(op, f"{value:,}", f"≤ {GOALS['oracle.vote']:,}", verdict)
    verdict = "[green]met" if per_member <= PER_MEMBER_GOAL else "[red]missed"
    table.add_row(
        "registration growth per member (n4 → n16)",
        f"{per_member:,.0f}",
        f"≤ {PER_MEMBER_GOAL:,}",
        verdict,
    )
    Console().print(table)
    return {f"gas.{op}": float(value) for op, value in gas.items()}


if __name__ == "__main__":
    run()
