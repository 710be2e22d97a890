"""Hypothesis stateful invariants of the Diva liquid-staking contracts (in-process EVM).

Two machines drive the real contracts with random sequences of user, beacon-chain and
oracle actions, and after every step check the invariants of issue 3:

- conservation: pool ETH + vault ETH + ETH locked for claims + reported beacon balance +
  ETH in transit = total pooled ETH + locked ETH + vault ETH not yet reported;
- divETH supply: totalSupply() == total pooled ETH exactly, and the sum of all balances is
  below it by less than 1 wei per holder (each balance is rounded down once);
- Σ shares of all holders == total shares;
- round trips (deposit→request→claim, wrap→unwrap, deposit→redeem, mint→withdraw) never
  profit, and the share price falls only in a step that reports a loss;
- queue ledger: unfinalized ETH/shares == Σ unfinalized requests == divETH shares held by
  the queue; locked ETH == Σ finalized unclaimed requests; nothing is claimed twice or
  before finalization;
- ERC-20/ERC-4626: previews exact and rounded in the vault's favour, max* never revert,
  wdivETH backed 1:1 by divETH shares, donations to the vault do not move its price.

Each example starts from the session's deployed system inside `boa.env.anchor()`.
Profile "ci": 50 steps × (26 + 16) examples = 2,100 steps; "fuzz": 20 steps × the
profile's max_examples (5,000) = 100,000 steps per machine, 200,000 in all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boa
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from .conftest import ETHER, Lst, deploy_lst

HERE = Path(__file__).resolve().parent
FUZZ = os.environ.get("HYPOTHESIS_PROFILE", "ci") == "fuzz"
# ci: 50 steps × (26 + 16) examples = 2,100 steps; fuzz: 20 steps × 5,000 examples per machine
STEPS = 20 if FUZZ else 50
YEAR = 365 * 86_400
MIN_REQUEST, MAX_REQUEST = 10**17, 1000 * ETHER
ELAPSED = st.sampled_from([0, 3_600, 86_400, 30 * 86_400, YEAR])


@dataclass
class Request:
    owner: str
    shares: int
    amount: int
    final: int | None = None
    claimed: bool = False


@pytest.fixture(scope="module")
def world() -> dict[str, Any]:
    """A system whose minimum deposit is 1,000 wei (to reach rounding edges), funded actors."""
    lst = deploy_lst(min_deposit=1000)
    actors = [lst.account(f"actor-{i}") for i in range(4)]
    donor = lst.account("donor")
    lens = boa.load(HERE / "Lens.vy")
    holders = [*actors, lst.token.DEAD_ADDRESS(), lst.queue.address, lst.admin, lst.wrapper.address]
    return {"lst": lst, "actors": actors, "donor": donor, "lens": lens, "holders": holders}


class _Base(RuleBasedStateMachine):
    """Shared set-up: an anchored copy of the world, a snapshot reader and the rate check."""

    world: dict[str, Any]

    def __init__(self) -> None:
        super().__init__()
        w = self.world
        self.lst: Lst = w["lst"]
        self.actors: list[str] = w["actors"]
        self.donor: str = w["donor"]
        self._anchor = boa.env.anchor()
        self._anchor.__enter__()
        self.rate = self.lst.rate()
        self.loss_reported = False

    def teardown(self) -> None:
        self._anchor.__exit__(None, None, None)

    vault_checks = False

    def snap(self) -> Any:
        lst = self.lst
        return self.world["lens"].snapshot(
            lst.pool.address,
            lst.token.address,
            lst.queue.address,
            lst.vault.address,
            lst.wrapper.address,
            self.world["holders"],
            self.actors if self.vault_checks else [],
        )

    @invariant()
    def invariants(self) -> None:
        """One snapshot per step (reading it costs more EVM work than most steps)."""
        s = self.snap()
        self.share_price_falls_only_on_reported_loss(s)
        self.supply_matches_pooled_ether(s)
        self.check(s)

    def check(self, s: Any) -> None:
        raise NotImplementedError

    def share_price_falls_only_on_reported_loss(self, s: Any) -> None:
        pooled, shares = s.pooled, s.total_shares
        old_pooled, old_shares = self.rate
        if not self.loss_reported:
            assert pooled * old_shares >= old_pooled * shares, "share price fell without a loss"
        self.rate, self.loss_reported = (pooled, shares), False

    def supply_matches_pooled_ether(self, s: Any) -> None:
        assert s.total_supply == s.pooled
        assert s.sum_shares == s.total_shares
        # every balance is rounded down once: the sum is short by < 1 wei per holder
        assert s.sum_balances <= s.pooled
        assert s.pooled - s.sum_balances < max(s.holders_with_shares, 1)


class LstMachine(_Base):
    """Pool, queue and vault under deposits, beacon events, reports, requests and claims."""

    requests = Bundle("requests")

    def __init__(self) -> None:
        super().__init__()
        self.model: dict[int, Request] = {}
        self.beacon_true = self.lst.pool.beacon_balance()
        self.credited = self.lst.pool.beacon_deposited_ether()
        for who in self.actors:  # stakers exist from the start, so requests can be made
            self.lst.deposit(who, 50 * ETHER)
        self.rate = self.lst.rate()

    # ------------------------------------------------------------ stakers

    @rule(
        actor=st.integers(0, 3),
        amount=st.one_of(st.integers(1000, 10**6), st.integers(10**15, 200 * ETHER)),
    )
    def deposit(self, actor: int, amount: int) -> None:
        who = self.actors[actor]
        pooled, shares = self.lst.rate()
        expected = amount * shares // pooled
        if expected == 0:
            with boa.reverts("divETH: deposit buys zero shares"):
                self.lst.deposit(who, amount)
            return
        before = self.lst.token.balanceOf(who)
        assert self.lst.deposit(who, amount) == expected
        assert self.lst.token.balanceOf(who) - before <= amount, "deposit gave more than paid"

    @rule(amount=st.integers(1, 5 * ETHER))
    def donate(self, amount: int) -> None:
        with boa.env.prank(self.donor):
            self.lst.pool.receive_donation(value=amount)

    @rule(actor=st.integers(0, 3), percent=st.integers(1, 100))
    def burn_shares(self, actor: int, percent: int) -> None:
        who = self.actors[actor]
        shares = self.lst.token.sharesOf(who) * percent // 100
        if shares:
            with boa.env.prank(who):
                self.lst.token.burn_shares(shares)

    @rule(src=st.integers(0, 3), dst=st.integers(0, 3), percent=st.integers(0, 100))
    def transfer(self, src: int, dst: int, percent: int) -> None:
        a, b = self.actors[src], self.actors[dst]
        amount = self.lst.token.balanceOf(a) * percent // 100
        pooled, total = self.lst.rate()
        moved = amount * total // pooled
        before_a, before_b = self.lst.token.sharesOf(a), self.lst.token.sharesOf(b)
        with boa.env.prank(a):
            self.lst.token.transfer(b, amount)
        if a != b:
            assert self.lst.token.sharesOf(a) == before_a - moved
            assert self.lst.token.sharesOf(b) == before_b + moved

    @rule(
        target=requests,
        actor=st.integers(0, 3),
        owner=st.integers(0, 3),
        parts=st.lists(st.integers(0, 100), min_size=1, max_size=3),
    )
    def request(self, actor: int, owner: int, parts: list[int]) -> Any:
        who, to = self.actors[actor], self.actors[owner]
        each = min(self.lst.token.balanceOf(who) // len(parts), MAX_REQUEST)
        if each < MIN_REQUEST:
            event("request: balance too small")
            return multiple()
        amounts = [MIN_REQUEST + (each - MIN_REQUEST) * p // 100 for p in parts]
        pooled, total = self.lst.rate()
        with boa.env.prank(who):
            ids = list(self.lst.queue.request_withdrawals(amounts, to))
        event("request: made")
        for request_id, amount in zip(ids, amounts, strict=True):
            self.model[request_id] = Request(to, amount * total // pooled, amount)
            assert self.lst.queue.get_request(request_id)[:3] == (
                to,
                amount * total // pooled,
                amount,
            )
        return multiple(*ids)

    @rule(request_id=requests)
    def claim(self, request_id: int) -> None:
        """Any request, any state: claimed twice or too early must revert."""
        req = self.model[request_id]
        with boa.env.prank(req.owner):
            if req.claimed:
                with boa.reverts("queue: request already claimed"):
                    self.lst.queue.claim_withdrawal(request_id)
            elif req.final is None:
                with boa.reverts("queue: request not finalized"):
                    self.lst.queue.claim_withdrawal(request_id)
            else:
                self._claim(request_id)

    @rule()
    def claim_all_finalized(self) -> None:
        for request_id, req in self.model.items():
            if req.final is not None and not req.claimed:
                self._claim(request_id)

    def _claim(self, request_id: int) -> None:
        req = self.model[request_id]
        before = boa.env.get_balance(req.owner)
        with boa.env.prank(req.owner):
            self.lst.queue.claim_withdrawal(request_id)
        assert boa.env.get_balance(req.owner) - before == req.final
        assert req.final <= req.amount, "a withdrawal paid more than was requested"
        req.claimed = True
        event("claim: paid")

    @rule(request_id=requests, to=st.integers(0, 3))
    def transfer_request(self, request_id: int, to: int) -> None:
        req = self.model[request_id]
        if req.claimed:
            return
        with boa.env.prank(req.owner):
            self.lst.queue.transferFrom(req.owner, self.actors[to], request_id)
        req.owner = self.actors[to]

    # ------------------------------------------------------------ beacon chain

    @rule(percent=st.integers(1, 100))
    def deposit_to_beacon(self, percent: int) -> None:
        free = self.lst.pool.buffered_ether() - self.lst.queue.unfinalized_ether()
        amount = max(free, 0) * percent // 100
        if amount:
            with boa.env.prank(self.lst.depositor):
                self.lst.pool.withdraw_for_deposit(amount)

    @rule(percent=st.integers(1, 100))
    def beacon_credits_deposits(self, percent: int) -> None:
        pending = self.lst.pool.deposited_ether() - self.credited
        amount = pending * percent // 100
        self.credited += amount
        self.beacon_true += amount

    @rule(bps=st.integers(-600, 300))
    def beacon_rewards_or_penalties(self, bps: int) -> None:
        self.beacon_true += self.beacon_true * bps // 10_000

    @rule(percent=st.integers(1, 100))
    def beacon_withdrawal(self, percent: int) -> None:
        amount = self.beacon_true * percent // 100
        self.beacon_true -= amount
        vault = self.lst.vault.address
        boa.env.set_balance(vault, boa.env.get_balance(vault) + amount)

    @rule(elapsed=ELAPSED, validators=st.integers(0, 10))
    def report(self, elapsed: int, validators: int) -> None:
        lst, pool = self.lst, self.lst.pool
        boa.env.time_travel(seconds=elapsed)
        pre, pre_shares = lst.rate()
        vault_amount = boa.env.get_balance(lst.vault.address)
        buffered = pool.buffered_ether() + vault_amount
        post = buffered + (pool.deposited_ether() - self.credited) + self.beacon_true
        since = boa.env.timestamp - pool.last_report_timestamp()
        args = (self.beacon_true, validators, self.credited, vault_amount)
        with boa.env.prank(lst.oracle):
            if post >= pre and (post - pre) * 10_000 * YEAR > pre * pool.max_apr_bps() * since:
                with boa.reverts("pool: rewards exceed the APR limit"):
                    pool.report(*args)
                event("report: rejected, rewards above the APR limit")
                return
            if post < pre and (pre - post) * 10_000 > pre * pool.max_loss_bps():
                with boa.reverts("pool: loss exceeds the per-report limit"):
                    pool.report(*args)
                event("report: rejected, loss above the limit")
                return
            fee_before = lst.token.sharesOf(lst.admin)
            first = lst.queue.last_finalized_id() + 1
            pool.report(*args)
        self.loss_reported = post < pre
        event(f"report: applied with {'a loss' if post < pre else 'rewards or none'}")
        fee = (post - pre) * pool.fee_bps() // 10_000 if post > pre else 0
        fee_shares = fee * pre_shares // (post - fee) if fee else 0
        assert lst.token.sharesOf(lst.admin) - fee_before == fee_shares
        self._check_finalization(first, buffered, post, pre_shares + fee_shares)

    @rule(elapsed=ELAPSED)
    def report_again(self, elapsed: int) -> None:
        """Reports matter most (they finalize requests and move the rate): twice the weight."""
        self.report(elapsed, validators=1)

    def _check_finalization(self, first: int, available: int, pooled: int, shares: int) -> None:
        """Requests are finalized in order while the buffer lasts, at min(request, rate)."""
        last = first - 1
        for request_id in range(first, min(len(self.model), first + 99) + 1):
            req = self.model[request_id]
            value = min(req.amount, req.shares * pooled // shares)
            if value > available:
                break
            available -= value
            req.final = value
            last = request_id
        assert self.lst.queue.last_finalized_id() == last
        if last >= first:
            event("report: finalized requests")
        else:
            event("report: requests wait for ETH" if len(self.model) >= first else "report: none")
        for request_id in range(first, last + 1):
            assert self.lst.queue.get_request(request_id)[2] == self.model[request_id].final

    # ------------------------------------------------------------ invariants

    def check(self, s: Any) -> None:
        self.conservation(s)
        self.queue_ledger(s)

    def conservation(self, s: Any) -> None:
        unreported = s.vault_eth
        assert s.pool_eth == s.buffered
        assert s.queue_eth == s.locked
        assert s.pooled == s.buffered + s.in_transit + s.beacon
        assert (
            s.pool_eth + s.vault_eth + s.queue_eth + s.beacon + s.in_transit
            == s.pooled + s.locked + unreported
        )

    def queue_ledger(self, s: Any) -> None:
        pending = [r for i, r in self.model.items() if i > s.last_finalized_id]
        unclaimed = [r for i, r in self.model.items() if i <= s.last_finalized_id and not r.claimed]
        assert s.last_request_id == len(self.model)
        assert s.unfinalized_ether == sum(r.amount for r in pending)
        assert s.unfinalized_shares == sum(r.shares for r in pending) == s.queue_shares
        assert s.locked == sum(r.final for r in unclaimed)
        assert all(r.final is not None for i, r in self.model.items() if i <= s.last_finalized_id)


class VaultMachine(_Base):
    """divETH and wdivETH under ERC-20/ERC-4626 operations, rebases up and down."""

    vault_checks = True

    def __init__(self) -> None:
        super().__init__()
        lst = self.lst
        self.donated = 0
        for who in self.actors:
            lst.deposit(who, 100 * ETHER)
            with boa.env.prank(who):
                lst.token.approve(lst.wrapper.address, 2**256 - 1)
        with boa.env.prank(lst.depositor):
            lst.pool.withdraw_for_deposit(200 * ETHER)
        lst.report(200 * ETHER, 6, 200 * ETHER, elapsed=0)
        self.rate = lst.rate()

    def _exact(self) -> tuple[int, int]:
        return self.lst.rate()

    @rule(actor=st.integers(0, 3), assets=st.integers(1, 150 * ETHER))
    def deposit(self, actor: int, assets: int) -> None:
        who, w = self.actors[actor], self.lst.wrapper
        assets = min(assets, self.lst.token.balanceOf(who))
        pooled, total = self._exact()
        preview = w.previewDeposit(assets)
        assert preview * pooled <= assets * total < (preview + 1) * pooled  # exact floor
        if assets == 0 or preview == 0:
            return
        before = self.lst.token.sharesOf(who), w.balanceOf(who)
        with boa.env.prank(who):
            assert w.deposit(assets, who) == preview
        event("vault: deposit")
        assert self.lst.token.sharesOf(who) == before[0] - preview
        assert w.balanceOf(who) == before[1] + preview

    @rule(actor=st.integers(0, 3), shares=st.integers(1, 150 * ETHER))
    def mint(self, actor: int, shares: int) -> None:
        who, w = self.actors[actor], self.lst.wrapper
        shares = min(shares, self.lst.token.sharesOf(who))
        pooled, total = self._exact()
        preview = w.previewMint(shares)
        assert (preview - 1) * total < shares * pooled <= preview * total  # exact ceil
        if shares == 0:
            return
        before = self.lst.token.sharesOf(who)
        with boa.env.prank(who):
            assert w.mint(shares, who) == preview
        event("vault: mint")
        assert self.lst.token.sharesOf(who) == before - shares

    @rule(actor=st.integers(0, 3), percent=st.integers(1, 100))
    def withdraw(self, actor: int, percent: int) -> None:
        who, w = self.actors[actor], self.lst.wrapper
        assets = w.maxWithdraw(who) * percent // 100
        pooled, total = self._exact()
        preview = w.previewWithdraw(assets)
        assert (preview - 1) * pooled < assets * total <= preview * pooled  # exact ceil
        if assets == 0:
            return
        before = self.lst.token.balanceOf(who), w.balanceOf(who)
        with boa.env.prank(who):
            assert w.withdraw(assets, who, who) == preview
        event("vault: withdraw")
        assert w.balanceOf(who) == before[1] - preview
        assert self.lst.token.balanceOf(who) - before[0] >= assets

    @rule(actor=st.integers(0, 3), percent=st.integers(1, 100))
    def redeem(self, actor: int, percent: int) -> None:
        who, w = self.actors[actor], self.lst.wrapper
        shares = w.maxRedeem(who) * percent // 100
        pooled, total = self._exact()
        preview = w.previewRedeem(shares)
        assert preview * total <= shares * pooled < (preview + 1) * total  # exact floor
        if shares == 0:
            return
        before = self.lst.token.sharesOf(who)
        with boa.env.prank(who):
            assert w.redeem(shares, who, who) == preview
        event("vault: redeem")
        assert self.lst.token.sharesOf(who) == before + shares

    @rule(actor=st.integers(0, 3), assets=st.integers(1, 50 * ETHER))
    def round_trip_wrap_unwrap(self, actor: int, assets: int) -> None:
        who, w, token = self.actors[actor], self.lst.wrapper, self.lst.token
        assets = min(assets, token.balanceOf(who))
        if w.previewDeposit(assets) == 0:
            return
        before = token.balanceOf(who)
        with boa.env.prank(who):
            back = w.unwrap(w.wrap(assets))
        assert back <= assets and token.balanceOf(who) <= before, "wrap→unwrap profited"
        event("vault: wrap→unwrap")

    @rule(actor=st.integers(0, 3), shares=st.integers(1, 50 * ETHER))
    def round_trip_mint_withdraw(self, actor: int, shares: int) -> None:
        who, w = self.actors[actor], self.lst.wrapper
        shares = min(shares, self.lst.token.sharesOf(who))
        if shares == 0:
            return
        with boa.env.prank(who):
            paid = w.mint(shares, who)
            if w.previewWithdraw(paid) > w.balanceOf(who):
                # taking back what was paid needs more shares than the caller has: no profit
                with boa.reverts("erc20: burn amount exceeds balance"):
                    w.withdraw(paid, who, who)
                event("vault: mint→withdraw needs more shares than minted")
                return
            burned = w.withdraw(paid, who, who)
        assert burned >= shares, "mint→withdraw profited"
        event("vault: mint→withdraw")

    @rule(actor=st.integers(0, 3), shares=st.integers(1, 50 * ETHER))
    def round_trip_mint_redeem(self, actor: int, shares: int) -> None:
        who, w = self.actors[actor], self.lst.wrapper
        shares = min(shares, self.lst.token.sharesOf(who))
        if shares == 0:
            return
        with boa.env.prank(who):
            paid = w.mint(shares, who)
            assert w.redeem(shares, who, who) <= paid, "mint→redeem profited"

    @rule(
        src=st.integers(0, 3),
        dst=st.integers(0, 3),
        spender=st.integers(0, 3),
        percent=st.integers(0, 100),
    )
    def transfer_from(self, src: int, dst: int, spender: int, percent: int) -> None:
        a, b, c = self.actors[src], self.actors[dst], self.actors[spender]
        token = self.lst.token
        amount = token.balanceOf(a) * percent // 100
        with boa.env.prank(a):
            token.approve(c, amount + 7)
        before_a, before_b = token.balanceOf(a), token.balanceOf(b)
        with boa.env.prank(c):
            token.transferFrom(a, b, amount)
        assert token.allowance(a, c) == 7
        if a != b:
            assert before_a - token.balanceOf(a) <= amount, "sender charged more than the amount"
            assert token.balanceOf(b) - before_b <= amount, "receiver got more than the amount"

    @rule(src=st.integers(0, 3), dst=st.integers(0, 3), percent=st.integers(0, 100))
    def transfer_wrapped(self, src: int, dst: int, percent: int) -> None:
        a, b, w = self.actors[src], self.actors[dst], self.lst.wrapper
        amount = w.balanceOf(a) * percent // 100
        total = w.balanceOf(a) + (w.balanceOf(b) if a != b else 0)
        with boa.env.prank(a):
            w.transfer(b, amount)
        assert w.balanceOf(a) + (w.balanceOf(b) if a != b else 0) == total

    @rule(actor=st.integers(0, 3), percent=st.integers(1, 100))
    def donate_to_vault(self, actor: int, percent: int) -> None:
        """An 'inflation' donation of divETH straight to the vault must not move its price."""
        who, w = self.actors[actor], self.lst.wrapper
        shares = self.lst.token.sharesOf(who) * percent // 100
        price = w.convertToAssets(ETHER), w.convertToShares(ETHER)
        with boa.env.prank(who):
            self.lst.token.transferShares(w.address, shares)
        self.donated += shares
        assert (w.convertToAssets(ETHER), w.convertToShares(ETHER)) == price

    @rule(amount=st.integers(1, 20 * ETHER))
    def rebase_up(self, amount: int) -> None:
        with boa.env.prank(self.donor):
            self.lst.pool.receive_donation(value=amount)

    @rule(bps=st.integers(1, 200))
    def rebase_down(self, bps: int) -> None:
        beacon = self.lst.pool.beacon_balance()
        self.lst.report(beacon - beacon * bps // 10_000, 6, elapsed=3_600)
        self.loss_reported = True
        event("vault: loss reported")

    def check(self, s: Any) -> None:
        pooled, total = s.pooled, s.total_shares
        assert s.wrapper_shares == s.wrapper_supply + self.donated
        assert s.sum_wrapper_balances == s.wrapper_supply
        assert s.wrapper_assets == s.wrapper_supply * pooled // total
        assert s.max_withdraw_sum <= s.wrapper_assets


def _run(machine: type[_Base], world: dict[str, Any], ci_examples: int) -> None:
    """Run `machine` for up to STEPS steps per example: `ci_examples` examples under "ci",
    the profile's max_examples under "fuzz"."""
    machine.world = world
    examples = settings.default.max_examples if FUZZ else ci_examples
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )


