"""The live local network: anvil with the Diva system, the devnet beacon chain process, and
n `stinger run` processes, one per operator, all on 127.0.0.1.

`Network.start()` brings it up in dependency order and `Network.stop()` takes it down in
reverse (also after a failure half-way: every started piece is registered for teardown
before the next one starts). Everything a process writes goes to the run directory:

```
<run_dir>/
  devnet.json          URLs, contract addresses, operators (for people and other tools)
  logs/                anvil.log, beacon.log, node1.log, node1-1.log (after a restart) …
  node1/ … nodeN/      each operator's Stinger data directory (node key, stinger.toml, …)
```
"""

from __future__ import annotations

import contextlib
import json
import random
import shutil
import socket
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from nektar.chain.anvil import Anvil, start_anvil
from nektar.chain.diva_ops import DivaSystem, deploy_diva_system
from nektar.chain.jsonrpc import JsonRpcBackend
from nektar.crypto.node_key import NodeKey
from nektar.devnet.beacon import DevnetTiming
from nektar.devnet.processes import Child, DevnetError, ProcessGroup, python_module, wait_for
from nektar.stinger.config import StingerSettings
from nektar.stinger.datadir import DataDir

ETH = 10**18
FAST_KDF = {"n": 1024}  # devnet node keys: encrypted as on mainnet, cheap to decrypt
OPERATOR_BOND = 5 * ETH  # 1 ETH per key share: 3 pool validators + a pod's, rounding aside
NODE_GAS_MONEY = 10 * ETH  # node addresses pay for acknowledge/register/votes
MAX_APR_BPS = 1_000_000  # 100x per "year": devnet epochs last seconds (see beacon.py)


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def free_port() -> int:
    """A free TCP port on 127.0.0.1 for a node that must get the same port back when it
    restarts (the cluster definition names it). Drawn below the kernel's ephemeral range: an
    outgoing connection of any process takes its local port from that range, and one did take
    a stopped node's port before it restarted."""
    for port in random.sample(range(10_000, max(_ephemeral_low(), 10_200)), 200):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise DevnetError("no free TCP port on 127.0.0.1 below the ephemeral range")


