"""The restaking chapters of the live devnet, after the base layer, on the same anvil chain and
through `nektar.chain` only (the same code runs on any backend; `tests/devnet` runs it on a
bare anvil).

0. `deploy`: the upper layer (RestakingVault, NetworkRegistry), the DistributorFactory and
   native restaking (nETH, a second RestakingVault, the NativePodFactory), delays of seconds;
   `fund_pod`: a native restaker's NativePod, delegated to operator 2, stakes 32 ETH and the
   ValidatorRegistry proposes a validator with the pod's credentials (the scenario then waits
   for the nodes' DKG and oracle; `check_pod` checks that the report itself minted and
   restaked the nETH, then the network funds an epoch and the pod's owner claims the share
   its restaked nETH earned through operator 2).
1. `restake`: a restaker stakes ETH → divETH → wdivETH, deposits it in the RestakingVault and
   delegates to operator 1; a distributor vault spreads a holder's deposit over operators
   1–3 by weight.
2. `network_rewards`: a network accepting wdivETH and nETH (the native vault is the
   NetworkRegistry's vault 1) registers (its reward token: a snekmate ERC-20 deployed here),
   the operators set a commission, opt in and allocate; once the allocation delay has passed
   the network funds an epoch; the restaker claims its rewards, the operators their
   commission, anyone harvests the distributor's positions and its holder claims.
3. `slashing`: the restaker queues half its stake for withdrawal; the network's slasher
   requests a slash of operator 1 and its resolver vetoes it (the reservation, active and
   queued, comes back to the last wei); then anyone proves an equivocation by operator 1's
   registered BLS task key (two conflicting messages signed with `nektar.crypto.bls`) and the
   network's maximum fraction is slashed at once, queued stake included; after the unbonding
   period the withdrawal completes at its slashed value.

Every step checks real outcomes against the contracts' rules (split by allocated stake,
commission, per-share rewards, slashed amounts rounded up) and raises `DevnetError` naming the
first mismatch. `sheet` records everyone's balances after each chapter for the summary.

Why delays of seconds instead of anvil's `evm_increaseTime`: anvil's `block.timestamp` is the
base layer's oracle frame clock, kept on wall time by the devnet; jumping it would put the
chain hours ahead of the beacon chain the nodes report on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address

from nektar.chain.backend import Backend
from nektar.chain.compiler import compile_contract
from nektar.chain.contract import Contract
from nektar.chain.diva_ops import DivaSystem
from nektar.chain.marketplace import (
    WAD,
    NetworkRegistry,
    Terms,
    UpperLayer,
    deploy_upper_layer,
)
from nektar.chain.pods import (
    VALIDATOR_ETHER,
    NativePod,
    NativeRestaking,
    deploy_native_restaking,
)
from nektar.chain.restaking import (
    Distributor,
    DistributorFactory,
    RestakingVault,
    deploy_distributor_factory,
)
from nektar.crypto import bls
from nektar.devnet.processes import DevnetError

ETH = 10**18
ALLOCATION_DELAY = 2  # seconds: an allocation increase takes effect this long after
TERMS_DELAY = 3
MIN_WITHDRAWAL_DELAY = 2
UNBONDING = 6
VETO_WINDOW = 5  # the resolver vetoes at once; generous for a loaded machine
RESTAKE = 10 * ETH  # the restaker's ETH, staked then restaked with operator 1
LRT_DEPOSIT = 12 * ETH  # the distributor holder's ETH
LRT_WEIGHTS = (5_000, 3_000, 2_000)  # bps over operators 1–3
ALLOCATIONS = (WAD // 2, WAD * 2 // 5, WAD * 3 // 10)  # of each operator's stake, to the network
MAX_SLASH = WAD // 5
VETOED_FRACTION = WAD // 10
COMMISSION_BPS = 1_000
EPOCH_REWARD = 1_000 * ETH
POD_STAKE = 32 * ETH  # the native restaker's ETH: one validator
TASK = keccak(b"devnet oracle task #1")  # first 32 bytes of a task message: its id


@dataclass
class BalanceSheet:
    """Balances per party after each chapter: `rows[(party, item)]` lines up with `stages`."""

    stages: list[str] = field(default_factory=list)
    rows: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    def record(self, stage: str, values: dict[tuple[str, str], int]) -> None:
        for key, value in values.items():
            self.rows.setdefault(key, [0] * len(self.stages)).append(value)
        self.stages.append(stage)
        for row in self.rows.values():
            row.extend([0] * (len(self.stages) - len(row)))


def _check(ok: bool, what: str) -> None:
    if not ok:
        raise DevnetError(f"restaking: {what}")


def _near(actual: int, expected: int, tolerance: int, what: str) -> None:
    _check(
        abs(actual - expected) <= tolerance,
        f"{what}: {actual} wei, expected {expected} (± {tolerance})",
    )


def _ceil_portion(free: int, fraction: int) -> int:
    """The vault's slash amount: `fraction` (WAD) of the free stake, rounded up."""
    return min(free, (free * fraction + WAD - 1) // WAD)


class RestakingDemo:
    """The restaking chapters on a deployed Diva system whose `operators` are registered."""

    def __init__(
        self,
        backend: Backend,
        system: DivaSystem,
        admin: LocalAccount,
        operators: Sequence[LocalAccount],
        log: Callable[[str], None] = lambda line: None,
    ) -> None:
        if len(operators) < len(LRT_WEIGHTS):
            raise DevnetError(f"the restaking chapters need {len(LRT_WEIGHTS)} operators")
        self.backend, self.system, self.admin, self.log = backend, system, admin, log
        self.operators = list(operators[: len(LRT_WEIGHTS)])
        self.wdiv = system.lst.wrapper
        self.restaker = backend.new_account(RESTAKE + ETH)
        self.holder = backend.new_account(LRT_DEPOSIT + ETH)
        self.manager, self.network, self.slasher, self.resolver, self.prover = (
            backend.new_account(ETH) for _ in range(5)
        )
        self.sheet = BalanceSheet()
        self.upper: UpperLayer | None = None
        self.lrt: Distributor | None = None
        self.token: Contract | None = None
        self.factory: DistributorFactory | None = None
        self.native: NativeRestaking | None = None
        self.pod: NativePod | None = None
        self.native_restaker = backend.new_account(POD_STAKE + ETH)

    # ------------------------------------------------------------------ helpers
    @property
    def vault(self) -> RestakingVault:
        assert self.upper is not None, "deploy() first"
        return self.upper.vault

    @property
    def registry(self) -> NetworkRegistry:
        assert self.upper is not None, "deploy() first"
        return self.upper.registry

    def _wrap_eth(self, who: LocalAccount, amount: int) -> int:
        """Stake `amount` ETH in the pool and wrap the divETH; returns the wdivETH received."""
        lst = self.system.lst
        lst.pool.deposit(who, amount)
        div_eth = lst.token.balance_of(who.address)
        lst.token.approve(who, self.wdiv.address, div_eth)
        before = self.wdiv.balance_of(who.address)
        self.wdiv.wrap(who, div_eth)
        return self.wdiv.balance_of(who.address) - before

    def _token_balance(self, who: str) -> int:
        return 0 if self.token is None else self.token.call("balanceOf", who)

    def wait_chain_time(self, timestamp: int) -> None:
        """Wait until the chain's latest block is at least `timestamp` (wall time: the devnet
        mines a block each slot; on a bare node a no-op transfer mines one)."""
        deadline = time.monotonic() + (timestamp - time.time()) + 30
        while self.backend.timestamp() < timestamp:
            if time.monotonic() > deadline:
                raise DevnetError(f"the chain's clock did not reach {timestamp}")
            if time.time() >= timestamp:
                self.backend.send_eth(self.prover, self.prover.address, 0)
            else:
                time.sleep(min(0.25, max(0.0, timestamp - time.time())))

    def snapshot(self, stage: str) -> None:
        values: dict[tuple[str, str], int] = {
            ("restaker", "restaked (wdivETH)"): self.vault.value_of(self.restaker.address),
            ("restaker", "withdrawn (wdivETH)"): self.wdiv.balance_of(self.restaker.address),
            ("restaker", "rewards (RWD)"): self._token_balance(self.restaker.address),
        }
        if self.lrt is not None:
            shares = self.lrt.balance_of(self.holder.address)
            values[("LRT holder", "receipts' value (wdivETH)")] = self.lrt.contract.call(
                "convertToAssets", shares
            )
            values[("LRT holder", "rewards (RWD)")] = self._token_balance(self.holder.address)
            values[("LRT vault", "total assets (wdivETH)")] = self.lrt.total_assets()
        for i, op in enumerate(self.operators, start=1):
            values[(f"operator {i}", "delegated stake (wdivETH)")] = self.vault.stake(op.address)
            values[(f"operator {i}", "commission (RWD)")] = self._token_balance(op.address)
        if self.pod is not None:
            values[("native restaker", "pod's restaked nETH")] = self.pod.restaked_balance()
            values[("native restaker", "rewards (RWD)")] = self._token_balance(
                self.native_restaker.address
            )
        if self.native is not None:
            values[("operator 2", "native stake (nETH)")] = self.native.vault.stake(
                self.operators[1].address
            )
        values[("RestakingVault", "rewards not yet claimed (RWD)")] = self._token_balance(
            self.vault.address
        )
        values[("network", "slashed stake received (wdivETH)")] = self.wdiv.balance_of(
            self.network.address
        )
        self.sheet.record(stage, values)

    # ------------------------------------------------------------------ chapters
    def deploy(self) -> None:
        """The upper layer (RestakingVault + NetworkRegistry), the distributor factory and
        native restaking (nETH, its RestakingVault, the pod factory) with devnet delays."""
        self.upper = deploy_upper_layer(
            self.system,
            self.admin,
            min_withdrawal_delay=MIN_WITHDRAWAL_DELAY,
            allocation_delay=ALLOCATION_DELAY,
            terms_delay=TERMS_DELAY,
        )
        self.factory = deploy_distributor_factory(self.backend, self.vault, self.wdiv.address)
        self.native = deploy_native_restaking(
            self.system,
            self.admin,
            network_registry=self.registry.address,
            min_withdrawal_delay=MIN_WITHDRAWAL_DELAY,
        )
        self.registry.add_vault(self.admin, self.native.vault.address, priced_by_4626=False)
        self.log(f"RestakingVault {self.vault.address}, NetworkRegistry {self.registry.address}")

    def fund_pod(self) -> list[int]:
        """The native restaker's pod: created, delegated to operator 2, 32 ETH staked; the
        ValidatorRegistry proposes a validator whose credentials are the pod's own."""
        native, owner = self.native, self.native_restaker
        assert native is not None, "deploy() first"
        pod = self.pod = native.create_pod(owner)
        found = native.pod_of(owner.address)
        _check(found is not None and found.address == pod.address, "pod_of(owner) is not the pod")
        pod.delegate(owner, self.operators[1].address)
        ids = pod.stake(owner, POD_STAKE // VALIDATOR_ETHER)
        for vid in ids:
            _check(
                self.system.validators.withdrawal_credentials(vid) == self.pod_credentials(),
                f"validator {vid} does not withdraw to the pod",
            )
        self.log(f"native restaker: pod {pod.address} stakes {POD_STAKE // ETH} ETH → {ids}")
        return ids

    def pod_credentials(self) -> bytes:
        """0x01‖0…‖pod: the withdrawal credentials of the pod's validators."""
        assert self.pod is not None, "fund_pod() first"
        return b"\x01" + bytes(11) + bytes.fromhex(self.pod.address[2:])

    def pod_minted(self) -> int:
        """nETH the pod has minted so far (from the oracle's balance reports)."""
        return 0 if self.pod is None else self.pod.contract.call("minted")

    def pod_state(self) -> str:
        """What the chain says of the pod (for a failure message)."""
        if self.pod is None:
            return "no pod"
        pod, registry = self.pod, self.system.validators
        statuses = {vid: registry.validator(vid).status_name for vid in pod.validators()}
        reported = pod.contract.call("reported_total")
        return (
            f"registry {statuses}, reported {reported / ETH:.6f} ETH, idle nETH "
            f"{pod.contract.call('idle') / ETH:.6f}, restaked {pod.restaked_balance() / ETH:.6f}"
        )

    def check_pod(self, beacon_balance: int) -> str:
        """Once the oracle reported the pod's validators: nETH minted for the balance it
        reported (`beacon_balance`, wei, read from the beacon chain now: within 0.01 ETH),
        more only for rewards swept to the pod as ETH or a later loss the pod recorded as a
        deficit, and restaked with operator 2 in the native vault by the report itself
        (nothing idle). Then the network funds an epoch: operator 2's native stake earns its
        part and the pod's owner claims it through the pod."""
        assert self.pod is not None and self.native is not None
        pod, vault, op2 = self.pod, self.native.vault, self.operators[1].address
        _check(pod.contract.call("idle") == 0, "the report left nETH idle: not restaked")
        minted = self.pod_minted()
        reported = pod.contract.call("reported_total")
        swept, deficit = self.backend.balance_of(pod.address), pod.deficit()
        _near(reported, beacon_balance, ETH // 100, "the pod's reported balance vs the beacon's")
        _check(  # above the reported balance only by ETH swept to the pod or a recorded loss
            reported <= minted <= reported + swept + deficit,
            f"nETH minted {minted} for {reported} reported + {swept} swept + {deficit} deficit",
        )
        _check(self.native.neth_balance(vault.address) == minted, "nETH held by the vault")
        _check(vault.delegated_to(pod.address) == op2, "the pod is not delegated to operator 2")
        _near(pod.restaked_balance(), minted, 1, "the pod's restaked nETH")
        _check(vault.stake(op2) == minted, f"operator 2's native stake {vault.stake(op2)}")
        split = self._fund_epoch()
        reward = self._claim_pod(split)
        self.vault_commission(1, op2, split[(1, op2)])
        _check(reward > 0, "the pod's restaked nETH earned nothing")
        self.snapshot("native restaked")
        return (
            f"pod validators {pod.validators()} (DKG by the nodes, credentials 0x01‖pod): "
            f"{minted / ETH:.6f} nETH minted for {reported / ETH:.6f} ETH reported, restaked "
            f"with op 2 by the report; its share of an epoch: {reward / ETH:.4f} RWD claimed"
        )

    def _split(self, amount: int) -> dict[tuple[int, str], int]:
        """`fund_epoch`'s split of `amount` per (vault, operator): by allocated stake valued in
        ETH, wdivETH at its ERC-4626 rate (vault 0), nETH 1:1 (vault 1)."""
        assert self.native is not None
        rates = (self.wdiv.contract.call("convertToAssets", ETH), ETH)
        weights = {
            (v, op.address): self.registry.allocation(self.network.address, op.address)
            * vault.stake(op.address)
            // WAD
            * rate
            // WAD
            for v, (vault, rate) in enumerate(
                zip((self.vault, self.native.vault), rates, strict=True)
            )
            for op in self.operators
        }
        total = sum(weights.values())
        return {key: amount * w // total for key, w in weights.items()}

    def _fund_epoch(self) -> dict[tuple[int, str], int]:
        """The network funds one epoch; returns the split the contract must have made."""
        assert self.token is not None
        net = self.network
        self.token.transact("mint", net.address, EPOCH_REWARD, sender=net)
        self.token.transact("approve", self.registry.address, EPOCH_REWARD, sender=net)
        split = self._split(EPOCH_REWARD)
        self.registry.fund_epoch(net, EPOCH_REWARD)
        self.log(f"network funds an epoch: {EPOCH_REWARD // ETH} RWD")
        return split

    def _claim_pod(self, split: dict[tuple[int, str], int]) -> int:
        """The pod's owner claims what operator 2's native stake earned (the pod is its only
        restaker there: all of it, less commission, to a wei); returns the amount."""
        assert self.native is not None and self.pod is not None and self.token is not None
        op2 = self.operators[1].address
        amount = split[(1, op2)]
        if amount == 0:
            return 0
        vault, net = self.native.vault, self.network.address
        rest = amount - amount * COMMISSION_BPS // 10_000
        expected = rest * vault.shares(self.pod.address) // vault.active_pool(op2).shares
        before = self._token_balance(self.native_restaker.address)
        got = self.pod.claim_rewards(
            self.native_restaker, self.token.address, net, vault.generation(net, op2)
        )
        _near(got, expected, 1, "the native restaker's rewards")
        _check(
            self._token_balance(self.native_restaker.address) - before == got,
            "the pod did not pay its owner",
        )
        return got

    def vault_commission(self, index: int, operator: str, amount: int) -> int:
        """Operator's commission on its `amount` of an epoch in vault `index`, claimed and
        checked (the operator sets one rate per vault); returns it."""
        assert self.native is not None and self.token is not None
        vault = (self.vault, self.native.vault)[index]
        commission = amount * COMMISSION_BPS // 10_000
        if commission == 0:
            return 0
        op = next(o for o in self.operators if o.address == operator)
        before = self._token_balance(operator)
        vault.claim_commission(op, self.token.address)
        got = self._token_balance(operator) - before
        _check(got == commission, f"commission {got} in vault {index}, expected {commission}")
        return got

    def restake(self) -> str:
        """Restake with one operator and through a distributor (deploys first if needed)."""
        if self.upper is None:
            self.deploy()
        factory = self.factory
        assert factory is not None

        op1 = self.operators[0].address
        amount = self._wrap_eth(self.restaker, RESTAKE)
        self.wdiv.contract.transact("approve", self.vault.address, amount, sender=self.restaker)
        self.vault.deposit(self.restaker, amount, op1)
        value = self.vault.value_of(self.restaker.address)
        _check(self.vault.delegated_to(self.restaker.address) == op1, "delegation not recorded")
        _near(value, amount, 1, "the restaker's restaked value")
        self.log(f"restaker: {RESTAKE // ETH} ETH → {amount / ETH:.6f} wdivETH, delegated to op 1")

        addresses = [op.address for op in self.operators]
        self.lrt = lrt = factory.create(self.manager, addresses, list(LRT_WEIGHTS))
        deposit = self._wrap_eth(self.holder, LRT_DEPOSIT)
        self.wdiv.contract.transact("approve", lrt.address, deposit, sender=self.holder)
        lrt.deposit(self.holder, deposit)
        spread = [self.vault.value_of(lrt.account(i)) for i in range(len(addresses))]
        expected = [deposit * w // 10_000 for w in LRT_WEIGHTS[:-1]]
        expected.append(deposit - sum(expected))
        for i, (got, want) in enumerate(zip(spread, expected, strict=True), start=1):
            _near(got, want, 1, f"the distributor's position with operator {i}")
        _near(lrt.total_assets(), deposit, len(addresses), "the distributor's total assets")
        self.log(
            "distributor: "
            + ", ".join(f"op {i} {v / ETH:.4f}" for i, v in enumerate(spread, start=1))
            + " wdivETH"
        )
        self.snapshot("restaked")
        return (
            f"restaker {amount / ETH:.4f} wdivETH → op 1; distributor "
            f"{deposit / ETH:.4f} wdivETH over ops 1–3 "
            f"({'/'.join(f'{w // 100}' for w in LRT_WEIGHTS)} %)"
        )

    def network_rewards(self) -> str:
        """Register the network, opt in and allocate, fund an epoch, claim everything."""
        net = self.network
        self.token = token = self.backend.deploy(
            compile_contract("devnet/RewardToken.vy"), "Devnet network reward", "RWD", sender=net
        )
        assert self.native is not None
        terms = Terms(
            accepted_assets=(
                to_checksum_address(self.wdiv.address),
                to_checksum_address(self.native.native_ether.address),
            ),
            min_stake=0,
            max_operators=8,
            max_slash=MAX_SLASH,
            unbonding=UNBONDING,
            veto_window=VETO_WINDOW,
            slasher=self.slasher.address,
            resolver=self.resolver.address,
            slash_to_network=True,
            metadata_uri="https://oracle-network.devnet",
        )
        self.registry.register_network(net, terms, token.address)
        assert self.lrt is not None
        self.lrt.add_reward_token(self.manager, token.address)
        for op, fraction in zip(self.operators, ALLOCATIONS, strict=True):
            self.vault.set_commission(op, COMMISSION_BPS)
            self.native.vault.set_commission(op, COMMISSION_BPS)
            self.registry.opt_in(op, net.address)
            self.registry.allocate(op, net.address, fraction)
        self.log(f"network registered (RWD {token.address}); ops 1–3 opted in and allocated")
        self.wait_chain_time(self.backend.timestamp() + ALLOCATION_DELAY)
        allocated = [self.registry.allocation(net.address, op.address) for op in self.operators]
        _check(allocated == list(ALLOCATIONS), f"allocations in force {allocated}")

        # the split the contracts promise: by allocated stake (in ETH), commission, per share
        split = self._fund_epoch()
        amounts = [split[(0, op.address)] for op in self.operators]
        paid = self._claim_pod(split)  # the pod's nETH, if a report restaked it already
        for (index, operator), amount in split.items():
            paid += self.vault_commission(index, operator, amount)
        op1 = self.operators[0].address
        rest = amounts[0] - amounts[0] * COMMISSION_BPS // 10_000
        share = self.vault.shares(self.restaker.address)
        pool_shares = self.vault.active_pool(op1).shares
        generation = self.vault.generation(net.address, op1)
        self.vault.claim(self.restaker, token.address, net.address, op1, generation)
        got = self._token_balance(self.restaker.address)
        _near(got, rest * share // pool_shares, 1, "the restaker's rewards")
        paid += got
        owed_lrt = self._lrt_claimable(rest, pool_shares, amounts)
        lrt = self.lrt
        assert lrt is not None
        harvested = lrt.harvest_all(self.prover, net.address)  # anyone may harvest
        _check(harvested == owed_lrt, f"the distributor harvested {harvested} of {owed_lrt}")
        holder = lrt.claim_rewards(self.holder, token.address)
        _check(self._token_balance(self.holder.address) == holder, "the holder's RWD balance")
        _near(holder, harvested, ETH // 10**9, "the distributor holder's rewards (its only holder)")
        paid += holder
        _near(paid, EPOCH_REWARD, ETH // 10**9, "rewards claimed by everyone")
        self.snapshot("rewards claimed")
        return (
            f"{EPOCH_REWARD // ETH} RWD split by allocated stake "
            f"{'/'.join(f'{a / ETH:.1f}' for a in amounts)}; claimed {paid / ETH:.4f}: "
            f"restaker {got / ETH:.4f}, LRT holder {holder / ETH:.4f} (harvested), "
            "commission 10%"
        )

    def _lrt_claimable(self, rest_op1: int, pool_shares_op1: int, amounts: list[int]) -> int:
        """What the distributor's sub-accounts may claim (checked against the split)."""
        assert self.lrt is not None and self.token is not None
        total = 0
        for i, op in enumerate(self.operators):
            account = self.lrt.account(i)
            generation = self.vault.generation(self.network.address, op.address)
            owed = self.vault.claimable(
                self.token.address, self.network.address, op.address, generation, account
            )
            rest = amounts[i] - amounts[i] * COMMISSION_BPS // 10_000
            pool = pool_shares_op1 if i == 0 else self.vault.active_pool(op.address).shares
            expected = rest * self.vault.shares(account) // pool
            _near(owed, expected, 1, f"the distributor's rewards with operator {i + 1}")
            total += owed
        _check(rest_op1 > 0, "operator 1 earned no rewards")
        return total

    def _free_stake(self, operator: str) -> tuple[int, int]:
        """(active, queued) stake of `operator` not reserved by pending slashes."""
        active = self.vault.active_pool(operator)
        free_active = active.assets - active.reserved
        return free_active, self.vault.stake(operator) - free_active

    def slashing(self) -> str:
        """The restaker queues half its stake; a slash request is vetoed; an equivocation
        proof slashes active and queued stake alike; the withdrawal completes, slashed."""
        net, op1 = self.network, self.operators[0].address
        assert self.lrt is not None
        queued = self.vault.withdrawal_id(
            self.vault.queue_withdrawal(
                self.restaker, self.vault.shares(self.restaker.address) // 2
            )
        )
        completable_at = self.vault.withdrawal(queued).completable_at
        values = self._restaker_values(queued)
        stake, alloc = self.vault.stake(op1), self.registry.allocation(net.address, op1)
        self.log(f"restaker queues half its stake (withdrawal #{queued}, unbonding {UNBONDING} s)")

        fraction = VETOED_FRACTION * alloc // WAD
        expected = sum(_ceil_portion(free, fraction) for free in self._free_stake(op1))
        request = self.registry.request_slash(
            self.slasher, op1, VETOED_FRACTION, keccak(b"disputed task result")
        )
        reserved = stake - self.vault.stake(op1)
        _check(reserved == expected, f"the slash request reserved {reserved}, not {expected}")
        during = self._restaker_values(queued)
        _check(
            all(d < v for d, v in zip(during, values, strict=True)),
            "a pending slash left the restaker's active or queued value unchanged",
        )
        self.registry.veto_slash(self.resolver, request)
        _check(self._restaker_values(queued) == values, "the veto did not restore every value")
        _check(self.vault.stake(op1) == stake, "the veto did not restore operator 1's stake")
        self.log(
            f"slash request #{request} ({reserved / ETH:.4f} wdivETH reserved) vetoed by the "
            "resolver: nothing lost"
        )

        sk = bls.keygen(keccak(b"operator 1 task key"))
        self.registry.register_bls_key(net, op1, bls.sk_to_pk(sk))
        message_a, message_b = TASK + b"price=3150", TASK + b"price=3999"
        lrt_before, received_before = self.lrt.total_assets(), self.wdiv.balance_of(net.address)
        others = [self.vault.stake(op.address) for op in self.operators[1:]]
        free_active, free_queued = self._free_stake(op1)
        fraction = MAX_SLASH * alloc // WAD
        from_active = _ceil_portion(free_active, fraction)
        from_queue = _ceil_portion(free_queued, fraction)
        pool_shares = self.vault.active_pool(op1).shares
        share = self.vault.shares(self.restaker.address)
        lrt_share = self.vault.shares(self.lrt.account(0))
        receipt = self.registry.slash_equivocation(
            self.prover,
            net.address,
            op1,
            message_a,
            bls.sign(sk, message_a),
            message_b,
            bls.sign(sk, message_b),
        )
        amount = receipt.event("EquivocationSlashed")["amount"]
        _check(
            amount == from_active + from_queue,
            f"equivocation slashed {amount}, expected {from_active} + {from_queue}",
        )
        received = self.wdiv.balance_of(net.address) - received_before
        _check(received == amount, f"the network received {received} of {amount} slashed")
        _check(self.vault.stake(op1) == stake - amount, "operator 1's stake after the slash")
        _check(
            [self.vault.stake(op.address) for op in self.operators[1:]] == others,
            "the slash touched other operators",
        )
        after = self._restaker_values(queued)
        _near(values[0] - after[0], from_active * share // pool_shares, 2, "the restaker's loss")
        _near(values[1] - after[1], from_queue, 2, "the queued withdrawal's loss")
        lrt_lost = lrt_before - self.lrt.total_assets()
        _near(lrt_lost, from_active * lrt_share // pool_shares, 2, "the distributor's loss")
        self.log(
            f"equivocation proven (task {TASK.hex()[:8]}…): {amount / ETH:.4f} wdivETH slashed "
            "to the network, no veto"
        )

        self.wait_chain_time(completable_at)
        wallet = self.wdiv.balance_of(self.restaker.address)
        self.vault.complete_withdrawal(self.restaker, queued)
        paid = self.wdiv.balance_of(self.restaker.address) - wallet
        _check(paid == after[1], f"the withdrawal paid {paid}, worth {after[1]}")
        self.log(f"withdrawal #{queued} completed: {paid / ETH:.4f} wdivETH to the restaker")
        self.snapshot("slashed")
        return (
            f"request #{request} vetoed (−0); equivocation: {amount / ETH:.4f} wdivETH "
            f"({fraction / WAD:.0%} of op 1, queued stake too): restaker "
            f"−{(values[0] - after[0]) / ETH:.4f} active, −{(values[1] - after[1]) / ETH:.4f} "
            f"queued, distributor −{lrt_lost / ETH:.4f}; withdrawal paid {paid / ETH:.4f}"
        )

    def _restaker_values(self, withdrawal_id: int) -> tuple[int, int]:
        """(active value, queued withdrawal value) of the restaker, wdivETH."""
        return (
            self.vault.value_of(self.restaker.address),
            self.vault.withdrawal_value(withdrawal_id),
        )
