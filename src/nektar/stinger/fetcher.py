"""Fetcher stage: the unsigned data of a duty, from the beacon node (with fallbacks), and
the beacon node's head events (when a slot's block has been seen)."""

from __future__ import annotations

import asyncio
import logging
import time

from nektar.beacon.client import BeaconClient
from nektar.beacon.client.api import BeaconAPIError
from nektar.beacon.client.blocks import ProducedBlock
from nektar.crypto.signing import Attestation, AttestationData, SyncCommitteeContribution
from nektar.stinger.metrics import Metrics

log = logging.getLogger("nektar.stinger.fetcher")

RETRY_DELAY = 0.1
FAR_FUTURE_EPOCH = 2**64 - 1
EVENTS_RETRY_MAX = 60.0


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


class HeadTracker:
    """The newest head slot from the beacon node's `/eth/v1/events?topics=head` stream.

    The honest validator guide attests as soon as the slot's block has been seen, or at 1/3 of
    the slot, whichever comes first: `wait(slot, deadline)` returns at the first of the two.
    A beacon node without the event stream (an error answer, a dropped connection) only costs
    the early start: `wait` then runs to its deadline, the 1/3-slot rule alone. The stream is
    asked again with a growing delay (at most a minute)."""

    def __init__(self, client: BeaconClient) -> None:
        self.client = client
        self.head_slot = -1
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        delay = 1.0
        while True:
            try:
                async for event in self.client.events(["head"]):
                    self.seen(int(event.data.slot))
                    delay = 1.0
            except BeaconAPIError as exc:
                log.info("no head events from the beacon node (%s): attesting at 1/3 slot", exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, EVENTS_RETRY_MAX)

    def seen(self, slot: int) -> None:
        """A block of `slot` became the head: wake whoever waits for it (or an earlier slot)."""
        if slot <= self.head_slot:
            return
        self.head_slot = slot
        waiting = []
        for wanted, future in self._waiters:
            if wanted <= slot:
                if not future.done():
                    future.set_result(None)
            else:
                waiting.append((wanted, future))
        self._waiters = waiting

    async def wait(self, slot: int, deadline: float) -> bool:
        """Until a head of `slot` (or later) or `deadline` (unix time), whichever comes first;
        True if the head came first."""
        if self.head_slot >= slot:
            return True
        remaining = deadline - time.time()
        if remaining <= 0:
            return False
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((slot, future))
        await asyncio.wait([future], timeout=remaining)
        if not future.done():
            future.cancel()
            self._waiters = [w for w in self._waiters if w[1] is not future]
        return self.head_slot >= slot
