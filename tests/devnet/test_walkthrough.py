"""The `make demo` scenario: final state in-process and on anvil, and the CLI's failure path."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import nektar.cli.commands  # noqa: F401  (registers every command, as `nektar` does)
import nektar.cli.demo as demo_command
from nektar.chain import InProcessBackend, TransactionReverted
from nektar.chain.anvil import start_anvil
from nektar.chain.deposit import DepositContract
from nektar.cli.main import app
from nektar.devnet.walkthrough import DAILY_REWARD, STAKERS, WalkthroughResult, run_walkthrough

ETH = 10**18


def check_final_state(result: WalkthroughResult) -> None:
    assert result.rate_after > result.rate_before == 1
    assert result.deposit_count == 1
    assert result.beacon_balance == 32 * ETH + DAILY_REWARD
    deposited = sum(plan.deposit for plan in STAKERS)
    withdrawn = sum(plan.withdraw for plan in STAKERS)
    # Pool: stakers' ETH + the 1000-wei dead-share deposit + the reward − what was paid out.
    assert result.total_pooled_ether == deposited + 1000 + DAILY_REWARD - withdrawn
    for plan, staker in zip(STAKERS, result.stakers, strict=True):
        assert staker.name == plan.name
        assert staker.claimed == plan.withdraw  # requested at rate 1: paid what was requested
        assert staker.eth_end == staker.eth_start - plan.deposit + plan.withdraw
        remaining = plan.deposit - plan.withdraw
        # The remaining divETH earned the reward, but never more than the whole reward.
        assert remaining < staker.div_eth_end < remaining + DAILY_REWARD
    assert len(result.gas["deposit"]) == len(STAKERS)
    assert all(g > 21_000 for used in result.gas.values() for g in used)


def test_walkthrough_in_process():
    steps = []
    result = run_walkthrough(InProcessBackend(), on_step=steps.append)
    check_final_state(result)
    assert [s.title for s in steps if s.title.startswith("alice")] == [
        "alice deposits",
        "alice approves",
        "alice wraps",
        "alice unwraps",
        "alice requests a withdrawal",
        "alice claims",
    ]


@pytest.mark.anvil
def test_walkthrough_on_anvil_matches_in_process():
    in_process = run_walkthrough(InProcessBackend())
    with start_anvil() as node:
        on_anvil = run_walkthrough(node.backend())
    check_final_state(on_anvil)
    assert on_anvil.gas == in_process.gas
    assert on_anvil.rate_after == in_process.rate_after
    assert on_anvil.deposit_root == in_process.deposit_root


def test_demo_command_reports_failure_plainly(monkeypatch: pytest.MonkeyPatch):
    def failing_walkthrough(**_: object) -> WalkthroughResult:
        backend = InProcessBackend()  # a real revert from a real EVM
        DepositContract.deploy(backend).deposit(
            backend.accounts[0], b"\x00" * 48, b"\x00" * 32, b"\x00" * 96, b"\x00" * 32, 10**9
        )
        raise AssertionError("unreachable: the deposit must revert")

    monkeypatch.setattr(demo_command, "run_walkthrough", failing_walkthrough)
    outcome = CliRunner().invoke(app, ["demo", "--lst-only"])
    assert outcome.exit_code == 1
    text = " ".join(outcome.output.split())  # undo the console's line wrapping
    assert "demo failed: DepositContract.deposit reverted: DepositContract: reconstructed" in text
    assert "Traceback" not in text
    assert isinstance(outcome.exception, SystemExit)
    with pytest.raises(TransactionReverted):
        failing_walkthrough()
