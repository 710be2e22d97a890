"""Broadcaster stage: submit threshold-signed messages to the beacon node.

Every member that completes a signature submits it; beacon nodes treat the duplicates as
already known, so no coordination is needed and one slow member delays nothing. A rejected
submission is logged with the node's reason and counted as a failed duty.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from nektar.beacon.chain.containers import (
    SignedBeaconBlock,
    SignedContributionAndProof,
    SignedVoluntaryExit,
)
from nektar.beacon.client import BeaconClient
from nektar.beacon.client.api import BeaconAPIError
from nektar.crypto.signing import (
    SignedAggregateAndProof,
    SingleAttestation,
    SyncCommitteeMessage,
)
from nektar.stinger.metrics import Metrics

log = logging.getLogger("nektar.stinger.broadcaster")


class Broadcaster:
    def __init__(self, client: BeaconClient, metrics: Metrics) -> None:
        self.client = client
        self.metrics = metrics

    async def _submit(self, duty: str, count: int, call: Callable[[], Awaitable[None]]) -> bool:
        started = time.monotonic()
        try:
            await call()
        except BeaconAPIError as exc:
            log.warning("beacon node refused %d %s submission(s): %s", count, duty, exc)
            return False
        finally:
            self.metrics.stage_latency.labels("broadcast").observe(time.monotonic() - started)
        return True

    async def attestations(self, attestations: Sequence[SingleAttestation]) -> bool:
        return await self._submit(
            "attester", len(attestations), lambda: self.client.submit_attestations(attestations)
        )

    async def block(self, signed: SignedBeaconBlock, version: str) -> bool:
        return await self._submit("proposer", 1, lambda: self.client.publish_block(signed, version))

    async def aggregates(self, aggregates: Sequence[SignedAggregateAndProof]) -> bool:
        return await self._submit(
            "aggregator",
            len(aggregates),
            lambda: self.client.submit_aggregate_and_proofs(aggregates),
        )

    async def sync_messages(self, messages: Sequence[SyncCommitteeMessage]) -> bool:
        return await self._submit(
            "sync_message",
            len(messages),
            lambda: self.client.submit_sync_committee_messages(messages),
        )

    async def contributions(self, signed: Sequence[SignedContributionAndProof]) -> bool:
        return await self._submit(
            "sync_contribution",
            len(signed),
            lambda: self.client.submit_contribution_and_proofs(signed),
        )

    async def exit(self, signed: SignedVoluntaryExit) -> bool:
        return await self._submit("exit", 1, lambda: self.client.submit_voluntary_exit(signed))
