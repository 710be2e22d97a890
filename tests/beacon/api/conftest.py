"""Fixtures: the real devnet beacon node behind the real API server, and the OpenAPI document.

The chain has a handful of genesis validators whose keys the tests know. Some are *managed* by
the node (it proposes and attests for them, like an interop validator client); the others act
only through the API, driven by the test's tiny validator client.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from openapi_core import OpenAPI

from nektar.beacon.chain.config import BeaconConfig
from nektar.beacon.chain.genesis import GenesisValidator, genesis_state
from nektar.beacon.chain.node import DevnetBeaconNode
from nektar.beacon.client import BeaconClient
from nektar.beacon.server import BeaconAPIServer
from nektar.crypto import bls
from nektar.crypto.signing import eth1_withdrawal_credentials

from .openapi_check import Recorder, load_openapi

N_VALIDATORS = 8
SECRET_KEYS = {i: bls.keygen(bytes([0x42, i]) * 16) for i in range(N_VALIDATORS)}


def make_node(managed: set[int], genesis_time: int | None = None) -> DevnetBeaconNode:
    """A fresh devnet node with N_VALIDATORS 32-ETH genesis validators (0x01 credentials)."""
    validators = [
        GenesisValidator(
            pubkey=bls.sk_to_pk(sk),
            withdrawal_credentials=eth1_withdrawal_credentials(bytes([0xA0 + i]) * 20),
            balance=32 * 10**9,
        )
        for i, sk in SECRET_KEYS.items()
    ]
    state = genesis_state(
        BeaconConfig(), int(time.time()) if genesis_time is None else genesis_time, validators
    )
    return DevnetBeaconNode(state, managed_keys={i: SECRET_KEYS[i] for i in managed})


@pytest.fixture(scope="session")
def openapi(specs_dir: Path) -> OpenAPI:
    return load_openapi(specs_dir)


@dataclass
class Served:
    node: DevnetBeaconNode
    server: BeaconAPIServer
    client: BeaconClient
    recorder: Recorder


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    """Validators 0-5 managed by the node, 6 and 7 external; the chain at slot 24 (epoch 3)."""
    node = make_node(managed=set(range(6)))
    node.advance_slots(24)
    recorder = Recorder()
    server = BeaconAPIServer(node, middlewares=[recorder.middleware])
    await server.start()
    client = BeaconClient(server.url, timeout=10, retries=0)
    yield Served(node, server, client, recorder)
    await client.close()
    await server.stop()
