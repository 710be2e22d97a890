"""Deploy fixtures for the restaking vault and the marketplace on titanoboa.

`deploy_upper()` deploys the Diva system (tests/contracts/diva_ops/conftest.py::deploy_ops),
then RestakingVault (wdivETH, OperatorRegistry) and NetworkRegistry, wired together.
`Upper` plays the off-chain parties: restakers holding real wdivETH (ETH staked in the
StakingPool, wrapped), operators registered with real node keys, networks with a snekmate
ERC-20 reward token, BLS keys from the crypto core. The marketplace tests and the gas
benchmark load this module by path.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boa
import pytest

from nektar.chain.restaking import g1_uncompressed, g2_uncompressed
from nektar.crypto import bls
from support import load_conftest

ROOT = Path(__file__).resolve().parents[3]
CONTRACTS = ROOT / "contracts"
ETHER = 10**18
WAD = 10**18
DAY = 86_400
MIN_DELAY = 7 * DAY
ALLOCATION_DELAY = DAY
TERMS_DELAY = 3 * DAY
UNBONDING = 14 * DAY
VETO = 2 * DAY
BURN = "0x000000000000000000000000000000000000dEaD"


def _ops_module() -> Any:
    """The Diva operator fixtures, loaded by path (test directories are not packages)."""
    return load_conftest("contracts/diva_ops")


@functools.cache
def deployers() -> dict[str, Any]:
    return {
        "RestakingVault": boa.load_partial(CONTRACTS / "restaking" / "RestakingVault.vy"),
        "NetworkRegistry": boa.load_partial(CONTRACTS / "marketplace" / "NetworkRegistry.vy"),
        "RewardToken": boa.load_partial(CONTRACTS / "devnet" / "RewardToken.vy"),
    }


@dataclass
class Network:
    address: str
    slasher: str
    resolver: str
    token: Any


@dataclass
class Upper:
    """The Diva system, the restaking vault, the marketplace and the parties the tests play."""

    ops: Any
    vault: Any
    registry: Any
    admin: str
    bls_keys: dict[str, int] = field(default_factory=dict)

    @property
    def wdiv(self) -> Any:
        return self.ops.lst.wrapper

    def account(self, label: str) -> str:
        return self.ops.account(label)

    def wdiv_for(self, holder: str, eth: int) -> int:
        """Stake `eth` wei in the StakingPool and wrap the divETH: real wdivETH."""
        lst = self.ops.lst
        lst.deposit(holder, eth)
        with boa.env.prank(holder):
            balance = lst.token.balanceOf(holder)
            lst.token.approve(self.wdiv.address, balance)
            self.wdiv.wrap(balance)
        return self.wdiv.balanceOf(holder)

    def restaker(self, label: str, eth: int = 100 * ETHER) -> str:
        address = self.account(label)
        self.wdiv_for(address, eth)
        with boa.env.prank(address):
            self.wdiv.approve(self.vault.address, 2**256 - 1)
        return address

    def operator(self, label: str) -> str:
        return self.ops.add_operator(label, bond=0).address

    def terms(self, slasher: str, resolver: str, **changes: Any) -> tuple:
        values = {
            "accepted_assets": [self.wdiv.address],
            "min_stake": 0,
            "max_operators": 16,
            "max_slash": WAD // 2,
            "unbonding": UNBONDING,
            "veto_window": VETO,
            "slasher": slasher,
            "resolver": resolver,
            "slash_to_network": False,
            "metadata_uri": "https://network.example/terms.json",
        }
        values.update(changes)
        return tuple(values.values())

    def network(self, label: str, address: str | None = None, **changes: Any) -> Network:
        address = address or self.account(label)
        slasher = self.account(f"{label}-slasher")
        resolver = self.account(f"{label}-resolver")
        with boa.env.prank(address):
            token = deployers()["RewardToken"].deploy("Network reward", "RWD")
            token.mint(address, 10**30)
            token.approve(self.registry.address, 2**256 - 1)
            self.registry.register_network(self.terms(slasher, resolver, **changes), token.address)
        return Network(address, slasher, resolver, token)

    def join(self, network: Network, operator: str, fraction: int, wait: bool = True) -> None:
        """Opt in and allocate; by default wait until the allocation is effective."""
        with boa.env.prank(operator):
            self.registry.opt_in(network.address)
            self.registry.allocate(network.address, fraction)
        if wait:
            boa.env.time_travel(seconds=ALLOCATION_DELAY)

    def bls_key(self, network: Network, operator: str) -> int:
        """A real BLS key for `operator`'s tasks, registered by the network."""
        sk = bls.keygen(operator.encode() + network.address.encode())
        with boa.env.prank(network.address):
            self.registry.register_bls_key(operator, g1_uncompressed(bls.sk_to_pk(sk)))
        self.bls_keys[operator] = sk
        return sk

    def sign(self, operator: str, message: bytes) -> bytes:
        return g2_uncompressed(bls.sign(self.bls_keys[operator], message))

    def deposit(self, restaker: str, amount: int, operator: str) -> int:
        with boa.env.prank(restaker):
            return self.vault.deposit(amount, operator)


def deploy_upper() -> Upper:
    ops = _ops_module().deploy_ops()
    d = deployers()
    admin = ops.lst.admin
    with boa.env.prank(admin):
        vault = d["RestakingVault"].deploy(
            ops.lst.wrapper.address, ops.operators.address, MIN_DELAY
        )
        registry = d["NetworkRegistry"].deploy(
            ops.operators.address, vault.address, ALLOCATION_DELAY, TERMS_DELAY
        )
        vault.set_network_registry(registry.address)
    return Upper(ops, vault, registry, admin)


@pytest.fixture(scope="session")
def upper_system() -> Upper:
    return deploy_upper()


@pytest.fixture
def upper(upper_system: Upper) -> Iterator[Upper]:
    with boa.env.anchor():
        yield upper_system
