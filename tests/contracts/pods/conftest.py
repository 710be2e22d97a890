"""Deploy fixtures for native restaking on titanoboa, on top of the Diva operator fixtures.

`deploy_native()` deploys the Diva system and the upper layer
(tests/contracts/restaking/conftest.py::deploy_upper: wdivETH vault + NetworkRegistry), then
nETH, a second RestakingVault over nETH added to that NetworkRegistry, the NativePod
implementation and the NativePodFactory, wired as `nektar.chain.pods.deploy_native_restaking`
does, plus eight operators. `Native` plays the off-chain parties: the clusters (real
threshold BLS keys and EIP-712 signatures through `play_cluster`, with the pod's
credentials), the beacon chain paying withdrawals to the pod, and the oracle committee
reporting pod balances.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boa
import pytest

from nektar.chain.diva_ops import Registration, Report, play_cluster
from support import load_conftest

ops_fx = load_conftest("contracts/diva_ops")
restaking_fx = load_conftest("contracts/restaking")
ETHER = 10**18
DAY = 86_400
MIN_DELAY = 7 * DAY
BURN = restaking_fx.BURN
PROPOSED, REGISTERED, ACTIVATED, EXITING, WITHDRAWN, FAILED = range(1, 7)


@functools.cache
def deployers() -> dict[str, Any]:
    folder = ops_fx.CONTRACTS / "restaking"
    return {
        n: boa.load_partial(folder / f"{n}.vy")
        for n in ("NativeEther", "NativePod", "NativePodFactory")
    }


def pod_at(address: str) -> Any:
    """A pod: an EIP-1167 proxy, so its code is not the implementation's (boa would warn)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return deployers()["NativePod"].at(address)


def pod_credentials(pod: str) -> bytes:
    return b"\x01" + b"\x00" * 11 + bytes.fromhex(pod[2:])


@dataclass
class Native:
    """The deployed protocol with native restaking, and the parties the tests play."""

    upper: Any  # the restaking fixtures' `Upper`: networks, opt-in, allocation, slashing
    neth: Any
    vault: Any
    factory: Any

    @property
    def ops(self) -> Any:
        return self.upper.ops

    @property
    def validators(self) -> Any:
        return self.ops.validators

    def create_pod(self, label: str) -> tuple[str, Any]:
        """A restaker with ETH and its pod."""
        owner = self.ops.account(label)
        with boa.env.prank(owner), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # boa looks at the new proxy's code
            address = self.factory.create_pod()
        return owner, pod_at(address)

    def stake(self, owner: str, pod: Any, validators: int = 1) -> list[int]:
        with boa.env.prank(owner):
            return list(pod.stake(value=validators * 32 * ETHER))

    def play(self, validator_id: int, use_dkg: bool = False) -> Registration:
        """The cluster runs the DKG with the validator's own credentials and signs it."""
        registration = play_cluster(
            boa.env.evm.chain.chain_id,
            self.validators.address,
            validator_id,
            [m.node_key for m in self.ops.members_of(validator_id)],
            bytes(self.validators.withdrawal_credentials(validator_id)),
            ops_fx.GENESIS_FORK_VERSION,
            use_dkg=use_dkg,
        )
        self.ops.registrations[validator_id] = registration
        return registration

    def register(self, validator_id: int, use_dkg: bool = False) -> Registration:
        registration = self.play(validator_id, use_dkg)
        with boa.env.prank(self.ops.account("submitter")):
            self.validators.register(*registration.args())
        return registration

    def report(self, balances: dict[int, int] | None = None, **fields: Any) -> Report:
        """Next frame's report: the pool unchanged, pod validators' balances as given."""
        self.ops.next_frame()
        balances = balances or {}
        pool = self.ops.pool
        defaults = {
            "beacon_balance": pool.beacon_balance(),
            "beacon_deposited": pool.beacon_deposited_ether(),
            "pod_validators": tuple(balances),
            "pod_balances": tuple(balances.values()),
        }
        return self.ops.report(**{**defaults, **fields})

    def apply(self, balances: dict[int, int] | None = None, **fields: Any) -> Report:
        report = self.report(balances, **fields)
        self.ops.apply(report)
        return report

    def onboard(self, owner: str, pod: Any, validators: int = 1) -> list[int]:
        """Stake, register, confirm, activate, and report 32 ETH each: nETH minted."""
        ids = self.stake(owner, pod, validators)
        for validator_id in ids:
            self.register(validator_id)
        self.apply(confirmed=tuple(ids))
        for validator_id in ids:
            self.ops.activate(validator_id)
        self.apply({i: 32 * ETHER for i in ids})
        return ids

    def withdraw(self, pod: Any, amount: int) -> None:
        """The beacon chain pays a withdrawal to the pod (no call, as on a real chain)."""
        boa.env.set_balance(pod.address, boa.env.get_balance(pod.address) + amount)


def deploy_native() -> Native:
    upper = restaking_fx.deploy_upper()
    ops = upper.ops
    d = deployers()
    admin = ops.lst.admin
    with boa.env.prank(admin):
        neth = d["NativeEther"].deploy()
        vault = restaking_fx.deployers()["RestakingVault"].deploy(
            neth.address, ops.operators.address, MIN_DELAY
        )
        vault.set_network_registry(upper.registry.address)
        upper.registry.add_vault(vault.address, False)  # nETH valued 1:1
        implementation = d["NativePod"].deploy()
        factory = d["NativePodFactory"].deploy(
            ops.validators.address, neth.address, vault.address, implementation.address, BURN
        )
        neth.set_factory(factory.address)
        ops.validators.set_pod_factory(factory.address)
    for i in range(8):
        ops.add_operator(f"op-{i}")
    return Native(upper, neth, vault, factory)


@pytest.fixture(scope="session")
def native_system() -> Native:
    return deploy_native()


@pytest.fixture
def native(native_system: Native) -> Iterator[Native]:
    """The deployed protocol; every change a test makes is rolled back afterwards."""
    ops = native_system.ops
    with boa.env.anchor():
        members = dict(ops.members)
        registrations = dict(ops.registrations)
        yield native_system
        ops.members = members
        ops.registrations = registrations