def get_json(url: str, timeout: float = 2.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.load(response)


def post_json(url: str, body: object, timeout: float = 60.0) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.load(response)
    except urllib.error.HTTPError as exc:
        raise DevnetError(f"{url} answered {exc.code}: {exc.read().decode()[:300]}") from None


def _bits(hex_bits: str) -> list[int]:
    """Positions of the set bits of an SSZ bitvector/bitlist (JSON hex, little-endian bits;
    a bitlist's length marker is its highest bit, harmless for membership tests below it)."""
    raw = bytes.fromhex(hex_bits.removeprefix("0x"))
    return [i for i in range(len(raw) * 8) if raw[i // 8] >> (i % 8) & 1]


@dataclass
class Operator:
    """One operator: its on-chain account, its node key and its Stinger process."""

    index: int  # 1-based
    account: LocalAccount
    key: NodeKey
    datadir: Path
    p2p_port: int
    operator_id: int = 0
    child: Child | None = None

    @property
    def address(self) -> str:
        return "0x" + self.key.address.hex()

    @property
    def name(self) -> str:
        return f"node{self.index}"

    def api_url(self) -> str | None:
        """The running node's API base URL (from its run.json), if it is serving."""
        try:
            run = json.loads((self.datadir / "run.json").read_text())
        except (OSError, ValueError):
            return None
        if self.child is None or run.get("pid") != self.child.pid:
            return None
        return run.get("api_url")

    def status(self) -> dict[str, Any] | None:
        url = self.api_url()
        if url is None:
            return None
        try:
            return get_json(url + "/status")
        except (OSError, ValueError):
            return None


@dataclass
class NetworkSettings:
    operators: int = 4
    managed_validators: int = 16  # run by the beacon process itself: they keep finality
    genesis_delay: float = 6.0  # seconds from deployment to beacon genesis
    timing: DevnetTiming = field(default_factory=DevnetTiming)
    extra_genesis: list[dict[str, str]] = field(default_factory=list)  # tests: cluster keys


class Network:
    """Brings the processes up and down; holds the handles the scenario uses."""

    def __init__(self, run_dir: Path, settings: NetworkSettings | None = None) -> None:
        self.run_dir = run_dir
        self.settings = settings or NetworkSettings()
        self.log_dir = run_dir / "logs"
        self.group = ProcessGroup(self.log_dir)
        self.operators: list[Operator] = []
        self.anvil: Anvil | None = None
        self.beacon: Child | None = None
        self.beacon_url = ""
        self.genesis_time = 0
        self._clock_stop = threading.Event()

    # ------------------------------------------------------------------ bring-up
    def start(self) -> None:
        self.start_chain()
        self.start_beacon()
        self.start_nodes()

    def start_chain(self) -> None:
        """anvil, the Diva system, the operators (registered and bonded)."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._start_anvil()
        self._deploy()

    def start_nodes(self) -> None:
        for op in self.operators:
            self.spawn(op)
        self.wait_nodes_ready(self.operators)

    def _start_anvil(self) -> None:
        self.anvil = anvil = start_anvil()
        self.group.on_stop(lambda: self._stop_anvil(anvil))
        self.backend: JsonRpcBackend = anvil.backend()
        clock = threading.Thread(target=self._mine_each_slot, args=(anvil.url,), daemon=True)
        clock.start()
        self.group.on_stop(lambda: (self._clock_stop.set(), clock.join(5)))

    def _mine_each_slot(self, url: str) -> None:
        """Anvil mines only when a transaction comes; a real chain has a block every slot.
        An empty block each slot keeps the contracts' `block.timestamp` (the oracle's frame
        clock) on wall time for everyone reading the chain, the nodes included."""
        backend = JsonRpcBackend(url, accounts=[], fund_dev_accounts=False)
        while not self._clock_stop.wait(self.settings.timing.seconds_per_slot):
            with contextlib.suppress(Exception):  # anvil stopping: the loop ends with it
                backend.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

    def _stop_anvil(self, anvil: Anvil) -> None:
        if anvil.log_path.exists():
            shutil.copyfile(anvil.log_path, self.log_dir / "anvil.log")
        anvil.stop()

    def _deploy(self) -> None:
        backend, timing = self.backend, self.settings.timing
        self.admin = backend.accounts[0]
        self.genesis_time = int(time.time() + self.settings.genesis_delay)
        self.system: DivaSystem = deploy_diva_system(
            backend,
            self.admin,
            genesis_time=self.genesis_time,
            seconds_per_slot=timing.seconds_per_slot,
            slots_per_epoch=timing.slots_per_epoch,
            epochs_per_frame=1,
        )
        pool = self.system.lst.pool.contract
        pool.transact(
            "set_parameters",
            pool.call("min_deposit"),
            pool.call("fee_bps"),
            self.system.oracle.address,
            MAX_APR_BPS,
            pool.call("max_loss_bps"),
            pool.call("max_finalize_requests"),
            sender=self.admin,
        )
        for i in range(1, self.settings.operators + 1):
            self.operators.append(self._new_operator(i))

    def _new_operator(self, index: int) -> Operator:
        """A node key made and stored by the node's own data-directory code, registered with
        its NodeKeyBinding proof and bonded by the operator's account; a TOML config."""
        datadir = self.run_dir / f"node{index}"
        key = NodeKey.generate()
        DataDir(datadir).write_node_key(key, kdf_params=FAST_KDF)
        account = self.backend.new_account(100 * ETH)
        op = Operator(index, account, key, datadir, free_port())
        registry = self.system.operators
        op.operator_id = registry.register(account, key, f"https://operator{index}.devnet")
        registry.bond_eth(account, OPERATOR_BOND)
        self.backend.set_balance(op.address, NODE_GAS_MONEY)
        return op

    def start_beacon(self) -> None:
        """The beacon chain process (genesis at `genesis_time`), then the nodes' configs."""
        timing = self.settings.timing
        url_file = self.run_dir / "beacon.url"
        args = [
            "--url-file", str(url_file),
            "--genesis-time", str(self.genesis_time),
            "--managed", str(self.settings.managed_validators),
            "--rpc-url", self.backend.url,
            "--deposit-contract", self.system.deposit_contract.address,
            *timing.args(),
        ]  # fmt: skip
        if self.settings.extra_genesis:
            extra = self.run_dir / "genesis-extra.json"
            extra.write_text(json.dumps(self.settings.extra_genesis))
            args += ["--extra-validators", str(extra)]
        self.beacon = self.group.spawn("beacon", python_module("nektar.devnet.beacon", *args))
        beacon = self.beacon
        wait_for(url_file.exists, 60, "the beacon chain process to listen", check=beacon.check)
        self.beacon_url = url_file.read_text().strip()
        for op in self.operators:
            (op.datadir / "stinger.toml").write_text(self._node_config(op))
        self._write_descriptor()

    def _node_config(self, op: Operator) -> str:
        """The node's TOML. `peers` lists the other operators' endpoints (the chain carries
        only node addresses; the DKG engine dials them from here); the registry's address
        when the node runs chain services (it finds every other protocol address from it)."""
        peers = ", ".join(
            f'"{o.address}@127.0.0.1:{o.p2p_port}"' for o in self.operators if o is not op
        )
        text = (
            f'beacon_urls = ["{self.beacon_url}"]\n'
            f'chain = "{self.backend.url}"\n'
            f"p2p_port = {op.p2p_port}\n"
            f"peers = [{peers}]\n"
            "api_port = 0\nmetrics_port = 0\n"
            'log_format = "json"\n'
        )
        if "validator_registry" in StingerSettings.model_fields:
            text += f'validator_registry = "{self.system.validators.address}"\n'
        return text

    def _write_descriptor(self) -> None:
        s = self.system
        descriptor = {
            "rpc_url": self.backend.url,
            "beacon_url": self.beacon_url,
            "chain_id": self.backend.chain_id,
            "genesis_time": self.genesis_time,
            "contracts": {
                "deposit_contract": s.deposit_contract.address,
                "staking_pool": s.lst.pool.address,
                "div_eth": s.lst.token.address,
                "withdrawal_queue": s.lst.queue.address,
                "withdrawal_vault": s.lst.vault.address,
                "operator_registry": s.operators.address,
                "validator_registry": s.validators.address,
                "operator_oracle": s.oracle.address,
            },
            "operators": [
                {
                    "operator_id": op.operator_id,
                    "account": op.account.address,
                    "node_address": op.address,
                    "p2p_port": op.p2p_port,
                    "data_dir": str(op.datadir),
                }
                for op in self.operators
            ],
        }
        (self.run_dir / "devnet.json").write_text(json.dumps(descriptor, indent=2))

    # ------------------------------------------------------------------ nodes
    def spawn(self, op: Operator) -> None:
        """Start (or restart) the operator's `stinger run` process."""
        argv = python_module(
            "nektar.cli.stinger",
            "run",
            "--config",
            str(op.datadir / "stinger.toml"),
            "--data-dir",
            str(op.datadir),
        )
        if op.child is None:
            op.child = self.group.spawn(op.name, argv)
        else:
            op.child.start()

    def wait_nodes_ready(self, ops: list[Operator], timeout: float = 60) -> None:
        for op in ops:
            assert op.child is not None
            wait_for(op.api_url, timeout, f"{op.name} to serve", check=op.child.check)

    def restart_nodes(self, ops: list[Operator]) -> None:
        """Stop and start nodes (e.g. to load cluster files written while they ran)."""
        for op in ops:
            assert op.child is not None
            op.child.stop()
            self.spawn(op)
        self.wait_nodes_ready(ops)

    def check_processes(self) -> None:
        """DevnetError naming the first process that died unexpectedly."""
        if self.anvil is not None and self.anvil.process.poll() is not None:
            raise DevnetError("anvil exited")
        if self.beacon is not None:
            self.beacon.check()

    # ------------------------------------------------------------------ beacon reads
    def beacon_get(self, path: str) -> Any:
        return get_json(self.beacon_url + path)["data"]

    def genesis_fork_version(self) -> bytes:
        return bytes.fromhex(self.beacon_get("/eth/v1/beacon/genesis")["genesis_fork_version"][2:])

    def head_slot(self) -> int:
        return int(self.beacon_get("/eth/v1/beacon/headers/head")["header"]["message"]["slot"])

    def wall_slot(self) -> int:
        per_slot = self.settings.timing.seconds_per_slot
        return max(0, int((time.time() - self.genesis_time) // per_slot))

    def epoch_of(self, slot: int) -> int:
        return slot // self.settings.timing.slots_per_epoch

    def beacon_validators(self, pubkeys: list[bytes]) -> dict[bytes, dict[str, Any]]:
        """{pubkey: the API's validator entry} for those known to the beacon chain."""
        if not pubkeys:
            return {}
        ids = ",".join("0x" + pk.hex() for pk in pubkeys)
        entries = self.beacon_get(f"/eth/v1/beacon/states/head/validators?id={ids}")
        return {bytes.fromhex(e["validator"]["pubkey"][2:]): e for e in entries}

    def attester_duty(self, index: int, epoch: int) -> tuple[int, int, int] | None:
        """(slot, committee index, position in the committee) of validator `index` in `epoch`
        (the beacon node answers for the current and the next epoch only)."""
        duties = post_json(
            f"{self.beacon_url}/eth/v1/validator/duties/attester/{epoch}", [str(index)]
        )["data"]
        if not duties:
            return None
        d = duties[0]
        return int(d["slot"]), int(d["committee_index"]), int(d["validator_committee_index"])

    def attestation_included(self, duty: tuple[int, int, int]) -> bool:
        """Whether a block holds the attestation of `duty` (see `attester_duty`): the committee
        bit, then the validator's aggregation bit (devnets have one committee per slot below
        1,024 validators; more committees in one attestation raise DevnetError)."""
        slot, committee, position = duty
        for block_slot in range(slot + 1, slot + 2 + self.settings.timing.slots_per_epoch):
            try:
                block = get_json(f"{self.beacon_url}/eth/v2/beacon/blocks/{block_slot}")
            except urllib.error.HTTPError:
                continue  # empty slot, or not reached yet
            for att in block["data"]["message"]["body"]["attestations"]:
                committees = _bits(att["committee_bits"])
                if int(att["data"]["slot"]) != slot or committee not in committees:
                    continue
                if committees[0] != committee:
                    raise DevnetError("attestations spanning several committees are not read")
                if position in _bits(att["aggregation_bits"]):
                    return True
        return False

    # ------------------------------------------------------------------ teardown
    def stop(self) -> None:
        self.group.stop()

    def __enter__(self) -> Network:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
