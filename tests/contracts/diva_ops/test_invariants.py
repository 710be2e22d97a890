"""Hypothesis stateful test over the whole operator layer: random bonds in three assets,
withdrawals, proposals, registrations (real BLS keys and EIP-712 signatures), DKG timeouts,
oracle reports (confirmations, front-run write-offs, exits, withdrawals, missed duties,
rewards; sometimes without quorum, sometimes replayed), activations, ejections.

Invariants checked after every step:
- capacity is never below the key shares in use, and collateral backing them cannot be
  withdrawn, unless a penalty (or ejection) took it;
- collateral is conserved per asset: bonded + penalised + withdrawn = deposited, and the
  registry holds exactly what it accounts for;
- validators move only along the lifecycle's edges, activate only after confirmation, and
  every protocol deposit carries the vault's credentials;
- no report applies without quorum or twice, and each applied report's reward split adds up
  exactly (credited + burnt = fee shares);
- committed ETH, reserved and active key shares match the validators' states.
"""

from __future__ import annotations

from collections.abc import Iterator

import boa
import pytest
from eth_abi import decode
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from nektar.chain.selection import Performance

from .conftest import (
    ACTIVATED,
    ETHER,
    EXITING,
    FAILED,
    FRAME,
    PROPOSED,
    REGISTERED,
    WITHDRAWN,
    Ops,
    deploy_ops,
)

EDGES = {
    (PROPOSED, REGISTERED),
    (PROPOSED, FAILED),
    (REGISTERED, ACTIVATED),
    (REGISTERED, FAILED),
    (ACTIVATED, EXITING),
    (EXITING, WITHDRAWN),
}
OPERATORS = 6
ERROR_SELECTOR = bytes.fromhex("08c379a0")
_SYSTEM: list[Ops] = []


@pytest.fixture(scope="module", autouse=True)
def _deployed() -> Iterator[None]:
    """Deploy once, outside the anchor titanoboa's plugin puts around each example."""
    with boa.env.anchor():
        _SYSTEM.append(_deploy())
        yield
        _SYSTEM.clear()


def _system() -> Ops:
    return _SYSTEM[0]


def _deploy() -> Ops:
    """The protocol with six operators holding ETH, divETH and wdivETH, and 300 ETH staked."""
    ops = deploy_ops()
    for i in range(OPERATORS):
        operator = ops.add_operator(f"inv-{i}", bond=2 * ETHER)
        ops.lst.deposit(operator.address, 20 * ETHER)
        with boa.env.prank(operator.address):
            ops.lst.token.approve(ops.operators.address, 2**255)
            ops.lst.token.approve(ops.lst.wrapper.address, 2**255)
            ops.lst.wrapper.wrap(5 * ETHER)
            ops.lst.wrapper.approve(ops.operators.address, 2**255)
    ops.stake(300 * ETHER)
    return ops


def _reverted(call) -> str | None:
    """Run `call`; return None, or the revert reason (which must be a named one)."""
    try:
        call()
    except boa.BoaError as exc:
        raw = exc.stack_trace.last_frame.vm_error.args[0]
        assert isinstance(raw, bytes) and raw[:4] == ERROR_SELECTOR, f"anonymous revert: {raw!r}"
        return decode(["string"], raw[4:])[0]
    return None


