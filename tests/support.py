"""Helpers shared by test folders, which are not packages (pytest's importlib mode)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

TESTS = Path(__file__).resolve().parent


class RewardNetwork(NamedTuple):
    network: Any
    slasher: Any
    resolver: Any
    token: Any
    terms: Any


def load_conftest(folder: str) -> ModuleType:
    """The conftest.py of `tests/<folder>`, loaded once by path so that one contract-test
    folder can build on another's deploy fixtures."""
    name = folder.replace("/", "_") + "_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, TESTS / folder / "conftest.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def register_reward_network(backend: Any, registry: Any, asset: str) -> RewardNetwork:
    """A network (with slasher and resolver accounts) registered on `registry` with terms
    accepting `asset` — no minimum stake, up to 8 operators, 100 % slashable, 14-day unbonding,
    1-day veto window — and a freshly minted reward token already approved to the registry."""
    from eth_utils import to_checksum_address

    from nektar.chain import compile_contract
    from nektar.chain.marketplace import WAD, Terms

    network, slasher, resolver = (backend.new_account(10**18) for _ in range(3))
    token = backend.deploy(
        compile_contract("devnet/RewardToken.vy"), "Network reward", "RWD", sender=network
    )
    token.transact("mint", network.address, 10**24, sender=network)
    token.transact("approve", registry.address, 10**24, sender=network)
    terms = Terms(
        (to_checksum_address(asset),),
        0,
        8,
        WAD,
        14 * 86_400,
        86_400,
        slasher.address,
        resolver.address,
        False,
        "https://net.example",
    )
    registry.register_network(network, terms, token.address)
    return RewardNetwork(network, slasher, resolver, token, terms)
