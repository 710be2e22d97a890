"""Gas of the restaking vault and the marketplace on titanoboa's in-process EVM (transaction
gas as bench_gas_lst.tx_gas measures it: intrinsic + calldata + execution − capped refund,
cold access lists before each call).

Scenario: the Diva system of tests/contracts/diva_ops with the upper layer of
tests/contracts/restaking; three operators opted in to one network (allocations 100/60/50%),
each with restakers already delegated. `deposit_delegate` is a new restaker's first deposit
(delegation included) to an operator serving one network; `execute_1` / `execute_100` slash
an operator with 1 and 100 restakers (one delegated restaker per 2 wdivETH, a queued
withdrawal in the pool); `execute_2vaults` / `request_2vaults` slash an operator of a
network accepting wdivETH and a second vault's asset (an nETH stand-in, one restaker and a
queued withdrawal in each vault); `equivocation` verifies two real BLS signatures (EIP-2537) and
slashes; `fund_epoch` splits among the three operators; `claim` is a restaker's second claim
(it already holds the token, as Rocket Pool's "later claims" anchor), `claim_first` its first.
"""

from __future__ import annotations

from typing import Any

import boa
from rich.console import Console
from rich.table import Table

ETHER = 10**18
# metric -> (goal, anchor text)
TARGETS: dict[str, tuple[int | None, str]] = {
    "gas.restake.deposit_delegate": (None, "Lido submit 90,000 (UI limit)"),
    "gas.restake.queue_withdrawal": (None, "Lido wstETH request 280,096"),
    "gas.restake.complete_withdrawal": (None, "Lido claim 89,818"),
    "gas.market.opt_in": (None, ""),
    "gas.market.allocate": (None, ""),
    "gas.slash.request": (None, "Symbiotic V2 requestSlash 271,922–293,582"),
    "gas.slash.veto": (None, ""),
    "gas.slash.execute_1": (150_000, "Symbiotic V2 executeSlash 372,945–458,763"),
    "gas.slash.execute_100": (150_000, "Symbiotic V2 executeSlash 372,945–458,763"),
    "gas.slash.request_2vaults": (None, ""),
    "gas.slash.execute_2vaults": (150_000, "Symbiotic V2 executeSlash 372,945–458,763"),
    "gas.slash.equivocation": (300_000, ""),
    "gas.rewards.fund_epoch": (None, ""),
    "gas.rewards.claim": (45_000, "Rocket Pool 55,000–85,000; Lido claim 89,818"),
    "gas.rewards.claim_first": (None, "Rocket Pool first claim ~85,000"),
}


