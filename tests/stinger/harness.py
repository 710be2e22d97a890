"""A real devnet for Stinger tests: the devnet beacon chain behind the Beacon API server (in a
thread of the test process, so tests can read its state) and `stinger run` processes.

Validator keys come from an in-memory DKG (`nektar.crypto.dkg`); the harness writes each
node's data directory (node key, cluster definitions, EIP-2335 share keystores, TOML config)
exactly as an operator's node would have it after the DKG engine ran.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from nektar.beacon.chain.clock import SlotClock
from nektar.beacon.chain.config import BeaconConfig, devnet_chain
from nektar.beacon.chain.genesis import GenesisValidator, genesis_state
from nektar.beacon.chain.interface import NotFound
from nektar.beacon.chain.node import DevnetBeaconNode
from nektar.beacon.server import BeaconAPIServer
from nektar.crypto import bls, dkg
from nektar.crypto.node_key import NodeKey
from nektar.crypto.signing import eth1_withdrawal_credentials
from nektar.devnet.network import free_port
from nektar.stinger.datadir import ClusterDefinition, DataDir, Member, write_validators

FAST_KDF = {"kdf": "pbkdf2", "kdf_params": {"c": 1024}}
MANAGED = 8  # genesis validators the beacon node runs itself (they propose most blocks)


def dkg_keys(n: int, t: int, count: int) -> dict[int, list[dkg.KeyShare]]:
    """Run real DKGs among n in-memory members for `count` validator keys: one ceremony per
    batch of at most `dkg.MAX_BATCH` keys (one message set per batch, as the DKG engine does).
    Returns each member's key shares."""
    shares: dict[int, list[dkg.KeyShare]] = {i: [] for i in range(1, n + 1)}
    for number, start in enumerate(range(0, count, dkg.MAX_BATCH)):
        size = min(dkg.MAX_BATCH, count - start)
        session = number.to_bytes(32, "big")
        members = {i: dkg.DKG(session, i, n, t, batch=size) for i in range(1, n + 1)}
        for i, member in dkg.run_in_memory(members).items():
            assert member.outcome is not None, member.failure
            shares[i] += member.outcome.keys
    return shares


@dataclass
class Operator:
    index: int  # 1-based share index
    key: NodeKey
    datadir: Path
    p2p_port: int
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    restarts: int = 0

    @property
    def address(self) -> bytes:
        return self.key.address

    def logs(self) -> str:
        return self.log_path.read_text() if self.log_path and self.log_path.exists() else ""


def write_datadirs(
    root: Path, n: int, t: int, shares: dict[int, list[dkg.KeyShare]], beacon_url: str
) -> list[Operator]:
    """Each operator's data directory as the DKG engine leaves it. Share keystores use PBKDF2
    with 1,024 rounds (`FAST_KDF`): a valid EIP-2335 keystore (the EIP allows pbkdf2 with any
    count), cheap to write and load by the thousand; operators' nodes use scrypt."""
    operators = [
        Operator(i, NodeKey.generate(), root / f"node{i}", free_port()) for i in range(1, n + 1)
    ]
    members = [Member(address="0x" + o.address.hex(), port=o.p2p_port) for o in operators]
    for op in operators:
        datadir = DataDir(op.datadir)
        datadir.write_node_key(op.key, kdf_params={"n": 1024})
        validators = [
            (
                ClusterDefinition(
                    group_pubkey="0x" + share.group_pubkey.hex(),
                    threshold=t,
                    members=members,
                    public_shares=["0x" + share.public_shares[j].hex() for j in range(1, n + 1)],
                    my_index=op.index,
                    validator_index=MANAGED + number,  # genesis order: managed keys first
                ),
                share.secret_share,
            )
            for number, share in enumerate(shares[op.index])
        ]
        write_validators(datadir, validators, **FAST_KDF)
        (op.datadir / "stinger.toml").write_text(
            f'beacon_urls = ["{beacon_url}"]\np2p_port = {op.p2p_port}\n'
            'api_port = 0\nmetrics_port = 0\nlog_format = "json"\n'
        )
    return operators


