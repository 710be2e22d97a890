"""Typed access to the Diva operator contracts (docs/diva-operators.md), on any backend.

- `OperatorRegistry`, `ValidatorRegistry`, `OperatorOracle`: one wrapper per contract.
- `deploy_diva_system`: the LST of `nektar.chain.diva` plus the DepositContract and the three
  operator contracts, wired (roles, fee recipient, protocol addresses).
- `Report`: the oracle report; `Report.hash()` is what members vote for, the same bytes the
  contract hashes (`keccak256(abi_encode(report))`).
- `node_key_binding` and `play_cluster`: the node-key EIP-712 signatures, and a stand-in for a
  DKG cluster (real threshold BLS keys, real deposit signature, real EIP-712 member
  signatures) used by tests and the demo before Stinger nodes exist.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from eth_abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from nektar.chain.backend import Backend
from nektar.chain.compiler import compile_contract
from nektar.chain.contract import Contract
from nektar.chain.deposit import DepositContract
from nektar.chain.diva import DivaLst, deploy_diva_lst, role_id
from nektar.chain.types import Event, Receipt
from nektar.crypto import bls, dkg, eip712, threshold
from nektar.crypto.deposit import combine_deposit, partial_deposit_signature
from nektar.crypto.node_key import NodeKey

PRE_DEPOSIT_GWEI = 10**9
STATUS_NAMES = {
    1: "PROPOSED",
    2: "REGISTERED",
    3: "ACTIVATED",
    4: "EXITING",
    5: "WITHDRAWN",
    6: "FAILED",
}
REPORT_ABI = (
    "(uint256,uint256,uint256,uint256,uint256,uint256,"
    "uint256[],uint256[],uint256[],uint256[],uint256[],uint256[],uint256[])"
)


class _Bound:
    def __init__(self, contract: Contract) -> None:
        self.contract = contract

    @property
    def address(self) -> str:
        return self.contract.address


# ---------------------------------------------------------------- node keys and clusters


def node_key_binding(node_key: NodeKey, chain_id: int, registry: str, operator: str) -> bytes:
    """The node key's EIP-712 NodeKeyBinding signature that `OperatorRegistry.register` checks."""
    domain = eip712.operator_registry_domain(chain_id, registry)
    return eip712.sign(node_key, domain, eip712.NodeKeyBinding(operator))


@dataclass(frozen=True)
class Registration:
    """A DKG result ready for `ValidatorRegistry.register`."""

    validator_id: int
    pubkey: bytes
    public_shares: tuple[bytes, ...]
    deposit_signature: bytes
    deposit_data_root: bytes
    member_signatures: tuple[bytes, ...]
    secret_shares: dict[int, int] = field(repr=False, default_factory=dict)

    def args(self) -> tuple[int, bytes, bytes, bytes, bytes, bytes]:
        """Positional arguments of `register`."""
        return (
            self.validator_id,
            self.pubkey,
            b"".join(self.public_shares),
            self.deposit_signature,
            self.deposit_data_root,
            b"".join(self.member_signatures),
        )


def _dealt_keys(n: int, t: int) -> tuple[bytes, dict[int, int], dict[int, bytes]]:
    """A trusted dealer: (group pubkey, {index: secret share}, {index: public share})."""
    secret = secrets.randbelow(bls.CURVE_ORDER - 1) + 1
    _, shares = threshold.split(secret, t, n)
    return bls.sk_to_pk(secret), shares, {i: bls.sk_to_pk(s) for i, s in shares.items()}


def _dkg_keys(session: bytes, n: int, t: int) -> tuple[bytes, dict[int, int], dict[int, bytes]]:
    """Every member runs nektar.crypto.dkg in memory; nobody ever holds the group secret."""
    members = dkg.run_in_memory({i: dkg.DKG(session, i, n, t) for i in range(1, n + 1)})
    outcomes = {i: m.outcome for i, m in members.items()}
    unfinished = sorted(i for i, o in outcomes.items() if o is None)
    if unfinished:
        raise dkg.DKGError(f"the in-memory DKG did not finish for members {unfinished}")
    keys = {i: o.keys[0] for i, o in outcomes.items() if o is not None}
    group = keys[1].group_pubkey
    return group, {i: k.secret_share for i, k in keys.items()}, dict(keys[1].public_shares)


