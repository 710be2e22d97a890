"""Gas of the Diva liquid-staking user operations on titanoboa's in-process EVM.

Figures are whole-transaction gas as a node would charge it, so they compare with the Lido
anchors (which are transaction gas limits): 21,000 intrinsic + calldata (16 per non-zero,
4 per zero byte) + execution gas as boa reports it − the EIP-3529 refund (capped at 1/5).
Before each measured call the access lists are reset (every account and slot cold) and the
sender, the called contract and the precompiles are pre-warmed, as in a real transaction.
"""

from __future__ import annotations

from typing import Any

import boa
from rich.console import Console
from rich.table import Table

GOAL = 0.6
ANCHORS = {
    "deposit_first": ("Lido submit", 90_000),
    "deposit_repeat": ("Lido submit", 90_000),
    "wrap": ("wstETH wrap", 140_000),
    "unwrap": ("wstETH unwrap", 115_000),
    "withdrawal_request": ("Lido request (stETH, approved)", 228_163),
    "claim": ("Lido claim", 89_818),
}
ETHER = 10**18


def _fixtures() -> Any:
    """The test suite's deploy helper, so the benchmark measures the same wiring."""
    from support import load_conftest

    return load_conftest("contracts/diva")


def tx_gas(contract: Any, function: str, *args: Any, sender: str, value: int = 0) -> int:
    """Send one call as a fresh transaction and return its transaction gas."""
    evm = boa.env.evm
    evm.reset_access_counters()
    state = evm.vm.state
    warm = [sender, contract.address] + [f"0x{i:040x}" for i in range(1, 11)]
    for address in warm:
        state.mark_address_warm(bytes.fromhex(str(address)[2:]))
    with boa.env.prank(sender):
        getattr(contract, function)(*args, value=value)
    computation = contract._computation
    calldata = bytes(computation.msg.data)
    used = 21_000 + sum(16 if b else 4 for b in calldata) + computation.get_gas_used()
    return used - min(computation.get_gas_refund(), used // 5)


def measure() -> dict[str, int]:
    """Run each user operation once on a freshly deployed system."""
    fx = _fixtures()
    lst = fx.deploy_lst()
    # other stakers already hold divETH and wdivETH, as on a live system
    for label in ("seed-1", "seed-2"):
        seed = lst.account(label)
        lst.deposit(seed, 5 * ETHER)
        with boa.env.prank(seed):
            lst.token.approve(lst.wrapper.address, ETHER)
            lst.wrapper.wrap(ETHER)
            lst.queue.request_withdrawals([ETHER // 2])
    user = lst.account("bench-user")
    gas = {
        "deposit_first": tx_gas(lst.pool, "deposit", sender=user, value=3 * ETHER),
        "deposit_repeat": tx_gas(lst.pool, "deposit", sender=user, value=3 * ETHER),
    }
    with boa.env.prank(user):
        lst.token.approve(lst.wrapper.address, 2 * ETHER)
    gas["wrap"] = tx_gas(lst.wrapper, "wrap", 2 * ETHER, sender=user)
    gas["unwrap"] = tx_gas(lst.wrapper, "unwrap", ETHER, sender=user)
    gas["withdrawal_request"] = tx_gas(lst.queue, "request_withdrawals", [ETHER], sender=user)
    lst.report(lst.pool.beacon_balance())
    request_id = lst.queue.last_request_id()
    assert lst.queue.last_finalized_id() == request_id
    gas["claim"] = tx_gas(lst.queue, "claim_withdrawal", request_id, sender=user)
    return gas


def run() -> dict[str, float]:
    gas = measure()
    table = Table(title="Diva LST gas per user operation (transaction gas)")
    for column in ("operation", "gas", "anchor", "anchor gas", "ratio", f"goal ≤ {GOAL}×"):
        table.add_column(column, justify="left" if column in ("operation", "anchor") else "right")
    for op, value in gas.items():
        name, anchor = ANCHORS[op]
        ratio = value / anchor
        verdict = "[green]met" if ratio <= GOAL else f"[yellow]{value - int(GOAL * anchor):+,}"
        table.add_row(op, f"{value:,}", name, f"{anchor:,}", f"{ratio:.2f}", verdict)
    Console().print(table)
    return {f"gas.lst.{op}": float(value) for op, value in gas.items()}


if __name__ == "__main__":
    run()