class BeaconThread:
    """The devnet beacon node + API server + wall-clock driver on their own event loop."""

    def __init__(self, node: DevnetBeaconNode) -> None:
        self.node = node
        self.url = ""
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = BeaconAPIServer(self.node)
        self.url = await server.start()
        clock = asyncio.ensure_future(SlotClock(self.node).run())
        self._ready.set()
        await self._stop.wait()
        clock.cancel()
        await asyncio.gather(clock, return_exceptions=True)
        await server.stop()

    def start(self) -> str:
        self._thread.start()
        self._ready.wait(10)
        return self.url

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


def devnet_beacon(
    cluster_pubkeys: list[bytes], genesis_delay: float, seconds_per_slot: int, slots_per_epoch: int
) -> DevnetBeaconNode:
    managed = {i: bls.keygen(bytes([0x51, i]) * 16) for i in range(MANAGED)}
    validators = [
        GenesisValidator(bls.sk_to_pk(sk), eth1_withdrawal_credentials(b"\xaa" * 20), 32 * 10**9)
        for sk in managed.values()
    ] + [
        GenesisValidator(pk, eth1_withdrawal_credentials(b"\xbb" * 20), 32 * 10**9)
        for pk in cluster_pubkeys
    ]
    cfg = BeaconConfig(
        chain=devnet_chain(seconds_per_slot=seconds_per_slot, slots_per_epoch=slots_per_epoch)
    )
    state = genesis_state(cfg, int(time.time() + genesis_delay), validators)
    return DevnetBeaconNode(state, managed_keys=managed)