def play_cluster(
    chain_id: int,
    validator_registry: str,
    validator_id: int,
    node_keys: Sequence[NodeKey],
    withdrawal_credentials: bytes,
    genesis_fork_version: bytes,
    use_dkg: bool = True,
) -> Registration:
    """Act as the n members of a proposed cluster (member order = `node_keys` order): make a
    threshold BLS key (in-memory DKG, or a trusted dealer when `use_dkg` is False), sign the
    1 ETH deposit with t partial signatures, and sign the registration with every node key."""
    n = len(node_keys)
    t = (2 * n + 2) // 3
    if use_dkg:
        session = dkg.session_id(validator_id, bytes.fromhex(validator_registry[2:]), chain_id)
        group, shares, public = _dkg_keys(session, n, t)
    else:
        group, shares, public = _dealt_keys(n, t)
    partials = {
        i: partial_deposit_signature(
            shares[i], group, withdrawal_credentials, PRE_DEPOSIT_GWEI, genesis_fork_version
        )
        for i in range(1, t + 1)
    }
    entry = combine_deposit(
        group,
        public,
        partials,
        t,
        withdrawal_credentials,
        PRE_DEPOSIT_GWEI,
        genesis_fork_version,
        "devnet",
    )
    public_shares = tuple(public[i] for i in range(1, n + 1))
    message = eip712.ValidatorRegistration(
        validator_id, group, public_shares, entry.signature, entry.deposit_data_root
    )
    domain = eip712.validator_registry_domain(chain_id, validator_registry)
    return Registration(
        validator_id=validator_id,
        pubkey=group,
        public_shares=public_shares,
        deposit_signature=entry.signature,
        deposit_data_root=entry.deposit_data_root,
        member_signatures=tuple(eip712.sign(key, domain, message) for key in node_keys),
        secret_shares=shares,
    )


# ---------------------------------------------------------------- oracle report


@dataclass(frozen=True)
class Report:
    """One frame's oracle report (OperatorOracle's `Report` struct, same field order).

    `performance` entries are `operator_id << 32 | missed duties`, ids strictly increasing
    (see `nektar.chain.selection.Performance.packed`). The pool fields leave NativePod
    validators out; `pod_validators` / `pod_balances` carry those validators' beacon balances
    (wei; 0 once withdrawn) to their pods.
    """

    ref_slot: int
    beacon_balance: int
    beacon_deposited: int
    active_validators: int
    exited_validators: int
    vault_balance: int
    confirmed: tuple[int, ...] = ()
    rejected: tuple[int, ...] = ()
    to_exit: tuple[int, ...] = ()
    withdrawn: tuple[int, ...] = ()
    performance: tuple[int, ...] = ()
    pod_validators: tuple[int, ...] = ()
    pod_balances: tuple[int, ...] = ()

    def as_tuple(self) -> tuple:
        return (
            self.ref_slot,
            self.beacon_balance,
            self.beacon_deposited,
            self.active_validators,
            self.exited_validators,
            self.vault_balance,
            list(self.confirmed),
            list(self.rejected),
            list(self.to_exit),
            list(self.withdrawn),
            list(self.performance),
            list(self.pod_validators),
            list(self.pod_balances),
        )

    def hash(self) -> bytes:
        """keccak256(abi.encode(report)): what members vote for."""
        return keccak(abi_encode([REPORT_ABI], [self.as_tuple()]))


# ---------------------------------------------------------------- wrappers


@dataclass(frozen=True)
class OperatorInfo:
    operator: str
    node: str
    status: int
    capacity: int
    used: int
    active: int


