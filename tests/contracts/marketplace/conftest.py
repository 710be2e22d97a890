"""The marketplace tests share the upper-layer fixtures of tests/contracts/restaking."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
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
