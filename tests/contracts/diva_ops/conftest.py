"""Deploy fixtures for the Diva operator contracts on titanoboa, on top of the LST fixtures.

`deploy_ops()` deploys the LST (tests/contracts/diva/conftest.py::deploy_lst), the beacon
DepositContract and OperatorRegistry → ValidatorRegistry → OperatorOracle, and wires them as
`nektar.chain.diva_ops.deploy_diva_system` does. `Ops` plays every off-chain party: operators
with node keys, clusters (real threshold BLS keys and EIP-712 node signatures, through
`nektar.chain.diva_ops.play_cluster`), a beacon-chain view built from the DepositContract's
logs, and a three-member oracle committee. The gas benchmark loads this module by path.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boa
import pytest
from eth_utils import to_checksum_address

from nektar.chain.diva_ops import Registration, Report, node_key_binding, play_cluster
from nektar.chain.selection import OperatorSlot
from nektar.crypto.node_key import NodeKey
from support import load_conftest

ROOT = Path(__file__).resolve().parents[3]
CONTRACTS = ROOT / "contracts"
ETHER = 10**18
GENESIS_FORK_VERSION = bytes.fromhex("10004e4b")
SECONDS_PER_SLOT = 12
SLOTS_PER_EPOCH = 32
FRAME = SECONDS_PER_SLOT * SLOTS_PER_EPOCH  # one epoch per frame
PROPOSED, REGISTERED, ACTIVATED, EXITING, WITHDRAWN, FAILED = range(1, 7)


def _lst_module() -> Any:
    """The LST test fixtures, loaded by path (test directories are not packages)."""
    return load_conftest("contracts/diva")


@functools.cache
def deployers() -> dict[str, Any]:
    names = {
        "DepositContract": CONTRACTS / "beacon" / "DepositContract.vy",
        **{
            n: CONTRACTS / "diva" / f"{n}.vy"
            for n in ("OperatorRegistry", "ValidatorRegistry", "OperatorOracle")
        },
    }
    return {name: boa.load_partial(path) for name, path in names.items()}


@dataclass
class Operator:
    operator_id: int
    address: str
    node_key: NodeKey

    @property
    def node(self) -> str:
        return to_checksum_address(self.node_key.address)


@dataclass
class Ops:
    """The deployed protocol and the off-chain parties the tests play."""

    lst: Any
    deposit_contract: Any
    operators: Any
    validators: Any
    oracle: Any
    committee: list[str]
    members: dict[int, Operator] = field(default_factory=dict)
    registrations: dict[int, Registration] = field(default_factory=dict)

    # ---- accounts and operators

    @property
    def pool(self) -> Any:
        return self.lst.pool

    def account(self, label: str, balance: int = 10**6 * ETHER) -> str:
        return self.lst.account(label, balance)

    def add_operator(
        self, label: str, bond: int = 4 * ETHER, node_key: NodeKey | None = None
    ) -> Operator:
        """Register an operator with a fresh node key and bond `bond` wei of ETH."""
        address = self.account(label)
        key = node_key or NodeKey.generate()
        proof = node_key_binding(key, boa.env.evm.chain.chain_id, self.operators.address, address)
        with boa.env.prank(address):
            operator_id = self.operators.register(
                "0x" + key.address.hex(), proof, f"https://{label}.example", address
            )
            if bond:
                self.operators.bond_eth(value=bond)
        operator = Operator(operator_id, address, key)
        self.members[operator_id] = operator
        return operator

    def slots(self) -> list[OperatorSlot]:
        """What the selection reads, for the Python twin."""
        out = []
        for operator_id in range(1, self.operators.operator_count() + 1):
            _, _, status, capacity, used, _ = self.operators.operator(operator_id)
            out.append(OperatorSlot(operator_id, status, capacity, used))
        return out

    # ---- validators

    def stake(self, amount: int) -> None:
        self.lst.deposit(self.account("staker"), amount)

    def propose(self) -> int:
        with boa.env.prank(self.account("proposer")):
            return self.validators.propose()

    def members_of(self, validator_id: int) -> list[Operator]:
        return [self.members[i] for i in self.validators.validator(validator_id)[4]]

    def play(self, validator_id: int, use_dkg: bool = False) -> Registration:
        """The cluster's nodes run the DKG and sign the registration."""
        registration = play_cluster(
            boa.env.evm.chain.chain_id,
            self.validators.address,
            validator_id,
            [m.node_key for m in self.members_of(validator_id)],
            bytes(self.validators.WITHDRAWAL_CREDENTIALS()),
            GENESIS_FORK_VERSION,
            use_dkg=use_dkg,
        )
        self.registrations[validator_id] = registration
        return registration

    def register(self, validator_id: int, use_dkg: bool = False) -> Registration:
        registration = self.play(validator_id, use_dkg)
        with boa.env.prank(self.account("submitter")):
            self.validators.register(*registration.args())
        return registration

    def activate(self, validator_id: int) -> None:
        r = self.registrations[validator_id]
        with boa.env.prank(self.account("submitter")):
            self.validators.activate(validator_id, r.pubkey, r.deposit_signature)

    def status(self, validator_id: int) -> int:
        return self.validators.validator(validator_id)[0]

    # ---- oracle

    def next_frame(self) -> int:
        """Move to the next frame; returns its ref slot."""
        boa.env.time_travel(seconds=FRAME)
        return self.oracle.current_ref_slot()

    def report(self, reward: int = 0, **fields: Any) -> Report:
        """A report for the current frame. By default every ETH sent to the beacon chain is
        credited and shows up in the balance, plus `reward`; fields override."""
        credited = fields.get("beacon_deposited", self.pool.deposited_ether())
        newly = credited - self.pool.beacon_deposited_ether()
        defaults = {
            "ref_slot": self.oracle.current_ref_slot(),
            "beacon_balance": self.pool.beacon_balance() + newly + reward,
            "beacon_deposited": credited,
            "active_validators": self.validators.activated_count(),
            "exited_validators": self.oracle.last_exited_validators(),
            "vault_balance": 0,
        }
        defaults.update(fields)
        return Report(**defaults)

    def agree(self, report: Report, members: list[str] | None = None) -> None:
        """Committee members (default: all) vote for the report's hash."""
        for member in self.committee if members is None else members:
            with boa.env.prank(member):
                self.oracle.vote(report.ref_slot, report.hash(), 0)

    def apply(self, report: Report) -> None:
        self.agree(report)
        with boa.env.prank(self.account("submitter")):
            self.oracle.submit(report.as_tuple())

    def onboard(self, validator_id: int, use_dkg: bool = False) -> Registration:
        """Register, get the credentials confirmed, activate: the happy path to ACTIVATED."""
        registration = self.register(validator_id, use_dkg)
        self.next_frame()
        self.apply(
            self.report(
                confirmed=(validator_id,),
                beacon_deposited=self.pool.deposited_ether(),
                beacon_balance=self.pool.beacon_balance() + ETHER,
            )
        )
        self.activate(validator_id)
        return registration


