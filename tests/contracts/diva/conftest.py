"""Deploy fixtures for the Diva liquid-staking contracts on titanoboa's in-process EVM.

`deploy_lst()` follows the deploy order and role wiring documented in docs/diva-lst.md; the
gas benchmark loads this module by path to deploy the same system. A session deploys once;
each test runs inside `boa.env.anchor()` so its state changes are rolled back.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boa
import pytest

CONTRACTS = Path(__file__).resolve().parents[3] / "contracts" / "diva"
NAMES = ("StakingPool", "DivEther", "WithdrawalQueue", "WithdrawalVault", "WrappedDivEther")
ETHER = 10**18
DEAD_SHARES = 1000
RICH = 10**9 * ETHER


@functools.cache
def deployers() -> dict[str, Any]:
    """Compile each contract once per process (vyper compilation dominates start-up)."""
    return {name: boa.load_partial(CONTRACTS / f"{name}.vy") for name in NAMES}


@dataclass
class Lst:
    """The deployed liquid-staking system and its role holders (all plain EOAs)."""

    pool: Any
    token: Any
    queue: Any
    vault: Any
    wrapper: Any
    admin: str
    oracle: str
    depositor: str

    def account(self, label: str, balance: int = RICH) -> str:
        """A fresh funded EOA."""
        address = boa.env.generate_address(label)
        boa.env.set_balance(address, balance)
        return address

    def deposit(self, sender: str, amount: int) -> int:
        with boa.env.prank(sender):
            return self.pool.deposit(value=amount)

    def rate(self) -> tuple[int, int]:
        """(total pooled ETH, total shares): the divETH share price as a fraction."""
        return self.pool.total_pooled_ether(), self.token.getTotalShares()

    def report(
        self,
        beacon_balance: int,
        beacon_validators: int = 0,
        beacon_deposited: int | None = None,
        vault_withdrawn: int = 0,
        elapsed: int = 86_400,
    ) -> None:
        """Advance time by `elapsed` seconds and report as the oracle."""
        if beacon_deposited is None:
            beacon_deposited = self.pool.beacon_deposited_ether()
        boa.env.time_travel(seconds=elapsed)
        with boa.env.prank(self.oracle):
            self.pool.report(beacon_balance, beacon_validators, beacon_deposited, vault_withdrawn)


def deploy_lst(min_deposit: int | None = None) -> Lst:
    """Deploy and wire the system: pool → divETH → queue → vault → pool.initialize → wdivETH."""
    d = deployers()
    admin = boa.env.generate_address("diva-admin")
    oracle = boa.env.generate_address("diva-oracle")
    depositor = boa.env.generate_address("diva-depositor")
    boa.env.set_balance(admin, RICH)
    with boa.env.prank(admin):
        pool = d["StakingPool"].deploy()
        token = d["DivEther"].deploy(pool.address)
        queue = d["WithdrawalQueue"].deploy(pool.address, token.address)
        vault = d["WithdrawalVault"].deploy(pool.address)
        pool.initialize(token.address, queue.address, vault.address, value=DEAD_SHARES)
        wrapper = d["WrappedDivEther"].deploy(token.address)
        for role in ("PAUSE_ROLE", "RESUME_ROLE", "STAKING_CONTROL_ROLE"):
            pool.grantRole(getattr(pool, role)(), admin)
        pool.grantRole(pool.ORACLE_ROLE(), oracle)
        pool.grantRole(pool.DEPOSITOR_ROLE(), depositor)
        if min_deposit is not None:
            pool.set_parameters(
                min_deposit,
                pool.fee_bps(),
                pool.fee_recipient(),
                pool.max_apr_bps(),
                pool.max_loss_bps(),
                pool.max_finalize_requests(),
            )
    return Lst(pool, token, queue, vault, wrapper, admin, oracle, depositor)


@pytest.fixture(scope="session")
def lst_system() -> Lst:
    return deploy_lst()


@pytest.fixture
def lst(lst_system: Lst) -> Iterator[Lst]:
    """The deployed system; every change a test makes is rolled back afterwards."""
    with boa.env.anchor():
        yield lst_system
