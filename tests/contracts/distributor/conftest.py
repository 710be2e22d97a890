"""Distributor fixtures: the upper layer of tests/contracts/restaking plus a DistributorFactory.

`Dist` deploys the factory (Distributor blueprint, DistributorAccount implementation), makes
operators registered in the real OperatorRegistry and holders with real wdivETH, and creates
distributors managed by a named manager.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boa
import pytest

from support import load_conftest

ROOT = Path(__file__).resolve().parents[3]
CONTRACTS = ROOT / "contracts" / "restaking"
ETHER = 10**18
WAD = 10**18
BPS = 10_000


def restaking_fixtures() -> Any:
    """tests/contracts/restaking/conftest.py, loaded by path (test folders are not packages)."""
    return load_conftest("contracts/restaking")


@functools.cache
def deployers() -> dict[str, Any]:
    return {
        "Distributor": boa.load_partial(CONTRACTS / "Distributor.vy"),
        "DistributorFactory": boa.load_partial(CONTRACTS / "DistributorFactory.vy"),
        "DistributorAccount": boa.load_partial(CONTRACTS / "DistributorAccount.vy"),
    }


@dataclass
class Dist:
    upper: Any
    factory: Any
    manager: str

    @property
    def vault(self) -> Any:
        return self.upper.vault

    @property
    def wdiv(self) -> Any:
        return self.upper.wdiv

    def operators(self, n: int) -> list[str]:
        return [self.upper.operator(f"op{i}") for i in range(n)]

    def create(
        self,
        operators: list[str],
        weights: list[int],
        fee_bps: int = 0,
        transferable: bool = True,
    ) -> Any:
        with boa.env.prank(self.manager):
            address = self.factory.create_distributor(
                operators, weights, fee_bps, transferable, "Nektar LRT", "nLRT"
            )
        return deployers()["Distributor"].at(address)

    def holder(self, label: str, distributor: Any, eth: int = 100 * ETHER) -> str:
        address = self.upper.account(label)
        self.upper.wdiv_for(address, eth)
        with boa.env.prank(address):
            self.wdiv.approve(distributor.address, 2**256 - 1)
        return address

    def slash(self, operator: str, fraction: int) -> None:
        """Slash `operator` through the RestakingVault's registry-only entry point."""
        with boa.env.prank(self.upper.registry.address):
            self.vault.slash_now(operator, fraction, restaking_fixtures().BURN)

    def delay(self) -> None:
        """Wait out any withdrawal: the protocol minimum or, once operators joined a test
        network, its unbonding period."""
        fx = restaking_fixtures()
        boa.env.time_travel(seconds=max(fx.MIN_DELAY, fx.UNBONDING))

    def network(self, label: str, operators: list[str]) -> Any:
        """A network (with its own reward token) every operator joins at 100 % allocation."""
        net = self.upper.network(label)
        for op in operators:
            self.upper.join(net, op, WAD, wait=False)
        boa.env.time_travel(seconds=restaking_fixtures().ALLOCATION_DELAY)
        return net

    def fund(self, net: Any, amount: int) -> None:
        """One epoch of `net`'s rewards, split by the registry over its operators' stake."""
        with boa.env.prank(net.address):
            self.upper.registry.fund_epoch(amount)


def deploy_dist() -> Dist:
    upper = restaking_fixtures().deploy_upper()
    d = deployers()
    with boa.env.prank(upper.admin):
        blueprint = d["Distributor"].deploy_as_blueprint()
        account_impl = d["DistributorAccount"].deploy()
        factory = d["DistributorFactory"].deploy(
            upper.wdiv.address, upper.vault.address, blueprint.address, account_impl.address
        )
    return Dist(upper, factory, upper.account("manager"))


@pytest.fixture(scope="session")
def dist_system() -> Dist:
    return deploy_dist()


@pytest.fixture
def dist(dist_system: Dist) -> Iterator[Dist]:
    with boa.env.anchor():
        yield dist_system