def test_stateful_pool_queue_invariants(world: dict[str, Any]) -> None:
    _run(LstMachine, world, ci_examples=26)


def test_stateful_erc20_erc4626_invariants(world: dict[str, Any]) -> None:
    _run(VaultMachine, world, ci_examples=16)


@settings(max_examples=60 if not FUZZ else settings.default.max_examples, deadline=None)
@given(
    seed=st.integers(1000, 10**6),
    donation=st.integers(1, 1000 * ETHER),
    victim=st.integers(10**15, 100 * ETHER),
)
def test_share_inflation_attack_does_not_pay(
    world: dict[str, Any], seed: int, donation: int, victim: int
) -> None:
    """The first depositor seeds a tiny stake, donates to inflate the rate, and waits for a
    victim's deposit to round in its favour: the 1,000 dead shares take ≥ 1000/(1000+seed)
    of the donation, so the attacker's holdings are always worth less than it spent."""
    lst: Lst = world["lst"]
    attacker, prey = world["actors"][0], world["actors"][1]
    with boa.env.anchor():
        lst.deposit(attacker, seed)
        with boa.env.prank(attacker):
            lst.pool.receive_donation(value=donation)
        pooled, total = lst.rate()
        if victim * total // pooled == 0:
            with boa.reverts("divETH: deposit buys zero shares"):
                lst.deposit(prey, victim)
        else:
            lst.deposit(prey, victim)
            assert lst.token.balanceOf(prey) >= victim - pooled // total - 2
        assert lst.token.balanceOf(attacker) < seed + donation
        # the same attack on the vault: donating divETH to wdivETH changes no price
        with boa.env.prank(attacker):
            lst.token.approve(lst.wrapper.address, 2**256 - 1)
            half = lst.token.balanceOf(attacker) // 2
            if lst.wrapper.previewDeposit(half):
                lst.wrapper.deposit(half)
            rate = lst.wrapper.convertToShares(ETHER), lst.wrapper.convertToAssets(ETHER)
            lst.token.transfer(lst.wrapper.address, lst.token.balanceOf(attacker))
        assert (lst.wrapper.convertToShares(ETHER), lst.wrapper.convertToAssets(ETHER)) == rate