def _slash_gas(u: Any, fx: Any, tx_gas: Any, restakers: int) -> dict[str, int]:
    """request → execute (and a vetoed request) against an operator with `restakers`."""
    op = u.operator(f"slashed-op-{restakers}")
    net = u.network(f"slashing-net-{restakers}")
    members = [u.restaker(f"s{restakers}-{i}", 2 * ETHER) for i in range(restakers)]
    for member in members:
        u.deposit(member, ETHER, op)
    with boa.env.prank(members[0]):
        u.vault.queue_withdrawal(u.vault.shares(members[0]) // 2)
    u.join(net, op, fx.WAD)
    gas = {
        "request": tx_gas(
            u.registry, "request_slash", op, fx.WAD // 10, b"\x01" * 32, sender=net.slasher
        )
    }
    rid = u.registry.request_count()
    tx_gas(u.registry, "request_slash", op, fx.WAD // 10, b"\x02" * 32, sender=net.slasher)
    gas["veto"] = tx_gas(u.registry, "veto_slash", rid + 1, sender=net.resolver)
    boa.env.time_travel(seconds=fx.VETO)
    gas["execute"] = tx_gas(u.registry, "execute_slash", rid, sender=u.account("keeper"))
    return gas


def _slash_gas_two_vaults(u: Any, fx: Any, tx_gas: Any) -> dict[str, int]:
    """request → execute against an operator staked in wdivETH and in a second vault."""
    d = fx.deployers()
    with boa.env.prank(u.admin):
        neth = d["RewardToken"].deploy("nETH stand-in", "nETH")
        native = d["RestakingVault"].deploy(neth.address, u.ops.operators.address, fx.MIN_DELAY)
        native.set_network_registry(u.registry.address)
        u.registry.add_vault(native.address, False)
    op = u.operator("slashed-op-2vaults")
    net = u.network("slashing-net-2vaults", accepted_assets=[u.wdiv.address, neth.address])
    restaker = u.restaker("s2v", 4 * ETHER)
    u.deposit(restaker, 2 * ETHER, op)
    with boa.env.prank(u.admin):
        neth.mint(restaker, 2 * ETHER)
    with boa.env.prank(restaker):
        neth.approve(native.address, 2 * ETHER)
        native.deposit(2 * ETHER, op)
        for vault in (u.vault, native):
            vault.queue_withdrawal(vault.shares(restaker) // 2)
    u.join(net, op, fx.WAD)
    gas = {
        "request": tx_gas(
            u.registry, "request_slash", op, fx.WAD // 10, b"\x01" * 32, sender=net.slasher
        )
    }
    rid = u.registry.request_count()
    boa.env.time_travel(seconds=fx.VETO)
    gas["execute"] = tx_gas(u.registry, "execute_slash", rid, sender=u.account("keeper"))
    return gas


def measure() -> dict[str, int]:
    from bench_gas_lst import tx_gas
    from support import load_conftest

    fx = load_conftest("contracts/restaking")
    u = fx.deploy_upper()
    wad = fx.WAD
    net = u.network("net")
    ops = [u.operator(f"op{i}") for i in range(3)]
    for i, op in enumerate(ops):
        u.deposit(u.restaker(f"seed{i}"), 5 * ETHER, op)
    gas: dict[str, int] = {}
    gas["gas.market.opt_in"] = tx_gas(u.registry, "opt_in", net.address, sender=ops[0])
    gas["gas.market.allocate"] = tx_gas(u.registry, "allocate", net.address, wad, sender=ops[0])
    for op, fraction in ((ops[1], wad * 6 // 10), (ops[2], wad // 2)):
        u.join(net, op, fraction, wait=False)
    boa.env.time_travel(seconds=fx.ALLOCATION_DELAY)

    restaker = u.restaker("bench-restaker")
    gas["gas.restake.deposit_delegate"] = tx_gas(
        u.vault, "deposit", 10 * ETHER, ops[0], sender=restaker
    )
    gas["gas.rewards.fund_epoch"] = tx_gas(
        u.registry, "fund_epoch", 1_000 * ETHER, sender=net.address
    )
    gen = u.vault.generation(net.address, ops[0])
    claim = (net.token.address, net.address, ops[0], gen)
    gas["gas.rewards.claim_first"] = tx_gas(u.vault, "claim", *claim, sender=restaker)
    u.registry.fund_epoch(1_000 * ETHER, sender=net.address)
    gas["gas.rewards.claim"] = tx_gas(u.vault, "claim", *claim, sender=restaker)

    shares = u.vault.shares(restaker)
    gas["gas.restake.queue_withdrawal"] = tx_gas(
        u.vault, "queue_withdrawal", shares // 2, sender=restaker
    )
    wid = u.vault.withdrawal_count()
    boa.env.time_travel(seconds=fx.UNBONDING)
    gas["gas.restake.complete_withdrawal"] = tx_gas(
        u.vault, "complete_withdrawal", wid, sender=restaker
    )

    u.bls_key(net, ops[1])
    ma, mb = b"\x05" * 32 + b"answer: 1", b"\x05" * 32 + b"answer: 2"
    gas["gas.slash.equivocation"] = tx_gas(
        u.registry,
        "slash_equivocation",
        net.address,
        ops[1],
        ma,
        u.sign(ops[1], ma),
        mb,
        u.sign(ops[1], mb),
        sender=u.account("prover"),
    )
    one, hundred = _slash_gas(u, fx, tx_gas, 1), _slash_gas(u, fx, tx_gas, 100)
    gas["gas.slash.request"] = one["request"]
    gas["gas.slash.veto"] = one["veto"]
    gas["gas.slash.execute_1"] = one["execute"]
    gas["gas.slash.execute_100"] = hundred["execute"]
    two = _slash_gas_two_vaults(u, fx, tx_gas)
    gas["gas.slash.request_2vaults"] = two["request"]
    gas["gas.slash.execute_2vaults"] = two["execute"]
    return gas


def run() -> dict[str, float]:
    gas = measure()
    table = Table(title="Restaking and marketplace: transaction gas")
    for column in ("operation", "gas", "goal", "vs goal", "anchor"):
        table.add_column(column, justify="left" if column in ("operation", "anchor") else "right")
    for name, (goal, anchor) in TARGETS.items():
        value = gas[name]
        ratio = "" if goal is None else f"{value / goal:.2f}×"
        table.add_row(name, f"{value:,}", "" if goal is None else f"≤ {goal:,}", ratio, anchor)
    Console().print(table)
    return {k: float(v) for k, v in gas.items()}


if __name__ == "__main__":
    run()
