"""Hypothesis stateful invariants of the restaking vaults and the marketplace (in-process EVM).

Two RestakingVaults back the marketplace: wdivETH (vault 0) and a second deployment over a
snekmate ERC-20 standing in for the pods' nETH (vault 1). Network 0 accepts both assets,
network 1 only wdivETH. Random sequences of deposits, withdrawals (queue, complete),
redelegations in either vault, allocation changes, slash requests, vetoes, executions,
reward epochs and claims, with time passing, against the real contracts, checking after
every step:

- conservation per asset: each vault's balance == deposited − withdrawn − slashed == Σ pools;
- no withdrawal completes before its delay (a completion attempt before it must revert), and
  a slash reserves the same fraction of the queued pool as of the active pool, in every vault
  the network accepts and in no other;
- no over-slashing: a request takes ≤ max fraction × allocated stake (+1 wei per pool), per vault;
- no profitable round trips: what restakers got back plus what they still hold ≤ deposited;
- allocations: Σ ≤ 100% per operator, and the allocation in force equals the model's (a
  pending increase is never in force, so never slashable, before its delay);
- reward conservation per vault: funded == claimed + the vault's token balance, and
  everything claimable (restakers, commissions, unallocated) fits in that balance;
- a fully slashed operator never bricks deposits or delegation to the others.

Each example starts from one deployed system inside `boa.env.anchor()`. Profile "ci":
40 examples × 50 steps = 2,000 steps; "fuzz": 2,000 × 50 = 100,000 steps.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import boa
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from .conftest import ALLOCATION_DELAY, DAY, ETHER, WAD, Upper, deploy_upper, deployers

FUZZ = os.environ.get("HYPOTHESIS_PROFILE", "ci") == "fuzz"
STATEFUL = settings(
    max_examples=2_000 if FUZZ else int(os.environ.get("RESTAKING_EXAMPLES", "40")),
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
OPERATORS = 3
RESTAKERS = 4
# (network max slash, allocations of operators 0..2, accepted vaults)
NETWORKS = (
    (WAD, (WAD * 6 // 10, WAD, 0), (0, 1)),
    (WAD // 2, (WAD * 4 // 10, 0, WAD // 2), (0,)),
)
VAULTS = 2
# Lens.vy's wdiv_ledger and restaker_value for both vaults in one call, each queued-pool
# generation count read once (the invariant runs after every step; this is its hot path)
LEDGERS = """
# pragma version ~=0.4.3
from ethereum.ercs import IERC20

interface IVault:
    def total_deposited() -> uint256: view
    def total_withdrawn() -> uint256: view
    def total_slashed() -> uint256: view
    def active_pool(operator: address) -> (uint256, uint256, uint256): view
    def queued_pool(operator: address, gen: uint256) -> (uint256, uint256, uint256): view
    def queue_generation(operator: address) -> uint256: view
    def value_of(restaker: address) -> uint256: view
    def withdrawal_value(withdrawal_id: uint256) -> uint256: view
    def rewards_funded(token: address) -> uint256: view
    def rewards_claimed(token: address) -> uint256: view
    def unallocated(token: address, network: address) -> uint256: view
    def commission_owed(token: address, operator: address) -> uint256: view
    def reward_key(token: address, network: address, operator: address) -> bytes32: view
    def claimable(key: bytes32, restaker: address, operator: address) -> uint256: view

