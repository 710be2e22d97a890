"""The live network with real processes (anvil, the beacon chain process, four `stinger run`):
a shortened scenario. One distributed validator (keys from a real in-memory DKG, written to
the nodes' data directories) is in the beacon genesis, with the protocol's withdrawal
credentials; the cluster attests, its attestations of epochs 1–3 are found in blocks (duty
slot and committee, aggregation bit) and the rewards reach the WithdrawalVault. Then teardown
leaves no process behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nektar.crypto import dkg
from nektar.devnet.network import Network, NetworkSettings
from nektar.devnet.processes import DevnetError, wait_for
from nektar.devnet.scenario import SHARE_KDF, node_summary
from nektar.stinger.datadir import ClusterDefinition, DataDir, Member, write_definition

pytestmark = [pytest.mark.xdist_group("devnet-network"), pytest.mark.timeout(120)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is gone for our purpose; /proc tells us
    try:
        return Path(f"/proc/{pid}/status").read_text().find("State:\tZ") < 0
    except OSError:
        return False


def test_cluster_attests_on_live_network_and_teardown_is_clean(tmp_path: Path) -> None:
    members = dkg.run_in_memory({i: dkg.DKG(bytes(32), i, 4, 3) for i in range(1, 5)})
    keys = {i: m.outcome.keys[0] for i, m in members.items()}  # type: ignore[union-attr]
    pubkey = keys[1].group_pubkey

    net = Network(tmp_path, NetworkSettings(genesis_delay=8.0))
    try:
        # the validator's credentials need the vault's address: deploy first, genesis after
        net.start_chain()
        credentials = net.system.validators.withdrawal_credentials()
        net.settings.extra_genesis = [
            {"pubkey": "0x" + pubkey.hex(), "withdrawal_credentials": "0x" + credentials.hex()}
        ]
        net.start_beacon()
        cluster = [Member(address=op.address, port=op.p2p_port) for op in net.operators]
        for op in net.operators:
            datadir = DataDir(op.datadir)
            datadir.write_share(pubkey, keys[op.index].secret_share, **SHARE_KDF)
            write_definition(
                datadir,
                ClusterDefinition(
                    group_pubkey="0x" + pubkey.hex(),
                    threshold=3,
                    members=cluster,
                    public_shares=["0x" + keys[1].public_shares[j].hex() for j in range(1, 5)],
                    my_index=op.index,
                ),
            )
        net.start_nodes()

        (entry,) = net.beacon_validators([pubkey]).values()
        index = int(entry["index"])
        epochs = range(1, 4)
        duties = {}
        for epoch in epochs:  # the beacon node tells duties of the current and next epoch
            wait_for(lambda e=epoch: net.epoch_of(net.head_slot()) >= e - 1, 20, f"epoch {epoch}")
            duties[epoch] = net.attester_duty(index, epoch)
        wait_for(lambda: net.epoch_of(net.head_slot()) >= epochs[-1] + 2, 20, "epoch 5")
        included = {e: d is not None and net.attestation_included(d) for e, d in duties.items()}
        swept = net.backend.balance_of(net.system.lst.vault.address)
        (entry,) = net.beacon_validators([pubkey]).values()
        summaries = [node_summary(op) for op in net.operators]
        pids = net.group.pids()
    finally:
        net.stop()

    assert included == dict.fromkeys(epochs, True)
    assert swept > 0  # rewards above 32 ETH are swept to the protocol's vault
    assert int(entry["balance"]) >= 32 * 10**9  # no net penalty outstanding
    assert all(s["up"] and s["peers"] == 3 and s["validators"] == 1 for s in summaries)
    assert sum(s["duties"].get("attester", [0])[0] for s in summaries) > 0
    assert len(pids) == 5  # the beacon process and four nodes
    assert not [pid for pid in pids if _alive(pid)]
    assert net.anvil is not None and net.anvil.process.poll() is not None
    assert (tmp_path / "logs" / "beacon.log").exists()
    assert (tmp_path / "logs" / "anvil.log").exists()


def test_failure_half_way_is_reported_and_torn_down(tmp_path: Path) -> None:
    """The beacon process dies at start (a malformed genesis entry): a DevnetError names it
    with its log, and stopping leaves neither it nor anvil running."""
    net = Network(tmp_path, NetworkSettings(extra_genesis=[{"pubkey": "0xzz"}]))
    try:
        net.start_chain()
        with pytest.raises(DevnetError, match=r"beacon exited with status [1-9].*log"):
            net.start_beacon()
    finally:
        net.stop()
    assert net.beacon is not None and not _alive(net.beacon.pid or 0)
    assert net.anvil is not None and net.anvil.process.poll() is not None
    assert "Traceback" in (tmp_path / "logs" / "beacon.log").read_text()
