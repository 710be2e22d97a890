"""The report's restake of newly minted nETH never depends on the gas the submitter chose: at
the lowest gas at which the oracle's `submit` succeeds (what eth_estimateGas returns) the vault
deposit runs; with less the report reverts instead of silently leaving the nETH idle; a deposit
the vault refuses leaves the nETH idle and says so (`RestakeDeferred`)."""

from __future__ import annotations

import boa

from .conftest import ETHER, Native

GAS_CEILING = 8_000_000


def _events(called, name: str) -> list:
    return [e for e in called.get_logs() if type(e).__name__ == name]


def _succeeds(submit, gas: int) -> bool:
    with boa.env.anchor():
        try:
            submit(gas=gas)
        except Exception:  # any failure (revert, out of gas) means "too little"
            return False
        return True


def _estimate(submit) -> int:
    """eth_estimateGas's rule: the lowest gas at which the call does not fail."""
    low, high = 0, GAS_CEILING
    assert _succeeds(submit, high)
    while high - low > 1_000:
        middle = (low + high) // 2
        low, high = (low, middle) if _succeeds(submit, middle) else (middle, high)
    return high


def _activated_pod(native: Native) -> tuple[str, object, int]:
    owner, pod = native.create_pod("alice")
    with boa.env.prank(owner):
        pod.delegate(native.ops.members[1].address)
    (validator_id,) = native.stake(owner, pod)
    native.register(validator_id)
    native.apply(confirmed=(validator_id,))
    native.ops.activate(validator_id)
    return owner, pod, validator_id


def _submit(native: Native, validator_id: int, balance: int):
    ops = native.ops
    report = native.report({validator_id: balance})
    ops.agree(report)
    submitter = ops.account("submitter")

    def submit(gas: int) -> None:
        with boa.env.prank(submitter):
            ops.oracle.submit(report.as_tuple(), gas=gas)

    return submit


def test_report_at_its_estimated_gas_restakes(native: Native):
    _, pod, validator_id = _activated_pod(native)
    submit = _submit(native, validator_id, 32 * ETHER)
    estimate = _estimate(submit)
    with boa.env.anchor(), boa.reverts():  # below it the whole report fails, nothing half-done
        submit(gas=estimate - 2_000)
    submit(gas=estimate)
    assert [e.amount for e in _events(native.ops.oracle, "Restaked")] == [32 * ETHER]
    assert _events(native.ops.oracle, "RestakeDeferred") == []
    assert pod.idle() == 0
    assert native.vault.value_of(pod.address) >= 32 * ETHER - 1


def test_a_refused_restake_is_deferred_and_said(native: Native):
    owner, pod, validator_id = _activated_pod(native)
    operator = native.ops.members[1].address
    with boa.env.prank(operator):
        native.vault.set_requires_approval(True)  # the vault now refuses the pod's deposit
    native.apply({validator_id: 32 * ETHER})
    [deferred] = _events(native.ops.oracle, "RestakeDeferred")
    assert (deferred.operator, deferred.amount) == (operator, 32 * ETHER)
    assert pod.idle() == 32 * ETHER and native.neth.balanceOf(pod.address) == 32 * ETHER
    with boa.env.prank(operator):
        native.vault.approve_restaker(pod.address, True)
    with boa.env.prank(owner):
        pod.restake()
    assert pod.idle() == 0 and native.vault.value_of(pod.address) >= 32 * ETHER - 1
