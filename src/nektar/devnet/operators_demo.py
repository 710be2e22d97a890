"""The operators walkthrough that `make demo` runs after the staker walkthrough.

Five operators register (node key + EIP-712 NodeKeyBinding proof) and bond ETH; a staker
deposits 40 ETH; anyone proposes a validator and the ValidatorRegistry draws a cluster of
four. A harness plays the cluster, since no Stinger node runs here: an in-memory DKG makes a
real threshold BLS key, three of four partial signatures make the deposit signature, and
every member's node key signs the EIP-712 ValidatorRegistration. Registration deposits
1 ETH; the oracle committee and the members' nodes agree (hash consensus) on a report that
confirms the credentials they read from the DepositContract's logs; the 31 ETH follow. A day
later a report brings rewards (10% to the operators by performance, one member having missed
duties and paid a penalty), then an exit, then the withdrawal into the vault, which frees the
operators' capacity.

Each step checks its outcome and raises WalkthroughError naming the first failed check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

from eth_account import Account
from eth_account.signers.local import LocalAccount

from nektar.chain import Backend, InProcessBackend, Receipt
from nektar.chain.diva_ops import (
    DivaSystem,
    ProposedValidator,
    Report,
    deploy_diva_system,
    play_cluster,
)
from nektar.chain.selection import Performance
from nektar.crypto.networks import devnet
from nektar.crypto.node_key import NodeKey
from nektar.devnet.walkthrough import Step, _eth, _require, _Walk

ETH = 10**18
OPERATOR_BONDS = (2 * ETH, 2 * ETH, 3 * ETH, 2 * ETH, 4 * ETH)
STAKE = 40 * ETH
DAILY_REWARD = 8 * 10**15  # about 7% a year on 40 ETH, inside the pool's 10% limit
MISSED_DUTIES = 2
DAY = 86_400


@dataclass
class OperatorOutcome:
    operator_id: int
    address: str
    node: str
    bonded: int
    collateral_end: int = 0
    reward_shares: int = 0
    missed: int = 0


@dataclass
class OperatorsResult:
    operators: list[OperatorOutcome]
    validator_id: int
    pubkey: bytes
    members: tuple[int, ...]
    statuses: list[str]
    rate_before: Fraction
    rate_after: Fraction
    fee_shares: int
    gas: dict[str, list[int]] = field(default_factory=dict)


class _Oracle:
    """The committee and the members' nodes voting on one report per frame."""

    def __init__(self, walk: _Walk, system: DivaSystem, committee: list[LocalAccount]) -> None:
        self.walk, self.system, self.committee = walk, system, committee
        self.nodes: dict[int, LocalAccount] = {}

    def apply(self, title: str, report: Report) -> Receipt:
        oracle = self.system.oracle
        members = oracle.members()
        voters = [(account, 0) for account in self.committee]
        voters += [(account, operator_id) for operator_id, account in self.nodes.items()]
        for account, operator_id in voters[: (2 * members + 2) // 3]:
            self.walk.record(
                "oracle vote", "vote", title, oracle.vote(account, report, operator_id)
            )
        return self.walk.record(
            "oracle submit", "report applied", title, oracle.submit(self.committee[0], report)
        )


def run_operators_walkthrough(
    backend: Backend | None = None, on_step: Callable[[Step], None] = lambda step: None
) -> OperatorsResult:
    """Run the operators walkthrough on `backend` (default: a fresh in-process EVM)."""
    backend = backend or InProcessBackend()
    walk = _Walk(backend, on_step)
    system = deploy_diva_system(backend)
    admin = system.lst.admin
    for wrapper in (system.operators, system.validators, system.oracle):
        receipt = wrapper.contract.deploy_receipt
        _require(receipt is not None, f"{wrapper.contract.name} has no deployment receipt")
        walk.record("deploy", f"deployed {wrapper.contract.name}", wrapper.address, receipt)
    committee = [backend.new_account(ETH) for _ in range(3)]
    for member in committee:
        system.oracle.add_member(admin, member.address)
    oracle = _Oracle(walk, system, committee)

    outcomes: dict[int, OperatorOutcome] = {}
    keys: dict[int, NodeKey] = {}
    for bond in OPERATOR_BONDS:
        account, key = backend.new_account(10 * ETH), NodeKey.generate()
        receipt = system.operators.register_tx(account, key, "https://operator.devnet")
        operator_id = int(receipt.event("OperatorRegistered")["operator_id"])
        walk.record(
            "operator register",
            f"operator {operator_id} registers",
            f"node 0x{key.address.hex()} bound by its EIP-712 proof",
            receipt,
        )
        walk.record(
            "operator bond",
            f"operator {operator_id} bonds",
            f"{_eth(bond)} → capacity {bond // ETH} key shares",
            system.operators.bond_eth(account, bond),
        )
        outcomes[operator_id] = OperatorOutcome(
            operator_id, account.address, "0x" + key.address.hex(), bond
        )
        keys[operator_id] = key

    staker = backend.new_account(100 * ETH)
    walk.record("deposit", "staker deposits", _eth(STAKE), system.lst.pool.deposit(staker, STAKE))
    rate_before = system.lst.rate()

    receipt = walk.record(
        "propose", "validator proposed", "buffer ≥ 32 ETH", system.validators.propose_tx(staker)
    )
    proposal = ProposedValidator.from_event(receipt.event("ValidatorProposed"))
    on_step(
        Step(
            "cluster",
            f"validator {proposal.validator_id}: operators "
            f"{list(proposal.operator_ids)}, t = {proposal.t} of n = {proposal.n}",
        )
    )
    registration = play_cluster(
        backend.chain_id,
        system.validators.address,
        proposal.validator_id,
        [keys[i] for i in proposal.operator_ids],
        system.validators.withdrawal_credentials(),
        devnet().genesis_fork_version,
        use_dkg=True,
    )
    walk.record(
        "validator register",
        "cluster registers",
        f"pubkey 0x{registration.pubkey.hex()[:16]}…, 1 ETH pre-deposit",
        system.validators.register(staker, registration),
    )
    statuses = [system.validators.validator(proposal.validator_id).status_name]

    # what the beacon chain sees: the first deposit of this pubkey fixes its credentials
    deposits = [d for d in system.deposit_contract.deposits() if d.pubkey == registration.pubkey]
    _require(
        deposits
        and deposits[0].withdrawal_credentials == system.validators.withdrawal_credentials(),
        "the validator's first deposit does not carry the vault's credentials",
    )
    backend.increase_time(system.oracle.frame_seconds())
    pool = system.lst.pool
    oracle.apply(
        "credentials confirmed",
        Report(
            ref_slot=system.oracle.current_ref_slot(),
            beacon_balance=ETH,
            beacon_deposited=ETH,
            active_validators=0,
            exited_validators=0,
            vault_balance=0,
            confirmed=(proposal.validator_id,),
        ),
    )
    walk.record(
        "validator activate",
        "31 ETH deposited",
        "credentials confirmed by the oracle",
        system.validators.activate(staker, registration),
    )
    statuses.append(system.validators.validator(proposal.validator_id).status_name)
    for operator_id in proposal.operator_ids:
        node = Account.from_key(keys[operator_id].secret)
        backend.set_balance(node.address, ETH)
        oracle.nodes[operator_id] = node

    backend.increase_time(DAY)
    slacker = proposal.operator_ids[-1]
    entries = [
        Performance(i, 1, MISSED_DUTIES if i == slacker else 0)
        for i in sorted(proposal.operator_ids)
    ]
    receipt = oracle.apply(
        "a day of rewards",
        Report(
            ref_slot=system.oracle.current_ref_slot(),
            beacon_balance=32 * ETH + DAILY_REWARD,
            beacon_deposited=32 * ETH,
            active_validators=1,
            exited_validators=0,
            vault_balance=0,
            performance=tuple(e.packed() for e in entries),
        ),
    )
    fee_shares = int(receipt.event("ReportApplied")["fee_shares"])
    rate_after = system.lst.rate()
    _require(rate_after > rate_before, "the report did not raise the divETH rate")
    _require(fee_shares > 0, "the report minted no operator rewards")
    on_step(Step("rate", f"{float(rate_before):.6f} → {float(rate_after):.6f} ETH per share"))

    backend.increase_time(system.oracle.frame_seconds())
    oracle.apply(
        "exit requested",
        Report(
            ref_slot=system.oracle.current_ref_slot(),
            beacon_balance=pool.beacon_balance(),
            beacon_deposited=32 * ETH,
            active_validators=1,
            exited_validators=0,
            vault_balance=0,
            to_exit=(proposal.validator_id,),
        ),
    )
    statuses.append(system.validators.validator(proposal.validator_id).status_name)
    backend.increase_time(system.oracle.frame_seconds())
    balance = pool.beacon_balance()
    backend.set_balance(system.lst.vault.address, balance)  # the beacon chain pays the exit
    oracle.apply(
        "withdrawn to the vault",
        Report(
            ref_slot=system.oracle.current_ref_slot(),
            beacon_balance=0,
            beacon_deposited=32 * ETH,
            active_validators=0,
            exited_validators=1,
            vault_balance=balance,
            withdrawn=(proposal.validator_id,),
        ),
    )
    statuses.append(system.validators.validator(proposal.validator_id).status_name)
    _require(
        statuses == ["REGISTERED", "ACTIVATED", "EXITING", "WITHDRAWN"], f"lifecycle {statuses}"
    )

    for operator_id, outcome in outcomes.items():
        info = system.operators.info(operator_id)
        _require(info.used == 0 and info.active == 0, f"operator {operator_id} still holds shares")
        outcome.collateral_end = system.operators.collateral(operator_id)[0]
        outcome.reward_shares = system.operators.reward_shares(operator_id)
        outcome.missed = MISSED_DUTIES if operator_id == slacker else 0
    _require(
        outcomes[slacker].collateral_end < outcomes[slacker].bonded,
        "the missed duties cost no collateral",
    )
    return OperatorsResult(
        operators=list(outcomes.values()),
        validator_id=proposal.validator_id,
        pubkey=registration.pubkey,
        members=proposal.operator_ids,
        statuses=statuses,
        rate_before=rate_before,
        rate_after=system.lst.rate(),
        fee_shares=fee_shares,
        gas=walk.gas,
    )
