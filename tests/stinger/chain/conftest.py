"""A Diva system on the in-process EVM with operators whose nodes run the chain services.

`Protocol` deploys the contracts (`deploy_diva_system`), registers and bonds operators with
fresh node keys, funds their node addresses (they pay for `acknowledge`, `register`, votes),
and builds per node: a real `nektar.p2p.Host` on a loopback port, a data directory with its
`ClusterStore`, a `ChainWatcher` and a `DkgEngine`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from nektar.chain.diva_ops import DivaSystem, ProposedValidator, deploy_diva_system
from nektar.chain.inprocess import InProcessBackend
from nektar.crypto.node_key import NodeKey
from nektar.p2p import Host
from nektar.stinger.datadir import ClusterStore, DataDir
from nektar.stinger.dkg_engine import DkgEngine, DkgSchedule
from nektar.stinger.watcher import ChainWatcher

ETHER = 10**18
FORK_VERSION = bytes.fromhex("10004e4b")
FAST_KDF = {"kdf": "pbkdf2", "kdf_params": {"c": 1024}}


class FastKdfDataDir(DataDir):
    """Share keystores with a cheap KDF (as tests/stinger/harness.py writes them): scrypt's
    standard 2^18 rounds cost seconds per share on this shared machine."""

    def write_share(
        self, pubkey: bytes, share: int, kdf: str = "", kdf_params: dict | None = None
    ) -> None:
        super().write_share(pubkey, share, **FAST_KDF)


FAST = DkgSchedule(phase_seconds=1.5, collect_seconds=3.0, submit_stagger=1.0, confirm_seconds=3.0)


@dataclass
class Node:
    operator_id: int
    operator: LocalAccount
    key: NodeKey
    host: Host
    clusters: ClusterStore
    root: Path
    started: bool = False
    watcher: ChainWatcher | None = None
    engine: DkgEngine | None = None

    @property
    def address(self) -> bytes:
        return self.key.address


@dataclass
class Protocol:
    backend: InProcessBackend
    system: DivaSystem
    root: Path
    nodes: list[Node] = field(default_factory=list)

    def add_operator(self, bond: int = 4 * ETHER) -> Node:
        operator = self.backend.new_account()
        key = NodeKey.generate()
        operator_id = self.system.operators.register(operator, key, "https://op.example")
        self.system.operators.bond_eth(operator, bond)
        self.backend.set_balance("0x" + key.address.hex(), 100 * ETHER)
        root = self.root / f"node{operator_id}"
        clusters = ClusterStore(FastKdfDataDir(root))
        clusters.load()
        node = Node(operator_id, operator, key, Host(key), clusters, root)
        self.nodes.append(node)
        return node

    def stake(self, amount: int) -> LocalAccount:
        staker = self.backend.new_account()
        self.system.lst.pool.deposit(staker, amount)
        return staker

    def propose(self) -> ProposedValidator:
        return self.system.validators.propose(self.backend.accounts[0])

    def node_of(self, address: str) -> Node:
        return next(n for n in self.nodes if "0x" + n.address.hex() == address.lower())

    async def start(
        self, nodes: list[Node], schedule: DkgSchedule = FAST, fork_version: bytes = FORK_VERSION
    ) -> None:
        """Start hosts, watchers and DKG engines of `nodes` (the others stay down)."""
        for node in nodes:
            await node.host.start()
            node.started = True
        endpoints = {n.address: n.host.listen_address for n in self.nodes if n.started}
        for node in nodes:
            node.watcher = ChainWatcher(
                self.system.validators, self.system.operators, node.root, poll_interval=0.2
            )
            node.engine = DkgEngine(
                node.host,
                node.key,
                self.system.validators,
                node.clusters,
                fork_version,
                endpoints=endpoints,
                schedule=schedule,
            )
            engine = node.engine
            node.watcher.subscribe(
                "ValidatorProposed",
                lambda e, engine=engine: engine.on_proposed(ProposedValidator.from_event(e)),
            )
            await engine.start()
            await node.watcher.start()

    async def stop(self) -> None:
        for node in self.nodes:
            if node.watcher is not None:
                await node.watcher.stop()
            if node.engine is not None:
                await node.engine.stop()
            await node.host.stop()


@pytest.fixture
async def protocol(tmp_path: Path) -> AsyncIterator[Protocol]:
    backend = InProcessBackend()
    system = deploy_diva_system(backend, seconds_per_slot=2, slots_per_epoch=8)
    p = Protocol(backend, system, tmp_path)
    yield p
    await p.stop()


async def until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)