@external
@view
def ledgers(
    vaults: IVault[2],
    assets: IERC20[2],
    ops: DynArray[address, 8],
    rs: DynArray[address, 8],
    ws: DynArray[DynArray[uint256, 256], 2],
) -> uint256[4][2]:
    \"\"\"Per vault: (balance, deposited − withdrawn − slashed, Σ pools, Σ restakers' value).\"\"\"
    out: uint256[4][2] = empty(uint256[4][2])
    for i: uint256 in range(2):
        vault: IVault = vaults[i]
        asset: IERC20 = assets[i]
        pools: uint256 = 0
        for op: address in ops:
            pools += (staticcall vault.active_pool(op))[0]
            last: uint256 = staticcall vault.queue_generation(op)
            for gen: uint256 in range(64):
                if gen > last:
                    break
                pools += (staticcall vault.queued_pool(op, gen))[0]
        value: uint256 = 0
        for r: address in rs:
            value += staticcall asset.balanceOf(r) + staticcall vault.value_of(r)
        for wid: uint256 in ws[i]:
            value += staticcall vault.withdrawal_value(wid)
        booked: uint256 = staticcall vault.total_deposited() - staticcall vault.total_withdrawn()
        booked -= staticcall vault.total_slashed()
        out[i] = [staticcall asset.balanceOf(vault.address), booked, pools, value]
    return out

@external
@view
def reward_ledgers(
    vaults: DynArray[IVault, 4],
    tokens: DynArray[IERC20, 4],
    networks: DynArray[address, 4],
    ops: DynArray[address, 8],
    rs: DynArray[address, 8],
) -> DynArray[uint256[4], 4]:
    \"\"\"Lens.reward_ledger per (vault, network token): (funded, claimed, balance, owed).\"\"\"
    out: DynArray[uint256[4], 4] = []
    for i: uint256 in range(4):
        if i >= len(vaults):
            break
        vault: IVault = vaults[i]
        token: address = tokens[i].address
        owed: uint256 = staticcall vault.unallocated(token, networks[i])
        for op: address in ops:
            owed += staticcall vault.commission_owed(token, op)
            key: bytes32 = staticcall vault.reward_key(token, networks[i], op)
            for r: address in rs:
                owed += staticcall vault.claimable(key, r, op)
        funded: uint256 = staticcall vault.rewards_funded(token)
        claimed: uint256 = staticcall vault.rewards_claimed(token)
        out.append([funded, claimed, staticcall tokens[i].balanceOf(vault.address), owed])
    return out
