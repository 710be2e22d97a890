"""What the node learns about the chain from its beacon node: genesis, timing and forks.

The signing domains come from `nektar.crypto.networks.ChainConfig`, built here from the
standard `/eth/v1/beacon/genesis` and `/eth/v1/config/spec` answers, so the node signs for
whatever chain its beacon node follows (devnet or a public network).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from nektar.beacon.client import BeaconClient
from nektar.beacon.client.api import slot_duration_seconds
from nektar.crypto.networks import FORK_NAMES, ChainConfig, Fork

FAR_FUTURE_EPOCH = 2**64 - 1


def chain_config(genesis_time: int, genesis_root: bytes, spec: Mapping[str, Any]) -> ChainConfig:
    """A ChainConfig from the spec's `<FORK>_FORK_VERSION/EPOCH` values (unscheduled forks
    are left out, scheduled ones kept in order)."""
    forks = [Fork("phase0", bytes.fromhex(str(spec["GENESIS_FORK_VERSION"])[2:]), 0)]
    for name in FORK_NAMES[1:]:
        version, epoch = (
            spec.get(f"{name.upper()}_FORK_VERSION"),
            spec.get(f"{name.upper()}_FORK_EPOCH"),
        )
        if version is None or epoch is None or int(epoch) >= FAR_FUTURE_EPOCH:
            continue
        forks.append(Fork(name, bytes.fromhex(str(version)[2:]), int(epoch)))
    return ChainConfig(
        name=str(spec.get("CONFIG_NAME", "beacon")),
        forks=tuple(forks),
        genesis_validators_root=genesis_root,
        genesis_time=genesis_time,
        slots_per_epoch=int(spec["SLOTS_PER_EPOCH"]),
        seconds_per_slot=max(1, int(slot_duration_seconds(spec))),
        deposit_contract_address=spec.get("DEPOSIT_CONTRACT_ADDRESS"),
        deposit_chain_id=int(spec.get("DEPOSIT_CHAIN_ID", 0)),
    )


async def fetch_chain(client: BeaconClient) -> tuple[ChainConfig, float]:
    """(ChainConfig, slot duration in seconds) from the beacon node."""
    genesis, spec = await asyncio.gather(client.genesis(), client.spec())
    config = chain_config(genesis.genesis_time, genesis.genesis_validators_root, spec)
    return config, slot_duration_seconds(spec)


@dataclass
class SlotClock:
    """Wall-clock slot timing from beacon genesis (local clock; its offset is a metric)."""

    genesis_time: float
    slot_duration: float
    slots_per_epoch: int
    time_fn: Callable[[], float] = time.time

    def slot_start(self, slot: int) -> float:
        return self.genesis_time + slot * self.slot_duration

    def current_slot(self) -> int:
        return max(0, int((self.time_fn() - self.genesis_time) // self.slot_duration))

    def epoch(self, slot: int) -> int:
        return slot // self.slots_per_epoch

    def epoch_start_slot(self, epoch: int) -> int:
        return epoch * self.slots_per_epoch

    async def sleep_until(self, unix_time: float) -> None:
        delay = unix_time - self.time_fn()
        if delay > 0:
            await asyncio.sleep(delay)