class OperatorRegistry(_Bound):
    """Operators, their node keys and collateral."""

    def register_tx(
        self,
        operator: LocalAccount,
        node_key: NodeKey,
        metadata_uri: str,
        fee_recipient: str | None = None,
    ) -> Receipt:
        """Register `operator` with a NodeKeyBinding proof from `node_key`."""
        chain_id = self.contract.backend.chain_id
        proof = node_key_binding(node_key, chain_id, self.address, operator.address)
        return self.contract.transact(
            "register",
            "0x" + node_key.address.hex(),
            proof,
            metadata_uri,
            fee_recipient or operator.address,
            sender=operator,
        )

    def register(
        self,
        operator: LocalAccount,
        node_key: NodeKey,
        metadata_uri: str,
        fee_recipient: str | None = None,
    ) -> int:
        """`register_tx`, returning the new operator id."""
        receipt = self.register_tx(operator, node_key, metadata_uri, fee_recipient)
        return int(receipt.event("OperatorRegistered")["operator_id"])

    def bond_eth(self, operator: LocalAccount, amount: int) -> Receipt:
        return self.contract.transact("bond_eth", sender=operator, value=amount)

    def bond_div_eth(self, operator: LocalAccount, shares: int) -> Receipt:
        """Bond divETH shares (the operator approves the registry for their value first)."""
        return self.contract.transact("bond_div_eth", shares, sender=operator)

    def bond_wdiv_eth(self, operator: LocalAccount, amount: int) -> Receipt:
        return self.contract.transact("bond_wdiv_eth", amount, sender=operator)

    def request_withdrawal(self, operator: LocalAccount, eth: int, div: int, wdiv: int) -> Receipt:
        return self.contract.transact("request_withdrawal", eth, div, wdiv, sender=operator)

    def withdraw(self, operator: LocalAccount) -> Receipt:
        return self.contract.transact("withdraw", sender=operator)

    def cancel_withdrawal(self, operator: LocalAccount) -> Receipt:
        return self.contract.transact("cancel_withdrawal", sender=operator)

    def update(self, operator: LocalAccount, metadata_uri: str, fee_recipient: str) -> Receipt:
        return self.contract.transact("update", metadata_uri, fee_recipient, sender=operator)

    def refresh(self, caller: LocalAccount, operator_id: int) -> Receipt:
        """Re-cache an operator's capacity at the current divETH rate (anyone)."""
        return self.contract.transact("refresh", operator_id, sender=caller)

    def set_parameters(
        self, governance: LocalAccount, bond_per_share: int, withdrawal_delay: int
    ) -> Receipt:
        return self.contract.transact(
            "set_parameters", bond_per_share, withdrawal_delay, sender=governance
        )

    def set_curve(self, governance: LocalAccount, curve_bps: int) -> Receipt:
        """Each further key share of an operator costs `curve_bps` more bond (0 = linear)."""
        return self.contract.transact("set_curve", curve_bps, sender=governance)

    def pause(self, operator: LocalAccount) -> Receipt:
        return self.contract.transact("pause", sender=operator)

    def resume(self, operator: LocalAccount) -> Receipt:
        return self.contract.transact("resume", sender=operator)

    def eject(self, caller: LocalAccount, operator_id: int) -> Receipt:
        return self.contract.transact("eject", operator_id, sender=caller)

    def claim_rewards(self, operator: LocalAccount) -> Receipt:
        return self.contract.transact("claim_rewards", sender=operator)

    def info(self, operator_id: int) -> OperatorInfo:
        return OperatorInfo(*self.contract.call("operator", operator_id))

    def free_capacity(self, operator_id: int) -> int:
        return int(self.contract.call("free_capacity", operator_id))

    def reward_shares(self, operator_id: int) -> int:
        return int(self.contract.call("reward_shares", operator_id))

    def collateral(self, operator_id: int) -> tuple[int, int, int]:
        """(ETH wei, divETH shares, wdivETH) bonded."""
        eth, div, wdiv = self.contract.call("collateral", operator_id)
        return int(eth), int(div), int(wdiv)

    def operator_count(self) -> int:
        return int(self.contract.call("operator_count"))