"""


class World:
    """The deployed system with operators allocated and restakers funded (built once)."""

    def __init__(self) -> None:
        self.u: Upper = deploy_upper()
        u = self.u
        self.ops = [u.operator(f"op{i}") for i in range(OPERATORS)]
        self.restakers = [u.restaker(f"r{i}", 1_000 * ETHER) for i in range(RESTAKERS)]
        with boa.env.prank(u.admin):
            neth = deployers()["RewardToken"].deploy("nETH stand-in", "nETH")
            native = deployers()["RestakingVault"].deploy(
                neth.address, u.ops.operators.address, u.vault.min_withdrawal_delay()
            )
            native.set_network_registry(u.registry.address)
            u.registry.add_vault(native.address, False)
            for r in self.restakers:
                neth.mint(r, 1_000 * ETHER)
        for r in self.restakers:
            with boa.env.prank(r):
                neth.approve(native.address, 2**256 - 1)
        self.vaults = [u.vault, native]
        self.assets = [u.wdiv, neth]
        self.networks = []
        for i, (max_slash, allocations, accepted) in enumerate(NETWORKS):
            assets = [self.assets[v].address for v in accepted]
            net = u.network(
                f"net{i}",
                max_slash=max_slash,
                unbonding=(10 + 4 * i) * DAY,
                accepted_assets=assets,
            )
            self.networks.append(net)
            for op, fraction in zip(self.ops, allocations, strict=True):
                if fraction:
                    with boa.env.prank(op):
                        u.registry.opt_in(net.address)
                        u.registry.allocate(net.address, fraction)
        with boa.env.prank(self.ops[0]):
            u.vault.set_commission(500)
            native.set_commission(300)
        boa.env.time_travel(seconds=ALLOCATION_DELAY)
        self.start_balance = [sum(a.balanceOf(r) for r in self.restakers) for a in self.assets]
        self.lens = boa.load(Path(__file__).parent / "Lens.vy")
        self.ledgers = boa.loads(LEDGERS)


@pytest.fixture(scope="module")
def world() -> World:
    return World()


def _now() -> int:
    return boa.env.evm.patch.timestamp


def _reverts(fn: Any, *args: Any) -> str:
    """Call and return the revert reason ("" if it did not revert)."""
    try:
        fn(*args)
    except boa.BoaError as exc:
        return str(exc.stack_trace.last_frame.pretty_vm_reason)
    return ""


def test_restaking_invariants(world: World):
    w = world

    class Machine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self._anchor = boa.env.anchor()
            self._anchor.__enter__()
            self.u = w.u
            self.withdrawals: list[list[int]] = [[] for _ in range(VAULTS)]
            self.requests: list[int] = []
            self.settlements = 0
            self.evidence = 0
            # model of allocations: (network, operator) -> [(effective_at, fraction)]
            self.alloc: dict[tuple[str, str], list[tuple[int, int]]] = {}
            for net, (_, allocations, _) in zip(w.networks, NETWORKS, strict=True):
                for op, fraction in zip(w.ops, allocations, strict=True):
                    if fraction:
                        self.alloc[(net.address, op)] = [(0, fraction)]

        def _model_alloc(self, net: str, op: str, t: int) -> int:
            value = 0
            for effective_at, fraction in self.alloc.get((net, op), []):
                if effective_at <= t:
                    value = fraction
            return value

        # ---------------------------------------------------------------- restakers

        @rule(
            v=st.integers(0, VAULTS - 1),
            r=st.integers(0, RESTAKERS - 1),
            o=st.integers(0, OPERATORS - 1),
            amount=st.integers(1, 50 * ETHER),
        )
        def deposit(self, v: int, r: int, o: int, amount: int) -> None:
            vault, restaker, op = w.vaults[v], w.restakers[r], w.ops[o]
            current = vault.delegated_to(restaker)
            if current != "0x" + "00" * 20:
                op = current
            pool = vault.active_pool(op)
            with boa.env.prank(restaker):
                reason = _reverts(vault.deposit, amount, op)
            if pool[1] > 0 and pool[0] == pool[2]:
                assert reason == "operator fully slashed"
                return
            expected_shares = amount * (pool[1] + 1000) // (pool[0] - pool[2] + 1)
            if expected_shares == 0:
                assert reason == "deposit too small"
                return
            assert reason == "", reason  # never bricked by another operator's slash
            self.settlements += 1

        @rule(
            v=st.integers(0, VAULTS - 1),
            r=st.integers(0, RESTAKERS - 1),
            amount=st.integers(1, 10 * ETHER),
        )
        def round_trip(self, v: int, r: int, amount: int) -> None:
            """Deposit then queue the minted shares at once: never worth more than paid."""
            vault, restaker = w.vaults[v], w.restakers[r]
            op = vault.delegated_to(restaker)
            if op == "0x" + "00" * 20:
                return
            before = vault.shares(restaker)
            with boa.env.prank(restaker):
                if _reverts(vault.deposit, amount, op):
                    return
                minted = vault.shares(restaker) - before
                wid = vault.queue_withdrawal(minted)
            self.withdrawals[v].append(wid)
            assert vault.withdrawal_value(wid) <= amount

        @rule(v=st.integers(0, VAULTS - 1), r=st.integers(0, RESTAKERS - 1), part=st.integers(1, 4))
        def queue(self, v: int, r: int, part: int) -> None:
            vault, restaker = w.vaults[v], w.restakers[r]
            shares = vault.shares(restaker) * part // 4
            if shares == 0:
                return
            with boa.env.prank(restaker):
                self.withdrawals[v].append(vault.queue_withdrawal(shares))
            self.settlements += 1

        @rule(
            v=st.integers(0, VAULTS - 1),
            r=st.integers(0, RESTAKERS - 1),
            o=st.integers(0, OPERATORS - 1),
        )
        def redelegate(self, v: int, r: int, o: int) -> None:
            vault, restaker, op = w.vaults[v], w.restakers[r], w.ops[o]
            current = vault.delegated_to(restaker)
            if current in ("0x" + "00" * 20, op):
                return
            with boa.env.prank(restaker):
                wid = vault.redelegate(op)
            if wid:
                self.withdrawals[v].append(wid)
            self.settlements += 1

        @precondition(lambda self: any(self.withdrawals))
        @rule(v=st.integers(0, VAULTS - 1), i=st.integers(0, 100))
        def complete(self, v: int, i: int) -> None:
            if not self.withdrawals[v]:
                v = 1 - v
            vault, pending = w.vaults[v], self.withdrawals[v]
            wid = pending[i % len(pending)]
            restaker, _, _, _, completable_at = vault.withdrawal(wid)
            with boa.env.prank(restaker):
                reason = _reverts(vault.complete_withdrawal, wid)
            if _now() < completable_at:
                assert reason == "withdrawal delay not passed"
                return
            assert reason == "", reason
            pending.remove(wid)

        @rule(seconds=st.sampled_from([3_600, DAY, 2 * DAY, 7 * DAY, 15 * DAY]))
        def wait(self, seconds: int) -> None:
            boa.env.time_travel(seconds=seconds)

        # ---------------------------------------------------------------- operators

        @rule(
            n=st.integers(0, 1),
            o=st.integers(0, OPERATORS - 1),
            fraction=st.integers(0, 10).map(lambda x: x * WAD // 10),
        )
        def allocate(self, n: int, o: int, fraction: int) -> None:
            net, op = w.networks[n], w.ops[o]
            if self.u.registry.membership(net.address, op) != 1:
                return
            with boa.env.prank(op):
                reason = _reverts(self.u.registry.allocate, net.address, fraction)
            if reason:
                assert reason in (
                    "allocation change pending",
                    "allocations exceed 100%",
                    "allocation unchanged",
                ), reason
                return
            current = self._model_alloc(net.address, op, _now())
            delay = ALLOCATION_DELAY if fraction > current else (10 + 4 * n) * DAY
            self.alloc[(net.address, op)].append((_now() + delay, fraction))

        # ---------------------------------------------------------------- slashing

        @rule(n=st.integers(0, 1), o=st.integers(0, OPERATORS - 1), pct=st.integers(1, 100))
        def request(self, n: int, o: int, pct: int) -> None:
            net, op = w.networks[n], w.ops[o]
            max_slash, _, accepted = NETWORKS[n]
            fraction = max_slash * pct // 100
            if fraction == 0 or self.u.registry.membership(net.address, op) == 0:
                return
            allocated = self._model_alloc(net.address, op, _now())
            effective = fraction * allocated // WAD
            free = []
            for vault in w.vaults:
                active = vault.active_pool(op)
                queued = vault.queued_pool(op, vault.queue_generation(op))
                free.append((active[0] - active[2], queued[0] - queued[2]))
            self.evidence += 1
            evidence = self.evidence.to_bytes(32, "big")
            with boa.env.prank(net.slasher):
                reason = _reverts(self.u.registry.request_slash, op, fraction, evidence)
            if effective == 0:
                assert reason == "nothing allocated"
                return
            assert reason == "", reason
            rid = self.u.registry.request_count()
            for v, (free_a, free_q) in enumerate(free):
                from_active, from_queue, _ = self.u.registry.reservation(rid, v)
                if v not in accepted:  # a vault the network does not accept is untouched
                    assert from_active == from_queue == 0
                    continue
                # same fraction of active and queued stake, rounded up by at most 1 wei each
                assert from_active == min(free_a, -(-free_a * effective // WAD))
                assert from_queue == min(free_q, -(-free_q * effective // WAD))
                allowed = max_slash * allocated // WAD * (free_a + free_q) // WAD
                assert from_active + from_queue <= allowed + 2
            self.requests.append(rid)

        @precondition(lambda self: self.requests)
        @rule(i=st.integers(0, 100), veto=st.booleans())
        def resolve(self, i: int, veto: bool) -> None:
            rid = self.requests[i % len(self.requests)]
            network, *_, veto_until, _ = self.u.registry.request(rid)
            resolver = next(n.resolver for n in w.networks if n.address == network)
            if veto:
                with boa.env.prank(resolver):
                    reason = _reverts(self.u.registry.veto_slash, rid)
                ok = _now() < veto_until
                assert reason == ("" if ok else "veto window closed"), reason
            else:
                reason = _reverts(self.u.registry.execute_slash, rid)
                ok = _now() >= veto_until
                assert reason == ("" if ok else "veto window open"), reason
            if ok:
                self.requests.remove(rid)

        # ---------------------------------------------------------------- rewards

        @rule(n=st.integers(0, 1), amount=st.integers(1, 10**24))
        def fund(self, n: int, amount: int) -> None:
            with boa.env.prank(w.networks[n].address):
                self.u.registry.fund_epoch(amount)
            self.rewards()

        @rule(
            v=st.integers(0, VAULTS - 1),
            r=st.integers(0, RESTAKERS - 1),
            n=st.integers(0, 1),
            o=st.integers(0, OPERATORS - 1),
        )
        def claim(self, v: int, r: int, n: int, o: int) -> None:
            vault, net, op, restaker = w.vaults[v], w.networks[n], w.ops[o], w.restakers[r]
            token = net.token.address
            gen = vault.generation(net.address, op)
            key = vault.reward_key(token, net.address, op)
            owed = vault.claimable(key, restaker, op)
            with boa.env.prank(restaker):
                reason = _reverts(vault.claim, token, net.address, op, gen)
            assert reason == ("" if owed else "nothing to claim"), reason
            self.rewards()

        # ---------------------------------------------------------------- invariants

        @invariant()
        def conservation_and_no_profitable_round_trip(self) -> None:
            """Per asset: balance == deposited − withdrawn − slashed == Σ pools, and restakers
            together never get back more than they put in (one restaker may gain the rounding
            dust others leave in a pool; `round_trip` checks one alone)."""
            ledgers = w.ledgers.ledgers(
                [v.address for v in w.vaults],
                [a.address for a in w.assets],
                w.ops,
                w.restakers,
                self.withdrawals,
            )
            for (held, booked, pools, value), start in zip(ledgers, w.start_balance, strict=True):
                assert held == booked == pools
                assert value <= start

        @invariant()
        def allocations(self) -> None:
            t = _now()
            nets = [n.address for n in w.networks]
            worst, in_force = w.lens.allocations(self.u.registry, nets, w.ops)
            assert worst <= WAD
            assert list(in_force) == [self._model_alloc(n, op, t) for n in nets for op in w.ops]

        def teardown(self) -> None:
            try:
                self.rewards()
            finally:
                self._anchor.__exit__(None, None, None)

        def rewards(self) -> None:
            """Checked after the steps that move reward tokens or claims (fund, claim) and at
            the end: other steps only re-settle positions, which rounds owed amounts down."""
            pairs = [(v, n) for n, (*_, accepted) in enumerate(NETWORKS) for v in accepted]
            ledgers = w.ledgers.reward_ledgers(
                [w.vaults[v].address for v, _ in pairs],
                [w.networks[n].token.address for _, n in pairs],
                [w.networks[n].address for _, n in pairs],
                w.ops,
                w.restakers,
            )
            for funded, claimed, balance, owed in ledgers:
                assert funded == claimed + balance
                assert owed <= balance
                assert balance - owed <= (self.settlements + 1) * RESTAKERS * 4 + 1_000
            # a vault the network does not accept never holds its reward token
            assert w.networks[1].token.balanceOf(w.vaults[1].address) == 0

    run_state_machine_as_test(Machine, settings=STATEFUL)
