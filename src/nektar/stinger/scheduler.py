"""Scheduler stage: which duties the node's validators have, and when to start them.

Per epoch it asks the beacon node for attester duties (this epoch and the next, ahead of
time) and, once the epoch has started, for proposer duties: proposer duties fetched early can
still change (seen with real clients), so they are re-fetched every slot and replaced when
their `dependent_root` changes. Within a slot (the honest validator guide's timings):
proposals start at the slot start; attestations and sync-committee messages as soon as the
slot's block has been seen (a head event for the slot) or at 1/3 of the slot, whichever comes
first; aggregation at 2/3. Validators without a beacon-chain index yet (pending deposits) are
looked up every epoch.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from nektar.beacon.client import BeaconClient
from nektar.beacon.client.api import BeaconAPIError
from nektar.crypto.signing import SYNC_COMMITTEE_SIZE, SYNC_COMMITTEE_SUBNET_COUNT
from nektar.stinger.chaininfo import SlotClock
from nektar.stinger.datadir import ClusterStore, Validator
from nektar.stinger.fetcher import HeadTracker
from nektar.stinger.workflow import AttesterAssignment, Workflow

log = logging.getLogger("nektar.stinger.scheduler")

SYNC_SUBCOMMITTEE_SIZE = SYNC_COMMITTEE_SIZE // SYNC_COMMITTEE_SUBNET_COUNT


@dataclass
class EpochDuties:
    attesters: dict[int, list[AttesterAssignment]] = field(default_factory=dict)
    attester_root: bytes | None = None
    proposers: dict[int, Validator] = field(default_factory=dict)
    proposer_root: bytes | None = None
    sync: list[Validator] | None = None  # sync-committee members of the epoch
    sync_subnets: dict[bytes, tuple[int, ...]] = field(default_factory=dict)  # by pubkey


class Scheduler:
    def __init__(
        self,
        client: BeaconClient,
        clock: SlotClock,
        clusters: ClusterStore,
        workflow: Workflow,
        on_slot: Callable[[int], Awaitable[None]] | None = None,
        sync_contributions: bool = True,
        heads: HeadTracker | None = None,
        sync_messages: bool = True,
    ) -> None:
        self.client = client
        self.heads = heads
        self.clock = clock
        self.clusters = clusters
        self.workflow = workflow
        self.on_slot = on_slot
        self.sync_contributions = sync_contributions and sync_messages
        self.sync_messages = sync_messages
        self.epochs: dict[int, EpochDuties] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._refreshing: asyncio.Task[None] | None = None  # background duty refreshes
        self.current_slot = -1

    # ------------------------------------------------------------------ duties
    def _indexed(self) -> dict[int, Validator]:
        return {v.index: v for v in self.clusters.validators.values() if v.index is not None}

    async def resolve_indices(self) -> None:
        """Learn the beacon-chain index of validators that have none yet."""
        missing = [v.pubkey for v in self.clusters.validators.values() if v.index is None]
        if not missing:
            return
        found = {
            bytes(info.validator.pubkey): info.index
            for info in await self.client.validators("head", ids=missing)
        }
        self.clusters.set_validator_indices(found)
        for pubkey, index in list(found.items())[:8]:
            log.info("validator 0x%s has index %d", pubkey.hex()[:16], index)
        if len(found) > 8:
            log.info("and %d more validators have their index", len(found) - 8)

    async def refresh_attesters(self, epoch: int) -> None:
        indexed = self._indexed()
        duties = self.epochs.setdefault(epoch, EpochDuties())
        if not indexed:
            return
        response = await self.client.attester_duties(epoch, sorted(indexed))
        if response.dependent_root == duties.attester_root and duties.attesters:
            return
        attesters: dict[int, list[AttesterAssignment]] = {}
        for duty in response.data:
            validator = indexed.get(duty.validator_index)
            if validator is not None:
                attesters.setdefault(duty.slot, []).append(AttesterAssignment(validator, duty))
        duties.attesters, duties.attester_root = attesters, response.dependent_root

    async def refresh_sync(self, epoch: int) -> None:
        indexed = self._indexed()
        duties = self.epochs.setdefault(epoch, EpochDuties())
        if not indexed:
            return
        response = await self.client.sync_duties(epoch, sorted(indexed))
        mine = [d for d in response.data if d.validator_index in indexed]
        duties.sync = [indexed[d.validator_index] for d in mine]
        duties.sync_subnets = {
            indexed[d.validator_index].pubkey: tuple(
                sorted({i // SYNC_SUBCOMMITTEE_SIZE for i in d.validator_sync_committee_indices})
            )
            for d in mine
        }

    async def refresh_proposers(self, epoch: int) -> None:
        indexed = self._indexed()
        duties = self.epochs.setdefault(epoch, EpochDuties())
        response = await self.client.proposer_duties(epoch)
        if response.dependent_root == duties.proposer_root and duties.proposer_root is not None:
            return
        if duties.proposer_root is not None:
            log.info("proposer duties of epoch %d changed (new dependent root)", epoch)
        duties.proposers = {
            d.slot: indexed[d.validator_index]
            for d in response.data
            if d.validator_index in indexed
        }
        duties.proposer_root = response.dependent_root

    # ------------------------------------------------------------------ the slot loop
    async def run(self) -> None:
        """Drive duties slot by slot until cancelled."""
        slot = self.clock.current_slot()
        while True:
            await self.clock.sleep_until(self.clock.slot_start(slot))
            self.current_slot = slot
            self._spawn(self._slot(slot))
            slot = max(slot + 1, self.clock.current_slot())

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("slot task failed", exc_info=task.exception())

    async def _slot(self, slot: int) -> None:
        epoch = self.clock.epoch(slot)
        third = self.clock.slot_duration / 3
        start = self.clock.slot_start(slot)
        epoch_start = slot == self.clock.epoch_start_slot(epoch)
        # The proposal first: the slot's block is what everyone's attestations wait for. The
        # epoch's proposer duties, once fetched (after the epoch started), serve at once and
        # are re-fetched after (a new dependent root replaces them for the next slots).
        duties = self.epochs.get(epoch, EpochDuties())
        known = duties.proposer_root is not None
        if not known:
            await self._steps(slot, [self.resolve_indices, lambda: self.refresh_proposers(epoch)])
            duties = self.epochs.get(epoch, EpochDuties())
        proposer = duties.proposers.get(slot)
        if proposer is not None:
            self._spawn(self.workflow.propose(slot, proposer))
        following = duties.proposers.get(slot + 1)
        if following is not None and self.clock.epoch(slot + 1) == epoch:
            self.workflow.start_randao(slot + 1, following)
        # What this slot needs and is not known yet is fetched now; refreshes of known duties
        # (a dependent-root change replaces them) and the next epoch's run in the background,
        # so an epoch start's requests for thousands of validators do not delay its duties.
        needed: list[Callable[[], Awaitable[None]]] = []
        later: list[Callable[[], Awaitable[None]]] = []
        if known:
            later += [self.resolve_indices, lambda: self.refresh_proposers(epoch)]
        for e in (epoch, epoch + 1):
            if self.epochs.get(e, EpochDuties()).attester_root is None:
                (needed if e == epoch else later).append(lambda e=e: self.refresh_attesters(e))
            elif epoch_start:
                later.append(lambda e=e: self.refresh_attesters(e))
        if self.sync_messages and duties.sync is None:
            needed.append(lambda: self.refresh_sync(epoch))
        elif self.sync_messages and epoch_start:
            later.append(lambda: self.refresh_sync(epoch))
        await self._steps(slot, needed)
        if later:
            self._refreshing = asyncio.ensure_future(
                self._steps(slot, later, after=self._refreshing)
            )
            self._tasks.add(self._refreshing)
            self._refreshing.add_done_callback(self._done)
        if self.on_slot is not None:
            await self.on_slot(slot)
        attesters = duties.attesters.get(slot, [])
        sync = [(v, duties.sync_subnets.get(v.pubkey, ())) for v in duties.sync or []]
        sync = sync if self.sync_contributions else []
        if sync:
            self.workflow.start_sync_selections(slot, sync)
        if self.heads is None:
            await self.clock.sleep_until(start + third)
        elif attesters or duties.sync:
            head_first = await self.heads.wait(slot, start + third)
            self.workflow.metrics.attest_trigger.labels("head" if head_first else "deadline").inc()
        if attesters:
            self._spawn(self._attest(slot, attesters))
        if duties.sync:
            self._spawn(self.workflow.sync_message(slot, duties.sync))
        await self.clock.sleep_until(start + 2 * third)
        if attesters:
            self._spawn(self.workflow.aggregate(slot, attesters))
        if sync:
            self._spawn(self.workflow.contribute(slot, sync))
        self.workflow.prune(slot)
        self.epochs = {e: d for e, d in self.epochs.items() if e >= epoch - 1}

    async def _steps(
        self,
        slot: int,
        steps: list[Callable[[], Awaitable[None]]],
        after: asyncio.Task[None] | None = None,
    ) -> None:
        """Run `steps` in order (after the `after` task: background refreshes queue up rather
        than overlap); a beacon node error is logged and the next step runs."""
        if after is not None and not after.done():
            await asyncio.wait([after])
        for step in steps:
            try:
                await step()
            except BeaconAPIError as exc:
                log.warning("slot %d: duties unavailable from the beacon node: %s", slot, exc)

    async def _attest(self, slot: int, attesters: list[AttesterAssignment]) -> None:
        """Attestations, then the selection proofs of the aggregation duty (needed at 2/3
        slot; started earlier they would compete with the attestations for the CPU)."""
        try:
            await self.workflow.attest(slot, attesters)
        finally:
            self.workflow.start_selections(slot, attesters)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