@dataclass(frozen=True)
class ProposedValidator:
    """Everything a node needs from `ValidatorProposed`."""

    validator_id: int
    n: int
    t: int
    operator_ids: tuple[int, ...]
    nodes: tuple[str, ...]
    seed: bytes
    deadline: int

    @classmethod
    def from_event(cls, event: Event) -> ProposedValidator:
        return cls(
            validator_id=int(event["validator_id"]),
            n=int(event["n"]),
            t=int(event["t"]),
            operator_ids=tuple(int(i) for i in event["operator_ids"]),
            nodes=tuple(event["nodes"]),
            seed=bytes(event["seed"]),
            deadline=int(event["deadline"]),
        )


@dataclass(frozen=True)
class ValidatorInfo:
    status: int
    confirmed: bool
    n: int
    deadline: int
    operator_ids: tuple[int, ...]

    @property
    def status_name(self) -> str:
        return STATUS_NAMES[self.status]


class ValidatorRegistry(_Bound):
    """The validator lifecycle."""

    def propose_tx(self, caller: LocalAccount) -> Receipt:
        """Propose a validator; `ProposedValidator.from_event` reads the receipt's event."""
        return self.contract.transact("propose", sender=caller)

    def propose(self, caller: LocalAccount) -> ProposedValidator:
        receipt = self.propose_tx(caller)
        return ProposedValidator.from_event(receipt.event("ValidatorProposed"))

    def register(self, caller: LocalAccount, registration: Registration) -> Receipt:
        return self.contract.transact("register", *registration.args(), sender=caller)

    def activate(self, caller: LocalAccount, registration: Registration) -> Receipt:
        return self.contract.transact(
            "activate",
            registration.validator_id,
            registration.pubkey,
            registration.deposit_signature,
            sender=caller,
        )

    def acknowledge(self, member: LocalAccount, validator_id: int, member_index: int) -> Receipt:
        return self.contract.transact("acknowledge", validator_id, member_index, sender=member)

    def fail(self, caller: LocalAccount, validator_id: int) -> Receipt:
        return self.contract.transact("fail", validator_id, sender=caller)

    def request_exit_for_ejection(self, caller: LocalAccount, validator_id: int) -> Receipt:
        return self.contract.transact("request_exit_for_ejection", validator_id, sender=caller)

    def set_parameters(
        self, governance: LocalAccount, cluster_size: int, dkg_timeout: int
    ) -> Receipt:
        """n ∈ {4, 7, 10, 13, 16} for the next proposals, and the DKG timeout in seconds."""
        return self.contract.transact(
            "set_parameters", cluster_size, dkg_timeout, sender=governance
        )

    def validator_count(self) -> int:
        return int(self.contract.call("validator_count"))

    def dkg_timeout(self) -> int:
        return int(self.contract.call("dkg_timeout"))

    def validator(self, validator_id: int) -> ValidatorInfo:
        status, confirmed, n, deadline, ids = self.contract.call("validator", validator_id)
        return ValidatorInfo(status, confirmed, n, deadline, tuple(ids))

    def withdrawal_credentials(self, validator_id: int | None = None) -> bytes:
        """The pool's credentials (0x01‖0…‖WithdrawalVault), or one validator's (a NativePod's
        validators have 0x01‖0…‖pod)."""
        if validator_id is None:
            return bytes(self.contract.call("WITHDRAWAL_CREDENTIALS"))
        return bytes(self.contract.call("withdrawal_credentials", validator_id))

    def validator_pod(self, validator_id: int) -> str | None:
        """The NativePod a validator belongs to, None for a pool validator."""
        pod = self.contract.call("validator_pod", validator_id)
        return None if int(pod, 16) == 0 else pod

    def pod_activated_count(self) -> int:
        return int(self.contract.call("pod_activated_count"))

    def proposals(self, from_block: int = 0) -> list[ProposedValidator]:
        return [
            ProposedValidator.from_event(e)
            for e in self.contract.events("ValidatorProposed", from_block)
        ]


