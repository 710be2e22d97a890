"""The staker walkthrough that `make demo` runs: the liquid-staking flow end to end.

Three stakers deposit ETH and receive divETH, wrap part of it into wdivETH and unwrap it,
and request withdrawals. An account holding DEPOSITOR_ROLE (the stand-in for the
ValidatorRegistry, which a later issue brings) takes 32 ETH from the buffer and deposits it
into the beacon DepositContract with a BLS-signed deposit whose withdrawal credentials point
at the WithdrawalVault. A day later the oracle reports the validator's balance with a
reward: the divETH rate rises and the withdrawal requests are finalized; the stakers claim.

The scenario checks its own outcome (rate up, every request paid, ledgers consistent) and
raises WalkthroughError naming the first check that failed. Progress is reported step by
step through a callback so that the CLI can show it live.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

from eth_account.signers.local import LocalAccount

from nektar.chain import Backend, InProcessBackend, Receipt
from nektar.chain.deposit import DepositContract
from nektar.chain.diva import DivaLst, deploy_diva_lst
from nektar.crypto import bls
from nektar.crypto.networks import devnet
from nektar.crypto.signing import deposit_data_root, deposit_signing_root

ETH = 10**18
GWEI = 10**9
VALIDATOR_DEPOSIT = 32 * ETH
REPORT_DELAY_S = 86_400
DAILY_REWARD = 8 * 10**15  # 0.008 ETH a day on ~40 ETH: about 7% a year, inside the 10% limit


@dataclass(frozen=True)
class StakerPlan:
    name: str
    deposit: int
    wrap: int
    withdraw: int


STAKERS = (
    StakerPlan("alice", 20 * ETH, 8 * ETH, 2 * ETH),
    StakerPlan("bob", 12 * ETH, 5 * ETH, 1 * ETH),
    StakerPlan("carol", 8 * ETH, 3 * ETH, ETH // 2),
)


class WalkthroughError(Exception):
    """A check of the walkthrough failed; the message says which."""


@dataclass(frozen=True)
class Step:
    """One thing that happened, for live display."""

    title: str
    detail: str
    gas_used: int | None = None


@dataclass
class StakerOutcome:
    name: str
    address: str
    deposited: int
    wrapped: int
    requested: int
    claimed: int = 0
    eth_start: int = 0
    eth_end: int = 0
    div_eth_end: int = 0


@dataclass
class WalkthroughResult:
    stakers: list[StakerOutcome]
    rate_before: Fraction
    rate_after: Fraction
    total_pooled_ether: int
    beacon_balance: int
    deposit_root: bytes
    deposit_count: int
    gas: dict[str, list[int]] = field(default_factory=dict)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise WalkthroughError(message)


def _eth(wei: int) -> str:
    return f"{Fraction(wei, ETH).__float__():,.4f} ETH"


class _Walk:
    """State of one run: the system, the accounts, and the gas used per operation."""

    def __init__(self, backend: Backend, on_step: Callable[[Step], None]) -> None:
        self.backend = backend
        self.on_step = on_step
        self.gas: dict[str, list[int]] = {}

    def record(self, operation: str, title: str, detail: str, receipt: Receipt) -> Receipt:
        self.gas.setdefault(operation, []).append(receipt.gas_used)
        self.on_step(Step(title, detail, receipt.gas_used))
        return receipt

    def deploy(self) -> tuple[DivaLst, DepositContract]:
        deposit_contract = DepositContract.deploy(self.backend)
        lst = deploy_diva_lst(self.backend)
        deployed = [("DepositContract", deposit_contract.contract)] + [
            (wrapper.contract.name, wrapper.contract)
            for wrapper in (lst.pool, lst.token, lst.queue, lst.vault, lst.wrapper)
        ]
        for name, contract in deployed:
            receipt = contract.deploy_receipt
            if receipt is None:
                raise WalkthroughError(f"{name} has no deployment receipt")
            self.record("deploy", f"deployed {name}", contract.address, receipt)
        return lst, deposit_contract

    def fund_validator(
        self, lst: DivaLst, deposit_contract: DepositContract, depositor: LocalAccount
    ) -> None:
        """Take 32 ETH from the buffer and make a real, BLS-signed beacon deposit with them."""
        self.record(
            "withdraw for deposit",
            "buffer → validator",
            f"{_eth(VALIDATOR_DEPOSIT)} leave the buffer for the beacon chain",
            lst.pool.withdraw_for_deposit(depositor, VALIDATOR_DEPOSIT),
        )
        secret = bls.keygen(b"nektar demo validator key material 0")
        pubkey = bls.sk_to_pk(secret)
        credentials = lst.withdrawal_credentials()
        amount_gwei = VALIDATOR_DEPOSIT // GWEI
        fork_version = devnet().genesis_fork_version
        signature = bls.sign(
            secret, deposit_signing_root(pubkey, credentials, amount_gwei, fork_version)
        )
        root = deposit_data_root(pubkey, credentials, amount_gwei, signature)
        receipt = deposit_contract.deposit(
            depositor, pubkey, credentials, signature, root, amount_gwei
        )
        self.record(
            "beacon deposit",
            "beacon deposit",
            f"validator 0x{pubkey.hex()[:16]}… with credentials → WithdrawalVault",
            receipt,
        )
        deposits = deposit_contract.deposits(from_block=receipt.block_number)
        _require(
            len(deposits) == 1 and deposits[0].pubkey == pubkey,
            "the DepositContract did not log the validator's deposit",
        )


def run_walkthrough(
    backend: Backend | None = None, on_step: Callable[[Step], None] = lambda step: None
) -> WalkthroughResult:
    """Run the staker walkthrough on `backend` (default: a fresh in-process EVM)."""
    backend = backend or InProcessBackend()
    walk = _Walk(backend, on_step)
    lst, deposit_contract = walk.deploy()

    oracle, depositor = backend.new_account(ETH), backend.new_account(ETH)
    for role, holder, label in (
        ("ORACLE_ROLE", oracle, "the oracle"),
        ("DEPOSITOR_ROLE", depositor, "the validator funder (ValidatorRegistry stand-in)"),
    ):
        walk.record(
            "grant role",
            f"grant {role}",
            f"to {label} {holder.address}",
            lst.pool.grant_role(lst.admin, role, holder.address),
        )

    accounts = {plan.name: backend.new_account(100 * ETH) for plan in STAKERS}
    outcomes = {
        plan.name: StakerOutcome(
            name=plan.name,
            address=accounts[plan.name].address,
            deposited=plan.deposit,
            wrapped=plan.wrap,
            requested=plan.withdraw,
            eth_start=backend.balance_of(accounts[plan.name].address),
        )
        for plan in STAKERS
    }

    rate_before = lst.rate()
    for plan in STAKERS:
        walk.record(
            "deposit",
            f"{plan.name} deposits",
            f"{_eth(plan.deposit)} → {_eth(plan.deposit)} divETH",
            lst.pool.deposit(accounts[plan.name], plan.deposit),
        )
    for plan in STAKERS:
        staker = accounts[plan.name]
        walk.record(
            "approve",
            f"{plan.name} approves",
            f"wdivETH may take {_eth(plan.wrap)} divETH",
            lst.token.approve(staker, lst.wrapper.address, plan.wrap),
        )
        walk.record(
            "wrap",
            f"{plan.name} wraps",
            f"{_eth(plan.wrap)} divETH → wdivETH",
            lst.wrapper.wrap(staker, plan.wrap),
        )
    for plan in STAKERS:
        staker = accounts[plan.name]
        wrapped = lst.wrapper.balance_of(staker.address)
        walk.record(
            "unwrap",
            f"{plan.name} unwraps",
            f"{_eth(wrapped)} wdivETH → divETH",
            lst.wrapper.unwrap(staker, wrapped),
        )
        _require(
            lst.token.balance_of(staker.address) <= plan.deposit,
            f"{plan.name} gained divETH from a wrap/unwrap round trip",
        )

    request_ids: dict[str, int] = {}
    for plan in STAKERS:
        receipt = lst.queue.request_withdrawals(accounts[plan.name], [plan.withdraw])
        (request_ids[plan.name],) = lst.queue.request_ids(receipt)
        walk.record(
            "withdrawal request",
            f"{plan.name} requests a withdrawal",
            f"request #{request_ids[plan.name]} for {_eth(plan.withdraw)} divETH",
            receipt,
        )

    walk.fund_validator(lst, deposit_contract, depositor)

    backend.increase_time(REPORT_DELAY_S)
    beacon_balance = VALIDATOR_DEPOSIT + DAILY_REWARD
    report = walk.record(
        "oracle report",
        "oracle report",
        f"one day later: 1 validator, beacon balance {_eth(beacon_balance)}",
        lst.pool.report(oracle, beacon_balance, 1, VALIDATOR_DEPOSIT),
    )
    rate_after = lst.rate()
    _require(rate_after > rate_before, "the beacon report did not raise the divETH rate")
    finalized_to = report.event("BeaconReported")["finalized_to"]
    _require(
        finalized_to == max(request_ids.values()),
        f"the report finalized requests up to #{finalized_to}, not all of them",
    )
    on_step(Step("rate", f"{float(rate_before):.6f} → {float(rate_after):.6f} ETH per share"))

    for plan in STAKERS:
        staker = accounts[plan.name]
        request = lst.queue.request(request_ids[plan.name])
        balance_before = backend.balance_of(staker.address)
        walk.record(
            "claim",
            f"{plan.name} claims",
            f"request #{request.request_id}: {_eth(request.ether)}",
            lst.queue.claim(staker, request.request_id),
        )
        claimed = backend.balance_of(staker.address) - balance_before
        _require(
            claimed == request.ether, f"{plan.name} received {claimed} wei, not {request.ether}"
        )
        outcomes[plan.name].claimed = claimed

    for plan in STAKERS:
        outcome = outcomes[plan.name]
        outcome.eth_end = backend.balance_of(outcome.address)
        outcome.div_eth_end = lst.token.balance_of(outcome.address)
        _require(
            outcome.eth_end == outcome.eth_start - plan.deposit + outcome.claimed,
            f"{plan.name}'s ETH balance does not add up",
        )
        _require(
            outcome.div_eth_end > plan.deposit - plan.withdraw,
            f"{plan.name}'s remaining divETH did not earn the reward",
        )
    _require(lst.queue.locked_ether() == 0, "ETH is still locked in the queue after all claims")

    return WalkthroughResult(
        stakers=list(outcomes.values()),
        rate_before=rate_before,
        rate_after=rate_after,
        total_pooled_ether=lst.pool.total_pooled_ether(),
        beacon_balance=lst.pool.beacon_balance(),
        deposit_root=deposit_contract.deposit_root(),
        deposit_count=deposit_contract.deposit_count(),
        gas=walk.gas,
    )
