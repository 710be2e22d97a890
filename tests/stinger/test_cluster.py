"""Four `stinger run` processes (n = 4, t = 3) serving DKG-made validators on a real devnet
beacon chain: attestations are included with 0 misses while all run, with one node down, after
it restarts (which signs nothing slashable), and with one byzantine node sending wrong partial
signatures (which the others drop and log with its address).

The scenarios share one running cluster (module fixture) and run in order, ~1 minute in all.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from nektar.crypto.slashing_protection import SlashingProtectionDB

from .harness import Devnet

pytestmark = [pytest.mark.xdist_group("stinger-cluster"), pytest.mark.timeout(240)]


@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    # 3 s slots: the module shares 2 cores with another test worker under `make test`.
    net = Devnet(tmp_path_factory.mktemp("devnet"), seconds_per_slot=3)
    net.start()
    try:
        net.wait_ready()
        yield net
    finally:
        net.stop()


def _phase(net: Devnet, epochs: int = 1) -> range:
    """The next `epochs` whole epochs (starting after the current one)."""
    first = net.current_epoch() + 1
    return range(first, first + epochs)


def test_attestations_all_nodes_up(devnet: Devnet) -> None:
    assert devnet.missed(_phase(devnet)) == []
    with urllib.request.urlopen(devnet.api_url(devnet.operators[0]) + "/status") as response:
        status = json.load(response)
    assert len(status["peers"]) == 3
    assert {v["index"] for v in status["validators"]} == set(devnet.cluster_indices())
    assert any(d["duty"].startswith("attester") and d["ok"] for d in status["recent_duties"])
    with urllib.request.urlopen(devnet.api_url(devnet.operators[0]) + "/metrics") as response:
        metrics = response.read().decode()
    assert 'stinger_duties_succeeded_total{duty="attester"}' in metrics
    command = devnet.stinger(devnet.operators[1], "status")
    output = command.communicate(timeout=30)[0].decode()
    assert command.returncode == 0, output
    assert json.loads(output)["address"] == "0x" + devnet.operators[1].address.hex()


def test_one_node_down_misses_nothing(devnet: Devnet) -> None:
    devnet.kill(devnet.operators[3])
    assert devnet.missed(_phase(devnet)) == []


def test_restarted_node_resumes_and_signs_nothing_slashable(devnet: Devnet) -> None:
    op = devnet.operators[3]
    devnet.kill(op)  # down already when the previous test ran on this cluster; not if split
    devnet.spawn(op)
    devnet.wait_ready([op])
    assert devnet.missed(_phase(devnet)) == []
    assert '"attester@' in op.logs() and "done in" in op.logs()
    assert devnet.node.pool_attester_slashings() == []
    assert devnet.node.pool_proposer_slashings() == []
    _assert_history_not_slashable(op.datadir / "slashing_protection.sqlite", devnet)


def test_byzantine_member_is_dropped_and_named(devnet: Devnet) -> None:
    """Node 4 sends wrong partial signatures and proposes invalid values when it leads (whether
    it leads an instance within one epoch is chance; the QBFT unit tests cover that rule)."""
    bad = devnet.operators[3]
    devnet.kill(bad)
    devnet.spawn(bad, fault='["wrong-partials", "bad-proposals"]')
    devnet.wait_ready([bad])
    assert devnet.missed(_phase(devnet)) == []
    culprit = "0x" + bad.address.hex()
    honest_logs = [op.logs() for op in devnet.operators[:3]]
    assert all(f"invalid partial signature(s) from {culprit}" in log for log in honest_logs)
    assert devnet.node.pool_attester_slashings() == []


def test_blocks_proposed_by_the_cluster(devnet: Devnet) -> None:
    """Randao reveal and block signed by threshold: the chain holds the cluster's blocks."""
    assert devnet.cluster_proposals()


def test_sync_committee_messages_and_contributions(devnet: Devnet) -> None:
    """The cluster's sync-committee messages reach blocks' sync aggregates and node 1 publishes
    contributions (waited for: on a loaded machine they may come some slots later)."""
    assert _eventually(lambda: bool(devnet.cluster_sync_blocks()), timeout=90)

    def contributions() -> float:
        with urllib.request.urlopen(devnet.api_url(devnet.operators[0]) + "/metrics") as response:
            metrics = response.read().decode()
        found = re.search(
            r'stinger_duties_succeeded_total\{duty="sync_contribution"\} (\S+)', metrics
        )
        return float(found.group(1)) if found else 0.0

    assert _eventually(lambda: contributions() > 0, timeout=90)


def test_voluntary_exit_signed_by_three_operators(devnet: Devnet) -> None:
    pubkey = "0x" + devnet.pubkeys[0].hex()
    index = devnet.cluster_indices()[0]
    commands = [
        devnet.stinger(op, "exit", "--validator", pubkey, "--timeout", "90")
        for op in devnet.operators[:3]
    ]
    outputs = [c.communicate(timeout=150)[0].decode() for c in commands]
    assert all(c.returncode == 0 for c in commands), outputs
    assert all("submitted" in out for out in outputs)

    def exiting() -> bool:
        exits = devnet.node.pool_voluntary_exits()
        status = devnet.node.validator("head", index).status.value
        return any(int(e.message.validator_index) == index for e in exits) or "exit" in status

    assert _eventually(exiting, timeout=30)


def _eventually(check: Callable[[], bool], timeout: float) -> bool:
    """Whether `check` holds within `timeout` seconds (polled every second): the cluster
    works on wall-clock slots, and a busy machine delays what it does, not whether."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(1)
    return True


def _assert_history_not_slashable(path: Path, net: Devnet) -> None:
    """Every attestation pair in the node's history is neither a double nor a surround vote."""
    root = net.node.genesis().genesis_validators_root
    with SlashingProtectionDB(path, root) as db:
        history = db.export_interchange()
    for record in history["data"]:
        votes = [
            (int(a["source_epoch"]), int(a["target_epoch"])) for a in record["signed_attestations"]
        ]
        targets = [t for _, t in votes]
        assert len(targets) == len(set(targets))
        for s1, t1 in votes:
            assert not any(s1 < s2 and t2 < t1 for s2, t2 in votes)