class OperatorLayer(RuleBasedStateMachine):
    @initialize(registered=st.integers(0, 2), activated=st.booleans())
    def setup(self, registered: int, activated: bool) -> None:
        """The shared deployment; start with up to two registered validators, the first
        possibly activated."""
        self.ops = _system()  # titanoboa's plugin rolls each example back
        self.members = dict(self.ops.members)
        self.registrations = dict(self.ops.registrations)
        self.deposited = [int(self.ops.operators.total_deposited(i)) for i in range(3)]
        self.statuses: dict[int, int] = {}
        self.confirmed: set[int] = set()
        self.weakened: set[int] = set()  # penalised or collateral value fell
        for _ in range(registered):
            self.propose()
            self.register(len(self.statuses) - 1)
        if registered and activated:
            self.report([1], 0, [0] * OPERATORS, False, True)
            self.activate()

    def teardown(self) -> None:
        if hasattr(self, "ops"):
            self.ops.members = self.members
            self.ops.registrations = self.registrations

    # ---- helpers

    def _op(self, index: int):
        return self.ops.members[index % OPERATORS + 1]

    def _ids(self, status: int) -> list[int]:
        return [v for v, s in self.statuses.items() if s == status]

    def _check_deposits(self, logs) -> None:
        credentials = bytes(self.ops.validators.WITHDRAWAL_CREDENTIALS())
        for log in logs:
            if type(log).__name__ == "DepositEvent":
                assert bytes(log.withdrawal_credentials) == credentials

    # ---- operators

    @rule(index=st.integers(0, 5), asset=st.integers(0, 2), amount=st.integers(1, 3))
    def bond(self, index: int, asset: int, amount: int) -> None:
        op = self._op(index)
        registry = self.ops.operators
        with boa.env.prank(op.address):
            if asset == 0:
                registry.bond_eth(value=amount * ETHER)
                units = amount * ETHER
            elif asset == 1:
                units = min(amount * 10**17, self.ops.lst.token.sharesOf(op.address))
                registry.bond_div_eth(units)
            else:
                units = min(amount * 10**17, self.ops.lst.wrapper.balanceOf(op.address))
                registry.bond_wdiv_eth(units)
        self.deposited[asset] += units

    @rule(index=st.integers(0, 5), eighths=st.integers(1, 8))
    def withdraw(self, index: int, eighths: int) -> None:
        op = self._op(index)
        held = self.ops.operators.collateral(op.operator_id)
        amounts = [h * eighths // 8 for h in held]
        if not any(amounts):
            return
        with boa.env.prank(op.address):
            reason = _reverted(lambda: self.ops.operators.request_withdrawal(*amounts))
            if reason is not None:
                assert reason == "operator: collateral backs active key shares", reason
                return
            boa.env.time_travel(seconds=self.ops.operators.withdrawal_delay())
            reason = _reverted(self.ops.operators.withdraw)
            assert reason in (None, "operator: collateral backs active key shares"), reason

    @rule(index=st.integers(0, 5), pause=st.booleans())
    def pause_or_resume(self, index: int, pause: bool) -> None:
        op = self._op(index)
        with boa.env.prank(op.address):
            _reverted(self.ops.operators.pause if pause else self.ops.operators.resume)

    @rule(index=st.integers(0, 5))
    def eject(self, index: int) -> None:
        op = self._op(index)
        if _reverted(lambda: self.ops.operators.eject(op.operator_id)) is None:
            assert op.operator_id in self.weakened
            for vid in self._ids(ACTIVATED):
                if op.operator_id in self.ops.validators.validator(vid)[4]:
                    self.ops.validators.request_exit_for_ejection(vid)
                    self.statuses[vid] = EXITING

    # ---- validators

    @rule()
    def propose(self) -> None:
        """Anyone proposes; the buffer or the operators' capacity may not allow it."""
        vid = self.ops.validators.validator_count() + 1
        with boa.env.prank(self.ops.account("proposer")):
            reason = _reverted(self.ops.validators.propose)
        if reason is None:
            self.statuses[vid] = PROPOSED
        else:
            assert reason.startswith("validator: buffer below 32 ETH"), reason

    @precondition(lambda self: self._ids(PROPOSED))
    @rule(pick=st.integers(0, 10))
    def register(self, pick: int) -> None:
        proposed = self._ids(PROPOSED)
        vid = proposed[pick % len(proposed)]
        if boa.env.evm.patch.timestamp > self.ops.validators.validator(vid)[3]:
            return  # too late: `time_out` will fail it
        self.ops.register(vid)
        self._check_deposits(self.ops.validators.get_logs())
        self.statuses[vid] = REGISTERED

    @precondition(lambda self: self._ids(PROPOSED))
    @rule()
    def time_out(self) -> None:
        vid = self._ids(PROPOSED)[0]
        boa.env.time_travel(seconds=self.ops.validators.dkg_timeout() + 1)
        before = self.ops.validators.validator_count()
        self.ops.validators.fail(vid)
        self.statuses[vid] = FAILED
        if self.ops.validators.validator_count() > before:
            self.statuses[before + 1] = PROPOSED

    @precondition(lambda self: any(v in self.confirmed for v in self._ids(REGISTERED)))
    @rule()
    def activate(self) -> None:
        vid = next(v for v in self._ids(REGISTERED) if v in self.confirmed)
        self.ops.activate(vid)
        self._check_deposits(self.ops.validators.get_logs())
        self.statuses[vid] = ACTIVATED

    @rule(
        verdicts=st.lists(st.sampled_from([0, 1, 1, 1, 2]), max_size=4),
        exits=st.integers(0, 2),
        missed=st.lists(st.integers(0, 3), min_size=OPERATORS, max_size=OPERATORS),
        reward=st.booleans(),
        quorum_first=st.booleans(),
    )
    def report(self, verdicts, exits, missed, reward, quorum_first) -> None:
        ops = self.ops
        ops.next_frame()
        registered = [v for v in self._ids(REGISTERED) if v not in self.confirmed]
        confirmed = [v for v, verdict in zip(registered, verdicts, strict=False) if verdict == 1]
        rejected = [v for v, verdict in zip(registered, verdicts, strict=False) if verdict == 2]
        exiting = self._ids(EXITING)
        to_exit = self._ids(ACTIVATED)[:exits]
        lost = len(rejected) * ETHER
        withdrawn_balance = 32 * ETHER * len(exiting)
        credited = ops.pool.deposited_ether() - ops.pool.beacon_deposited_ether()
        balance = ops.pool.beacon_balance() + credited - lost - withdrawn_balance
        pooled = ops.pool.total_pooled_ether()
        gain = pooled * 1000 * FRAME // (10_000 * 365 * 86_400) // 2 if reward else 0
        if balance + gain < 0 or not self._ids(ACTIVATED) + exiting:
            gain = 0
        boa.env.set_balance(
            ops.lst.vault.address, boa.env.get_balance(ops.lst.vault.address) + withdrawn_balance
        )
        entries = [
            Performance(i, ops.operators.operator(i)[5], missed[i - 1])
            for i in range(1, OPERATORS + 1)
            if ops.operators.operator(i)[5]
        ]
        report = ops.report(
            beacon_balance=max(balance, 0) + gain,
            confirmed=tuple(confirmed),
            rejected=tuple(rejected),
            to_exit=tuple(to_exit),
            withdrawn=tuple(exiting),
            exited_validators=ops.oracle.last_exited_validators() + len(exiting),
            active_validators=len(self._ids(ACTIVATED)),
            vault_balance=withdrawn_balance,
            performance=tuple(e.packed() for e in entries),
        )
        submitter = ops.account("submitter")
        if not quorum_first:
            ops.agree(report, ops.committee[:1])
            with boa.env.prank(submitter):
                assert _reverted(lambda: ops.oracle.submit(report.as_tuple())) == (
                    "oracle: no consensus for this frame"
                )
            ops.agree(report, ops.committee[1:])
        else:
            ops.agree(report)
        rewards_before = {
            e.operator_id: ops.operators.reward_shares(e.operator_id) for e in entries
        }
        with boa.env.prank(submitter):
            ops.oracle.submit(report.as_tuple())
            logs = {type(e).__name__: e for e in ops.oracle.get_logs()}
            assert _reverted(lambda: ops.oracle.submit(report.as_tuple())) == (
                "oracle: report already applied"
            )
        fee_shares = logs["ReportApplied"].fee_shares
        settled = logs["RewardsSettled"]
        paid = sum(
            ops.operators.reward_shares(e.operator_id) - rewards_before[e.operator_id]
            for e in entries
        )
        assert settled.reward_shares == fee_shares
        assert paid == settled.paid_shares
        assert paid + settled.burnt_shares == fee_shares
        for e in entries:
            if e.missed:
                self.weakened.add(e.operator_id)
        if lost:  # a negative rebase lowers the value of divETH and wdivETH collateral
            self.weakened |= set(range(1, OPERATORS + 1))
        self.confirmed |= set(confirmed)
        for vid in rejected:
            self.statuses[vid] = FAILED
        for vid in to_exit:
            self.statuses[vid] = EXITING
        for vid in exiting:
            self.statuses[vid] = WITHDRAWN
        event(f"states reached: {sorted(set(self.statuses.values()))}")

    # ---- invariants

    @invariant()
    def lifecycle_edges(self) -> None:
        if not hasattr(self, "ops"):
            return
        seen = getattr(self, "_seen", {})
        for vid, expected in self.statuses.items():
            status, confirmed, *_ = self.ops.validators.validator(vid)
            assert status == expected
            previous = seen.get(vid, status)
            assert previous == status or (previous, status) in EDGES
            if status in (ACTIVATED, EXITING, WITHDRAWN):
                assert confirmed and vid in self.confirmed
            seen[vid] = status
        self._seen = seen

    @invariant()
    def capacity_and_backing(self) -> None:
        if not hasattr(self, "ops"):
            return
        registry = self.ops.operators
        for operator_id in range(1, OPERATORS + 1):
            *_, capacity, used, active = registry.operator(operator_id)
            assert registry.free_capacity(operator_id) == max(capacity - used, 0)
            assert active <= used
            if operator_id not in self.weakened:
                assert used <= capacity
                assert registry.backing_value(operator_id) >= registry.required_bond(used)

    @invariant()
    def collateral_conserved(self) -> None:
        if not hasattr(self, "ops"):
            return
        registry = self.ops.operators
        held = [0, 0, 0]
        rewards = 0
        for operator_id in range(1, OPERATORS + 1):
            for asset, amount in enumerate(registry.collateral(operator_id)):
                held[asset] += amount
            rewards += registry.reward_shares(operator_id)
        for asset in range(3):
            assert registry.total_deposited(asset) == self.deposited[asset]
            assert (
                held[asset] + registry.total_penalised(asset) + registry.total_withdrawn(asset)
                == self.deposited[asset]
            )
        assert boa.env.get_balance(registry.address) == held[0]
        assert self.ops.lst.token.sharesOf(registry.address) == held[1] + rewards
        assert self.ops.lst.wrapper.balanceOf(registry.address) == held[2]

    @invariant()
    def shares_match_validators(self) -> None:
        if not hasattr(self, "ops"):
            return
        count = {s: len(self._ids(s)) for s in range(1, 7)}
        validators, registry = self.ops.validators, self.ops.operators
        assert validators.committed_ether() == (
            32 * ETHER * count[PROPOSED] + 31 * ETHER * count[REGISTERED]
        )
        in_use = sum(registry.operator(i)[4] for i in range(1, OPERATORS + 1))
        live = count[PROPOSED] + count[REGISTERED] + count[ACTIVATED] + count[EXITING]
        assert in_use == 4 * live
        assert registry.total_active_shares() == 4 * (count[ACTIVATED] + count[EXITING])


TestOperatorLayer = OperatorLayer.TestCase
TestOperatorLayer.settings = settings(
    max_examples=max(10, settings.default.max_examples // 10),  # ci: 10, fuzz: 500
    stateful_step_count=16,
    deadline=None,
)
