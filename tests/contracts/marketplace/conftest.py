"""The marketplace tests share the upper-layer fixtures of tests/contracts/restaking."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boa
import pytest

ROOT = Path(__file__).resolve().parents[3]


def restaking_fixtures() -> Any:
    """tests/contracts/restaking/conftest.py, loaded by path (test folders are not packages)."""
    name = "restaking_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, ROOT / "tests" / "contracts" / "restaking" / "conftest.py"
        )
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="session")
def market_system() -> Any:
    return restaking_fixtures().deploy_upper()


@pytest.fixture
def upper(market_system: Any) -> Iterator[Any]:
    with boa.env.anchor():
        yield market_system


@dataclass
class Native:
    """A second RestakingVault (unchanged contract) over a plain snekmate ERC-20 standing in
    for the pods' nETH (1 nETH = 1 ETH), added to the registry as vault 1."""

    vault: Any
    neth: Any
    minter: str

    def restaker(self, label: str, amount: int) -> str:
        """An account holding `amount` nETH, approved to the native vault."""
        address = boa.env.generate_address(label)
        with boa.env.prank(self.minter):
            self.neth.mint(address, amount)
        with boa.env.prank(address):
            self.neth.approve(self.vault.address, 2**256 - 1)
        return address

    def deposit(self, restaker: str, amount: int, operator: str) -> int:
        with boa.env.prank(restaker):
            return self.vault.deposit(amount, operator)


def add_native_vault(u: Any, symbol: str = "nETH", priced_by_4626: bool = False) -> Native:
    """Deploy a RestakingVault over a fresh ERC-20, wire it to the registry and add it."""
    F = restaking_fixtures()
    d = F.deployers()
    with boa.env.prank(u.admin):
        neth = d["RewardToken"].deploy("Network reward", symbol)
        vault = d["RestakingVault"].deploy(neth.address, u.ops.operators.address, F.MIN_DELAY)
        vault.set_network_registry(u.registry.address)
        u.registry.add_vault(vault.address, priced_by_4626)
    return Native(vault, neth, u.admin)


@pytest.fixture
def native(upper: Any) -> Native:
    return add_native_vault(upper)