class OperatorOracle(_Bound):
    """Hash consensus on reports, then permissionless submission."""

    def current_ref_slot(self) -> int:
        return int(self.contract.call("current_ref_slot"))

    def vote(self, member: LocalAccount, report: Report, operator_id: int = 0) -> Receipt:
        return self.contract.transact(
            "vote", report.ref_slot, report.hash(), operator_id, sender=member
        )

    def submit(self, caller: LocalAccount, report: Report) -> Receipt:
        return self.contract.transact("submit", report.as_tuple(), sender=caller)

    def members(self) -> int:
        """Committee size plus operators holding active key shares (when operators vote)."""
        return int(self.contract.call("members"))

    def consensus(self) -> tuple[int, bytes, bool]:
        """(ref slot, agreed hash or 32 zero bytes, applied) of the latest frame with votes."""
        ref_slot, agreed, applied = self.contract.call("consensus")
        return int(ref_slot), bytes(agreed), bool(applied)

    def last_applied_ref_slot(self) -> int:
        return int(self.contract.call("last_applied_ref_slot"))

    def add_member(self, governance: LocalAccount, member: str) -> Receipt:
        return self.contract.transact("add_member", member, sender=governance)

    def set_parameters(
        self,
        governance: LocalAccount,
        epochs_per_frame: int,
        penalty_per_missed_duty: int,
        operators_vote: bool,
    ) -> Receipt:
        return self.contract.transact(
            "set_parameters",
            epochs_per_frame,
            penalty_per_missed_duty,
            operators_vote,
            sender=governance,
        )

    def frame_seconds(self) -> int:
        c = self.contract
        return (
            int(c.call("epochs_per_frame"))
            * int(c.call("SLOTS_PER_EPOCH"))
            * int(c.call("SECONDS_PER_SLOT"))
        )


@dataclass
class DivaSystem:
    """The whole Diva staking protocol on one backend."""

    lst: DivaLst
    deposit_contract: DepositContract
    operators: OperatorRegistry
    validators: ValidatorRegistry
    oracle: OperatorOracle

    @property
    def backend(self) -> Backend:
        return self.lst.backend


def deploy_diva_system(
    backend: Backend,
    admin: LocalAccount | None = None,
    deposit_contract: DepositContract | None = None,
    genesis_time: int | None = None,
    seconds_per_slot: int = 12,
    slots_per_epoch: int = 32,
    epochs_per_frame: int = 1,
) -> DivaSystem:
    """Deploy the LST (`deploy_diva_lst`), then OperatorRegistry → ValidatorRegistry →
    OperatorOracle, and wire them: the ValidatorRegistry gets DEPOSITOR_ROLE, the oracle gets
    ORACLE_ROLE and becomes the pool's fee recipient (fee shares = operator rewards)."""
    admin = admin or backend.accounts[0]
    lst = deploy_diva_lst(backend, admin)
    deposit_contract = deposit_contract or DepositContract.deploy(backend, admin)
    genesis = backend.timestamp() if genesis_time is None else genesis_time

    def deploy(name: str, *args: object) -> Contract:
        return backend.deploy(compile_contract(f"diva/{name}.vy"), *args, sender=admin)

    operators = deploy("OperatorRegistry", lst.pool.address, lst.wrapper.address)
    validators = deploy(
        "ValidatorRegistry", lst.pool.address, operators.address, deposit_contract.address
    )
    oracle = deploy(
        "OperatorOracle",
        lst.pool.address,
        operators.address,
        validators.address,
        genesis,
        seconds_per_slot,
        slots_per_epoch,
        epochs_per_frame,
    )
    operators.transact("set_protocol", validators.address, oracle.address, sender=admin)
    validators.transact("set_oracle", oracle.address, sender=admin)
    pool = lst.pool.contract
    pool.transact("grantRole", role_id("DEPOSITOR_ROLE"), validators.address, sender=admin)
    pool.transact("grantRole", role_id("ORACLE_ROLE"), oracle.address, sender=admin)
    pool.transact(
        "set_parameters",
        pool.call("min_deposit"),
        pool.call("fee_bps"),
        oracle.address,
        pool.call("max_apr_bps"),
        pool.call("max_loss_bps"),
        pool.call("max_finalize_requests"),
        sender=admin,
    )
    return DivaSystem(
        lst=lst,
        deposit_contract=deposit_contract,
        operators=OperatorRegistry(operators),
        validators=ValidatorRegistry(validators),
        oracle=OperatorOracle(oracle),
    )
