"""Backends for the chain tests: in-process, and one anvil per test session.

`backend` is parametrized so that a test written once runs on both. On anvil each test runs
inside an `evm_snapshot`/`evm_revert` pair, so tests stay independent while sharing the node.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from nektar.chain import Backend, InProcessBackend, JsonRpcBackend
from nektar.chain.anvil import Anvil, start_anvil

BACKENDS = ["inprocess", pytest.param("anvil", marks=pytest.mark.anvil)]


@pytest.fixture(scope="session")
def anvil_node() -> Iterator[Anvil]:
    node = start_anvil()
    yield node
    node.stop()


@pytest.fixture
def anvil_backend(anvil_node: Anvil) -> Iterator[JsonRpcBackend]:
    backend = anvil_node.backend()
    snapshot = backend.snapshot()
    yield backend
    backend.revert(snapshot)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Backend:
    if request.param == "inprocess":
        return InProcessBackend()
    return request.getfixturevalue("anvil_backend")