def deploy_ops(committee_size: int = 3) -> Ops:
    lst = _lst_module().deploy_lst()
    d = deployers()
    with boa.env.prank(lst.admin):
        deposit_contract = d["DepositContract"].deploy()
        operators = d["OperatorRegistry"].deploy(lst.pool.address, lst.wrapper.address)
        validators = d["ValidatorRegistry"].deploy(
            lst.pool.address, operators.address, deposit_contract.address
        )
        oracle = d["OperatorOracle"].deploy(
            lst.pool.address,
            operators.address,
            validators.address,
            boa.env.evm.patch.timestamp,
            SECONDS_PER_SLOT,
            SLOTS_PER_EPOCH,
            1,
        )
        operators.set_protocol(validators.address, oracle.address)
        validators.set_oracle(oracle.address)
        lst.pool.grantRole(lst.pool.DEPOSITOR_ROLE(), validators.address)
        lst.pool.grantRole(lst.pool.ORACLE_ROLE(), oracle.address)
        pool = lst.pool
        pool.set_parameters(
            pool.min_deposit(),
            pool.fee_bps(),
            oracle.address,
            pool.max_apr_bps(),
            pool.max_loss_bps(),
            pool.max_finalize_requests(),
        )
        oracle.set_parameters(1, 10**14, False)
        committee = [boa.env.generate_address(f"oracle-{i}") for i in range(committee_size)]
        for member in committee:
            oracle.add_member(member)
    return Ops(lst, deposit_contract, operators, validators, oracle, committee)


@pytest.fixture(scope="session")
def ops_system() -> Ops:
    return deploy_ops()


@pytest.fixture
def ops(ops_system: Ops) -> Iterator[Ops]:
    """The deployed protocol; every change a test makes is rolled back afterwards."""
    with boa.env.anchor():
        members = dict(ops_system.members)
        registrations = dict(ops_system.registrations)
        yield ops_system
        ops_system.members = members
        ops_system.registrations = registrations


@pytest.fixture
def cluster_ready(ops: Ops) -> Ops:
    """Eight operators with 4 ETH each and 64 ETH staked: enough for a few validators."""
    for i in range(8):
        ops.add_operator(f"op-{i}")
    ops.stake(64 * ETHER)
    return ops
