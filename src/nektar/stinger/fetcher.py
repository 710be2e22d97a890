"""Fetcher stage: the unsigned data of a duty, from the beacon node (with fallbacks)."""

from __future__ import annotations

import asyncio
import time

from nektar.beacon.client import BeaconClient
from nektar.beacon.client.api import BeaconAPIError
from nektar.beacon.client.blocks import ProducedBlock
from nektar.crypto.signing import Attestation, AttestationData, SyncCommitteeContribution
from nektar.stinger.metrics import Metrics

RETRY_DELAY = 0.1
FAR_FUTURE_EPOCH = 2**64 - 1


class Fetcher:
    def __init__(self, client: BeaconClient, metrics: Metrics) -> None:
        self.client = client
        self.metrics = metrics

    async def attestation_data(self, slot: int, deadline: float) -> AttestationData:
        """One AttestationData serves every committee of the slot (Electra: index 0).

        A beacon node that has not processed the slot yet refuses it: ask again until the
        `deadline` (unix time) rather than miss the duty."""
        started = time.monotonic()
        while True:
            try:
                data = await self.client.attestation_data(slot, 0)
                break
            except BeaconAPIError:
                if time.time() + RETRY_DELAY >= deadline:
                    raise
                await asyncio.sleep(RETRY_DELAY)
        self.metrics.stage_latency.labels("fetch").observe(time.monotonic() - started)
        return data

    async def block(self, slot: int, randao_reveal: bytes, graffiti: bytes) -> ProducedBlock:
        started = time.monotonic()
        produced = await self.client.produce_block(slot, randao_reveal, graffiti)
        self.metrics.stage_latency.labels("fetch").observe(time.monotonic() - started)
        return produced

    async def exiting(self, index: int) -> bool:
        """Whether the validator's exit is already on chain (initiated or done)."""
        info = await self.client.validator(index)
        return info.validator.exit_epoch != FAR_FUTURE_EPOCH

    async def head_root(self) -> bytes:
        return await self.client.block_root("head")

    async def sync_contribution(
        self, slot: int, subcommittee: int, block_root: bytes
    ) -> SyncCommitteeContribution:
        return await self.client.sync_committee_contribution(slot, subcommittee, block_root)

    async def aggregate(self, data_root: bytes, slot: int, committee_index: int) -> Attestation:
        return await self.client.aggregate_attestation(data_root, slot, committee_index)
