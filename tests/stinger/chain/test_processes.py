"""Four `stinger run` processes with their chain services on anvil: a proposal naming them is
turned into one registration by their DKG engines over P2P on loopback, and each running node
picks the new validator up without a restart (its status endpoint lists it)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from nektar.chain.anvil import start_anvil
from nektar.chain.diva_ops import deploy_diva_system
from nektar.crypto.node_key import NodeKey
from nektar.stinger.datadir import DataDir

ETHER = 10**18
REGISTERED = 2
HARNESS = Path(__file__).resolve().parents[1] / "harness.py"


def _harness() -> Any:
    """tests/stinger/harness.py (beacon thread, free ports), loaded by path."""
    name = "stinger_harness"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, HARNESS)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _status(datadir: Path) -> dict[str, Any]:
    url = json.loads((datadir / "run.json").read_text())["api_url"]
    with urllib.request.urlopen(f"{url}/status", timeout=5) as response:
        return json.loads(response.read())


def _serves(datadir: Path, pubkey: bytes) -> bool:
    """The node's status lists `pubkey`; False while the node does not answer in time (it
    writes the new share's EIP-2335 keystore, standard scrypt, on its event loop: seconds
    on a loaded machine)."""
    try:
        validators = _status(datadir)["validators"]
    except TimeoutError:
        return False
    return any(v["pubkey"] == "0x" + pubkey.hex() for v in validators)


@pytest.mark.anvil
def test_four_node_processes_run_the_dkg_and_register(tmp_path: Path) -> None:
    h = _harness()
    beacon = h.BeaconThread(h.devnet_beacon([], 2.0, 1, 4))
    beacon_url = beacon.start()
    processes: list[subprocess.Popen[bytes]] = []
    with start_anvil() as anvil:
        try:
            backend = anvil.backend()
            system = deploy_diva_system(backend)
            keys = [NodeKey.generate() for _ in range(4)]
            ports = [h.free_port() for _ in keys]
            peers = [f"0x{k.address.hex()}@127.0.0.1:{p}" for k, p in zip(keys, ports, strict=True)]
            roots = [tmp_path / f"node{i}" for i in range(1, 5)]
            for key, port, root in zip(keys, ports, roots, strict=True):
                operator = backend.new_account()
                system.operators.register(operator, key, "https://op.example")
                system.operators.bond_eth(operator, 4 * ETHER)
                backend.set_balance("0x" + key.address.hex(), 100 * ETHER)
                DataDir(root).write_node_key(key, kdf_params={"n": 1024})
                (root / "stinger.toml").write_text(
                    f'beacon_urls = ["{beacon_url}"]\np2p_port = {port}\napi_port = 0\n'
                    f'metrics_port = 0\nchain = "{anvil.url}"\n'
                    f'validator_registry = "{system.validators.address}"\n'
                    f"peers = {json.dumps(peers)}\n"
                )
            system.lst.pool.deposit(backend.new_account(), 32 * ETHER)
            for root in roots:
                log = open(root / "stinger.log", "wb")  # noqa: SIM115 - lives with the process
                processes.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "nektar.cli.stinger",
                            "run",
                            "--config",
                            str(root / "stinger.toml"),
                            "--data-dir",
                            str(root),
                        ],
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
            deadline = time.time() + 60
            while not all((r / "run.json").exists() for r in roots):
                assert time.time() < deadline, "nodes did not start"
                assert all(p.poll() is None for p in processes), "a node exited"
                time.sleep(0.2)

            proposal = system.validators.propose(backend.accounts[0])
            deadline = time.time() + 60
            while system.validators.validator(proposal.validator_id).status != REGISTERED:
                assert time.time() < deadline, (roots[0] / "stinger.log").read_text()[-3000:]
                time.sleep(0.3)
            assert len(system.validators.contract.events("ValidatorRegistered")) == 1
            pubkey = bytes(system.validators.contract.events("ValidatorRegistered")[0]["pubkey"])
            deadline = time.time() + 60
            while not all(_serves(r, pubkey) for r in roots):
                assert time.time() < deadline, "a node did not pick the validator up"
                time.sleep(0.3)
            assert all(DataDir(r).cluster_file(pubkey).exists() for r in roots)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
            beacon.stop()
