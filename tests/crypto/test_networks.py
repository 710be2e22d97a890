"""Chain configurations: fork schedules, timing and the devnet constructor."""

from __future__ import annotations

import pytest

from nektar.crypto.networks import (
    FAR_FUTURE_EPOCH,
    FORK_NAMES,
    HOODI,
    MAINNET,
    NETWORKS,
    ChainConfig,
    Fork,
    NetworkConfigError,
    devnet,
    network,
)
from nektar.crypto.signing import DOMAIN_BEACON_ATTESTER, compute_domain


def test_public_networks_are_complete():
    assert set(NETWORKS) == {"mainnet", "holesky", "sepolia", "hoodi"}
    for config in NETWORKS.values():
        assert tuple(f.name for f in config.forks) == FORK_NAMES
        assert len({f.version for f in config.forks}) == len(FORK_NAMES)
        assert config.slots_per_epoch == 32 and config.seconds_per_slot == 12


def test_mainnet_fork_schedule():
    assert MAINNET.genesis_fork_version == bytes(4)
    assert MAINNET.fork_version_at_epoch(0) == bytes.fromhex("00000000")
    assert MAINNET.fork_version_at_epoch(364031) == bytes.fromhex("04000000")
    assert MAINNET.fork_version_at_epoch(364032) == bytes.fromhex("05000000")
    assert MAINNET.fork_version_at_epoch(10**9) == bytes.fromhex("06000000")
    assert MAINNET.voluntary_exit_fork_version == bytes.fromhex("03000000")
    assert MAINNET.fork_at_epoch(200000).name == "capella"


def test_hoodi_starts_at_deneb_and_domain_uses_its_root():
    assert HOODI.fork_version_at_epoch(0) == bytes.fromhex("50000910")
    assert HOODI.domain(DOMAIN_BEACON_ATTESTER, 3000) == compute_domain(
        DOMAIN_BEACON_ATTESTER, bytes.fromhex("60000910"), HOODI.genesis_validators_root
    )


def test_network_lookup():
    assert network("sepolia").deposit_chain_id == 11155111
    with pytest.raises(NetworkConfigError, match="unknown network"):
        network("goerli")


def test_devnet_defaults_and_timing():
    config = devnet(genesis_time=1000)
    assert (config.slots_per_epoch, config.seconds_per_slot) == (8, 2)
    assert config.fork_at_epoch(0).name == "fulu"
    assert config.slot_at_time(1000 + 2 * 17 + 1) == 17
    assert config.slot_at_time(500) == 0
    assert config.slot_start_time(4) == 1008
    assert config.epoch_at_slot(17) == 2
    later = devnet(fork_epochs={"fulu": 10})
    assert later.fork_at_epoch(9).name == "electra"
    assert later.fork_at_epoch(10).name == "fulu"
    electra_only = devnet(fork_epochs={"fulu": FAR_FUTURE_EPOCH})
    assert electra_only.fork_at_epoch(10**6).name == "electra"
    rooted = config.with_genesis(b"\x11" * 32, 2000)
    assert rooted.genesis_validators_root == b"\x11" * 32 and rooted.genesis_time == 2000


def test_bad_configs_are_rejected():
    with pytest.raises(NetworkConfigError):
        devnet(fork_epochs={"gloas": 1})
    with pytest.raises(NetworkConfigError):
        devnet(fork_epochs={"phase0": 3})
    with pytest.raises(NetworkConfigError):
        devnet(fork_epochs={"altair": 5, "bellatrix": 2})
    with pytest.raises(NetworkConfigError):
        devnet(genesis_validators_root=b"\x00")
    with pytest.raises(NetworkConfigError):
        ChainConfig("x", (Fork("phase0", b"\x00" * 4, 0),), b"\x00" * 32, 0, 0, 12, None, 1)
    with pytest.raises(NetworkConfigError):
        MAINNET.fork_at_epoch(-1)
    with pytest.raises(NetworkConfigError):
        MAINNET.fork("gloas")