@dataclass
class Devnet:
    """n operators serving `count` distributed validators, one beacon node."""

    root: Path
    n: int = 4
    t: int = 3
    count: int = 2
    seconds_per_slot: int = 2
    slots_per_epoch: int = 2
    env: dict[str, str] = field(default_factory=dict)  # STINGER_* settings of every node
    operators: list[Operator] = field(default_factory=list)
    pubkeys: list[bytes] = field(default_factory=list)

    def start(self, genesis_delay: float = 4.0) -> None:
        outcomes = dkg_keys(self.n, self.t, self.count)
        self.pubkeys = [k.group_pubkey for k in outcomes[1]]
        self.beacon = BeaconThread(
            devnet_beacon(self.pubkeys, genesis_delay, self.seconds_per_slot, self.slots_per_epoch)
        )
        url = self.beacon.start()
        self.operators = write_datadirs(self.root, self.n, self.t, outcomes, url)
        for op in self.operators:
            self.spawn(op)
        self.observe()

    @property
    def node(self) -> DevnetBeaconNode:
        return self.beacon.node

    def spawn(self, op: Operator, **env: str) -> None:
        op.log_path = op.datadir / f"stinger-{op.restarts}.log"
        op.restarts += 1
        settings = {**self.env, **env}
        environment = {**os.environ, **{f"STINGER_{k.upper()}": v for k, v in settings.items()}}
        with open(op.log_path, "wb") as log:
            op.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "nektar.cli.stinger",
                    "run",
                    "--config",
                    str(op.datadir / "stinger.toml"),
                    "--data-dir",
                    str(op.datadir),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=environment,
            )

    def wait_ready(self, ops: list[Operator] | None = None, timeout: float = 30) -> None:
        """Wait until each (re)started node has written its run.json (it is serving)."""
        deadline = time.time() + timeout
        for op in ops or self.operators:
            run_file = op.datadir / "run.json"
            while True:
                assert op.process is not None
                if op.process.poll() is not None:
                    raise RuntimeError(f"node {op.index} exited: {op.logs()[-2000:]}")
                try:
                    if json.loads(run_file.read_text())["pid"] == op.process.pid:
                        break
                except (OSError, ValueError, KeyError):
                    pass
                if time.time() > deadline:
                    raise TimeoutError(f"node {op.index} did not start: {op.logs()[-2000:]}")
                time.sleep(0.1)

    def api_url(self, op: Operator) -> str:
        return json.loads((op.datadir / "run.json").read_text())["api_url"]

    def kill(self, op: Operator) -> None:
        if op.process is not None and op.process.poll() is None:
            op.process.send_signal(signal.SIGKILL)
            op.process.wait(10)

    def stop(self) -> None:
        self._observing = False
        for op in self.operators:
            if op.process is not None and op.process.poll() is None:
                op.process.send_signal(signal.SIGTERM)
        for op in self.operators:
            if op.process is not None:
                try:
                    op.process.wait(5)
                except subprocess.TimeoutExpired:
                    self.kill(op)
        self.beacon.stop()

    # ------------------------------------------------------------------ chain observation
    def cluster_indices(self) -> list[int]:
        state = self.node.head_state()
        return [state.index_of(pk) for pk in self.pubkeys]  # type: ignore[misc]

    def current_epoch(self) -> int:
        return self.node.current_slot() // self.slots_per_epoch

    def wait_epoch(self, epoch: int) -> None:
        """Wait until `epoch` has started (at most three epochs' time)."""
        deadline = time.time() + 3 * self.slots_per_epoch * self.seconds_per_slot
        while self.current_epoch() < epoch:
            if time.time() > deadline:
                raise TimeoutError(f"epoch {epoch} not reached")
            time.sleep(0.1)

    def observe(self) -> None:
        """Record the cluster validators' participation flags as blocks come (a thread)."""
        self.flags: dict[int, dict[int, int]] = {}
        self._observing = True

        def loop() -> None:
            while self._observing:
                state = self.node.head_state()
                indices = self.cluster_indices()
                for epoch, flags in (
                    (state.current_epoch - 1, state.previous_epoch_participation),
                    (state.current_epoch, state.current_epoch_participation),
                ):
                    seen = self.flags.setdefault(epoch, {})
                    for i in indices:
                        seen[i] = seen.get(i, 0) | flags[i]
                time.sleep(0.25)

        threading.Thread(target=loop, daemon=True).start()

    def participation(self, epoch: int) -> dict[int, int]:
        """Participation flags of the cluster validators in `epoch`: as soon as all are set
        once the epoch is over, else when epoch + 1 is over (the last chance of inclusion)."""
        first_of_next = (epoch + 1) * self.slots_per_epoch
        self.wait_epoch(epoch + 1)
        while self.current_epoch() < epoch + 2:
            seen = dict(self.flags.get(epoch, {}))
            if self.node.current_slot() > first_of_next and seen and all(seen.values()):
                return seen
            time.sleep(0.1)
        time.sleep(0.3)
        seen = self.flags.get(epoch, {})
        return {i: seen.get(i, 0) for i in self.cluster_indices()}

    def cluster_proposals(self) -> list[int]:
        """Slots of canonical blocks proposed by the cluster's validators."""
        mine = set(self.cluster_indices())
        slots = []
        for slot in range(1, self.node.current_slot() + 1):
            try:
                header = self.node.header(slot).header.message
            except NotFound:
                continue
            if int(header.proposer_index) in mine:
                slots.append(slot)
        return slots

    def cluster_sync_blocks(self) -> list[int]:
        """Slots of blocks whose sync aggregate carries every cluster validator's positions."""
        mine = set(self.pubkeys)
        slots = []
        for slot in range(2, self.node.current_slot() + 1):
            try:
                block = self.node.block(slot).block.message
            except NotFound:
                continue
            committee = self.node.signing_state(slot - 1).current_sync_committee
            bits = block.body.sync_aggregate.sync_committee_bits
            positions = [p for p, pk in enumerate(committee) if pk in mine]
            if positions and all(bits[p] for p in positions):
                slots.append(slot)
        return slots

    def stinger(self, op: Operator, *args: str) -> subprocess.Popen[bytes]:
        """Run a `stinger` command against node `op` (its data directory)."""
        return subprocess.Popen(
            [sys.executable, "-m", "nektar.cli.stinger", *args, "--data-dir", str(op.datadir)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )

    def missed(self, epochs: range) -> list[tuple[int, int]]:
        """(epoch, validator index) of every cluster attestation not included."""
        out = []
        for epoch in epochs:
            out += [(epoch, i) for i, f in self.participation(epoch).items() if not f]
        return out
