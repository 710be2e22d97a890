"""The duty workflow: each duty runs fetcher → consensus → duty store → signer → parsigex →
aggregator → broadcaster (one module per stage; this module only wires them per duty type).

Validators that share a member set (a committee) share one consensus instance per duty, so
the attestation data of a slot is agreed once for all of them. Every step is bounded by a
deadline derived from the slot, and every outcome is counted by duty type and reason.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import struct
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nektar.beacon.chain.containers import (
    BeaconBlock,
    SignedBeaconBlock,
    SignedContributionAndProof,
    SignedVoluntaryExit,
)
from nektar.beacon.client.api import BeaconAPIError
from nektar.beacon.client.models import AttesterDuty
from nektar.crypto.signing import (
    SYNC_COMMITTEE_SIZE,
    SYNC_COMMITTEE_SUBNET_COUNT,
    AggregateAndProof,
    Attestation,
    AttestationData,
    ContributionAndProof,
    SignedAggregateAndProof,
    SingleAttestation,
    SyncCommitteeContribution,
    SyncCommitteeMessage,
    VoluntaryExit,
)
from nektar.stinger.aggregator import Aggregator
from nektar.stinger.broadcaster import Broadcaster
from nektar.stinger.chaininfo import SlotClock
from nektar.stinger.consensus import Committee, ConsensusService
from nektar.stinger.datadir import Validator
from nektar.stinger.duties import Duty, DutyType
from nektar.stinger.dutystore import DutyConflictError, DutyStore
from nektar.stinger.fetcher import Fetcher
from nektar.stinger.metrics import Metrics
from nektar.stinger.parsigex import CHUNK, ParSigEx
from nektar.stinger.signer import Partial, Signer

log = logging.getLogger("nektar.stinger.workflow")

GRAFFITI = b"nektar stinger".ljust(32, b"\0")
TARGET_AGGREGATORS_PER_COMMITTEE = 16
TARGET_AGGREGATORS_PER_SUBNET = 16


@dataclass(frozen=True)
class AttesterAssignment:
    validator: Validator
    duty: AttesterDuty


@dataclass
class Outcome:
    """One duty's result at this node, for the status endpoint."""

    duty: str
    validators: int
    ok: int
    reason: str
    delay: float  # seconds from slot start to the end of the duty


def committee_of(validator: Validator) -> Committee:
    return Committee.of(validator.definition.member_addresses)


def is_aggregator(committee_length: int, selection_proof: bytes) -> bool:
    """phase0 is_aggregator: one in TARGET_AGGREGATORS_PER_COMMITTEE members on average."""
    modulo = max(1, committee_length // TARGET_AGGREGATORS_PER_COMMITTEE)
    return int.from_bytes(hashlib.sha256(selection_proof).digest()[:8], "little") % modulo == 0


def is_sync_aggregator(selection_proof: bytes) -> bool:
    """altair is_sync_committee_aggregator (512-member committee, 4 subnets, 16 targets)."""
    modulo = max(
        1, SYNC_COMMITTEE_SIZE // SYNC_COMMITTEE_SUBNET_COUNT // TARGET_AGGREGATORS_PER_SUBNET
    )
    return int.from_bytes(hashlib.sha256(selection_proof).digest()[:8], "little") % modulo == 0


def _group(items: Sequence[Any], validator_of: Any) -> dict[Committee, list[Any]]:
    groups: dict[Committee, list[Any]] = {}
    for item in items:
        groups.setdefault(committee_of(validator_of(item)), []).append(item)
    return groups


class Workflow:
    def __init__(
        self,
        *,
        clock: SlotClock,
        fetcher: Fetcher,
        consensus: ConsensusService,
        dutystore: DutyStore,
        signer: Signer,
        parsigex: ParSigEx,
        aggregator: Aggregator,
        broadcaster: Broadcaster,
        metrics: Metrics,
    ) -> None:
        self.clock = clock
        self.fetcher = fetcher
        self.consensus = consensus
        self.dutystore = dutystore
        self.signer = signer
        self.parsigex = parsigex
        self.aggregator = aggregator
        self.broadcaster = broadcaster
        self.metrics = metrics
        self.recent: deque[Outcome] = deque(maxlen=64)
        self._agreed_data: dict[int, AttestationData] = {}
        self._selections: dict[int, asyncio.Task[dict[bytes, bytes]]] = {}
        self._reveals: dict[int, asyncio.Task[dict[bytes, bytes]]] = {}
        self._heads: deque[bytes] = deque(maxlen=8)  # head roots our beacon node reported
        self._sync_roots: dict[tuple[int, bytes], bytes] = {}  # (slot, committee) → agreed root
        self._sync_selections: dict[int, asyncio.Task[dict[tuple[bytes, bytes], bytes]]] = {}

    # ------------------------------------------------------------------ helpers
    def _deadline(self, slot: int, slots: float) -> float:
        """Seconds from now until `slots` slot durations after the start of `slot`."""
        return self.clock.slot_start(slot) + slots * self.clock.slot_duration - time.time()

    def _record(
        self,
        duty: Duty,
        validators: int,
        ok: int,
        reason: str,
        sent: float | None = None,
        begun: float | None = None,
    ) -> None:
        """Count a duty's outcome: `ok` validators done, the others failed for `reason`;
        `sent` is when the signed messages were handed to the beacon node, `begun` when the
        duty started (unix times; attestations start on the head event or at 1/3 slot)."""
        start = self.clock.slot_start(duty.slot)
        delay = time.time() - start
        sent_delay = delay if sent is None else sent - start
        failed = validators - ok
        self.recent.append(
            Outcome(str(duty), validators, ok, reason if failed else "ok", round(delay, 3))
        )
        name = duty.type.name.lower()
        level = logging.INFO if not failed else logging.WARNING
        log.log(
            level,
            "%s: %d/%d done in %.3f s after slot start (sent at %.3f s%s)%s",
            duty,
            ok,
            validators,
            delay,
            sent_delay,
            "" if begun is None else f", begun at {begun - start:.3f} s",
            f" ({reason})" if failed else "",
        )
        if ok:
            self.metrics.duties_succeeded.labels(name).inc(ok)
            self.metrics.broadcast_delay.labels(name).observe(sent_delay)
        if failed:
            self.metrics.duties_failed.labels(name, reason).inc(failed)

    async def _agree(
        self, committee: Committee, duty: Duty, value: bytes, validate: Any, slots: float
    ) -> bytes:
        """Consensus then the duty store; a value stored before a restart is proposed again."""
        stored = self.dutystore.get(duty, committee.id)
        decided = await self.consensus.decide(
            committee,
            duty,
            stored if stored is not None else value,
            validate,
            timeout=self._deadline(duty.slot, slots),
            expiry_slot=duty.slot + self.clock.slots_per_epoch,
        )
        started = time.monotonic()
        self.dutystore.store(duty, committee.id, decided)
        self.metrics.stage_latency.labels("dutystore").observe(time.monotonic() - started)
        return decided

    async def _sign(self, pairs: Sequence[tuple[Validator, bytes]]) -> list[Partial]:
        """Our partials over (validator, signing root) pairs, CHUNK at a time with the event
        loop running in between (pyblst holds the GIL: hundreds of signatures in one go would
        stall P2P and consensus for the other duties)."""
        started = time.monotonic()
        partials: list[Partial] = []
        for start in range(0, len(pairs), CHUNK):
            partials += [self.signer.sign_root(v, root) for v, root in pairs[start : start + CHUNK]]
            await asyncio.sleep(0)
        self.metrics.stage_latency.labels("sign").observe(time.monotonic() - started)
        return partials

    async def _threshold_sign(
        self, duty: Duty, partials: Sequence[Any], slots: float
    ) -> dict[bytes, bytes]:
        """Group signatures by validator (duties where each validator signs one message)."""
        found = await self._threshold_sign_pairs(duty, partials, slots)
        return {pubkey: signature for (pubkey, _), signature in found.items()}

    async def _threshold_sign_pairs(
        self, duty: Duty, partials: Sequence[Any], slots: float
    ) -> dict[tuple[bytes, bytes], bytes]:
        """Exchange our partials and wait (until `slots` after slot start) for the group
        signatures, by (validator, signing root)."""
        started = time.monotonic()
        await self.parsigex.exchange(duty, partials)
        signatures = await self.aggregator.collect_pairs(
            duty, [(p.pubkey, p.root) for p in partials], self._deadline(duty.slot, slots)
        )
        self.metrics.stage_latency.labels("parsigex_aggregate").observe(time.monotonic() - started)
        return signatures

    # ------------------------------------------------------------------ attestations
    async def attest(self, slot: int, assignments: Sequence[AttesterAssignment]) -> None:
        duty = Duty(DutyType.ATTESTER, slot)
        begun = time.time()
        self.metrics.duties_scheduled.labels("attester").inc(len(assignments))
        try:
            deadline = self.clock.slot_start(slot) + self.clock.slot_duration
            data = await self.fetcher.attestation_data(slot, deadline)
        except BeaconAPIError as exc:
            log.warning("%s: no attestation data: %s", duty, exc)
            self._record(duty, len(assignments), 0, "fetch")
            return
        groups = _group(assignments, lambda a: a.validator)
        await asyncio.gather(
            *(self._attest_committee(duty, c, g, data, begun) for c, g in groups.items())
        )

    async def _attest_committee(
        self,
        duty: Duty,
        committee: Committee,
        assignments: list[AttesterAssignment],
        data: AttestationData,
        begun: float,
    ) -> None:
        epoch = self.clock.epoch(duty.slot)

        def validate(value: bytes) -> bool:
            try:
                proposed = AttestationData.decode_bytes(value)
            except Exception:  # remerkleable raises assorted errors on bad bytes
                return False
            return (
                int(proposed.slot) == duty.slot
                and int(proposed.index) == 0
                and int(proposed.target.epoch) == epoch
                and int(proposed.source.epoch) <= epoch
            )

        try:
            value = await self._agree(committee, duty, data.encode_bytes(), validate, 3)
        except (TimeoutError, DutyConflictError) as exc:
            reason = "consensus_timeout" if isinstance(exc, TimeoutError) else "conflict"
            log.warning("%s: no agreed attestation data (%s)", duty, exc or reason)
            self._record(duty, len(assignments), 0, reason)
            return
        agreed = AttestationData.decode_bytes(value)
        self._agreed_data[duty.slot] = agreed
        by_pubkey = {a.validator.pubkey: a for a in assignments}
        started = time.monotonic()
        root, allowed = self.signer.allow_attestations(agreed, [a.validator for a in assignments])
        self.metrics.stage_latency.labels("slashing_protection").observe(time.monotonic() - started)
        partials = await self._sign([(v, root) for v in allowed])
        signatures = await self._threshold_sign(duty, partials, 4)
        attestations = [
            SingleAttestation(
                committee_index=by_pubkey[pubkey].duty.committee_index,
                attester_index=by_pubkey[pubkey].duty.validator_index,
                data=agreed,
                signature=signature,
            )
            for pubkey, signature in signatures.items()
        ]
        sent = time.time()
        if not attestations:
            self._record(duty, len(assignments), 0, "partials_missing")
        elif not await self.broadcaster.attestations(attestations):
            self._record(duty, len(assignments), 0, "broadcast")
        else:
            self._record(duty, len(assignments), len(attestations), "partials_missing", sent, begun)

    # ------------------------------------------------------------------ aggregation
    def start_selections(self, slot: int, assignments: Sequence[AttesterAssignment]) -> None:
        """Threshold-sign the slot's selection proofs (once; `aggregate` needs them at 2/3
        slot and starts them itself if the attestations have not finished by then)."""
        if slot in self._selections:
            return
        root = self.signer.selection_root(slot)
        pairs = [(a.validator, root) for a in assignments]
        self._selections[slot] = asyncio.ensure_future(
            self._sign_and_combine(Duty(DutyType.SELECTION, slot), pairs, 1)
        )

    async def _sign_and_combine(
        self, duty: Duty, pairs: Sequence[tuple[Validator, bytes]], slots: float
    ) -> dict[bytes, bytes]:
        return await self._threshold_sign(duty, await self._sign(pairs), slots)

    async def aggregate(self, slot: int, assignments: Sequence[AttesterAssignment]) -> None:
        duty = Duty(DutyType.AGGREGATOR, slot)
        self.start_selections(slot, assignments)
        proofs = await self._selections[slot]
        data = self._agreed_data.get(slot)
        if data is None:
            return
        chosen = [
            (a, proofs[a.validator.pubkey])
            for a in assignments
            if a.validator.pubkey in proofs
            and is_aggregator(a.duty.committee_length, proofs[a.validator.pubkey])
        ]
        if not chosen:
            return
        self.metrics.duties_scheduled.labels("aggregator").inc(len(chosen))
        data_root = bytes(data.hash_tree_root())
        groups = _group(chosen, lambda c: c[0].validator)
        await asyncio.gather(
            *(self._aggregate_committee(duty, c, g, data_root) for c, g in groups.items())
        )

    async def _aggregate_committee(
        self,
        duty: Duty,
        committee: Committee,
        chosen: list[tuple[AttesterAssignment, bytes]],
        data_root: bytes,
    ) -> None:
        committees = sorted({a.duty.committee_index for a, _ in chosen})
        try:
            fetched = [await self.fetcher.aggregate(data_root, duty.slot, i) for i in committees]
        except BeaconAPIError as exc:
            log.info("%s: no aggregate to publish: %s", duty, exc)
            self._record(duty, len(chosen), 0, "fetch")
            return

        def validate(value: bytes) -> bool:
            try:
                aggregates = _decode_list(Attestation, value)
            except Exception:  # remerkleable raises assorted errors on bad bytes
                return False
            return len(aggregates) == len(committees) and all(
                bytes(a.data.hash_tree_root()) == data_root for a in aggregates
            )

        try:
            value = await self._agree(committee, duty, _encode_list(fetched), validate, 3)
        except (TimeoutError, DutyConflictError) as exc:
            self._record(duty, len(chosen), 0, type(exc).__name__)
            return
        by_committee = dict(zip(committees, _decode_list(Attestation, value), strict=True))
        messages = {
            a.validator.pubkey: AggregateAndProof(
                aggregator_index=a.duty.validator_index,
                aggregate=by_committee[a.duty.committee_index],
                selection_proof=proof,
            )
            for a, proof in chosen
        }
        partials = await self._sign(
            [
                (a.validator, self.signer.aggregate_root(messages[a.validator.pubkey]))
                for a, _ in chosen
            ]
        )
        signatures = await self._threshold_sign(duty, partials, 4)
        signed = [
            SignedAggregateAndProof(message=messages[p], signature=s) for p, s in signatures.items()
        ]
        ok = bool(signed) and await self.broadcaster.aggregates(signed)
        self._record(duty, len(chosen), len(signed) if ok else 0, "partials_or_broadcast")

    # ------------------------------------------------------------------ sync committee
    async def sync_message(self, slot: int, validators: Sequence[Validator]) -> None:
        """Sync-committee members sign the head block root the committee agrees on (a proposal
        must be a head our own beacon node reported recently)."""
        duty = Duty(DutyType.SYNC_MESSAGE, slot)
        self.metrics.duties_scheduled.labels("sync_message").inc(len(validators))
        try:
            head = await self.fetcher.head_root()
            self._heads.append(head)
        except BeaconAPIError as exc:
            log.warning("%s: no head block root: %s", duty, exc)
            self._record(duty, len(validators), 0, "fetch")
            return
        groups = _group(validators, lambda v: v)
        await asyncio.gather(
            *(self._sync_committee(duty, c, group, head) for c, group in groups.items())
        )

    async def _sync_committee(
        self, duty: Duty, committee: Committee, validators: list[Validator], head: bytes
    ) -> None:
        try:
            root = await self._agree(committee, duty, head, self._heads.__contains__, 1)
        except (TimeoutError, DutyConflictError) as exc:
            self._record(duty, len(validators), 0, type(exc).__name__)
            return
        self._sync_roots[(duty.slot, committee.id)] = root
        signing_root = self.signer.sync_message_root(duty.slot, root)
        signatures = await self._sign_and_combine(duty, [(v, signing_root) for v in validators], 2)
        indices = {v.pubkey: v.index for v in validators}
        messages = [
            SyncCommitteeMessage(
                slot=duty.slot,
                beacon_block_root=root,
                validator_index=indices[pubkey],
                signature=signature,
            )
            for pubkey, signature in signatures.items()
        ]
        ok = bool(messages) and await self.broadcaster.sync_messages(messages)
        self._record(duty, len(validators), len(messages) if ok else 0, "partials_or_broadcast")

    def start_sync_selections(
        self, slot: int, members: Sequence[tuple[Validator, tuple[int, ...]]]
    ) -> None:
        """Threshold-sign sync selection proofs (one per subcommittee) early; `contribute`
        needs them at 2/3 slot."""
        duty = Duty(DutyType.SYNC_SELECTION, slot)
        pairs = [
            (v, self.signer.sync_selection_root(slot, subnet))
            for v, subnets in members
            for subnet in subnets
        ]

        async def sign_and_combine() -> dict[tuple[bytes, bytes], bytes]:
            return await self._threshold_sign_pairs(duty, await self._sign(pairs), 1)

        self._sync_selections[slot] = asyncio.ensure_future(sign_and_combine())

    async def contribute(
        self, slot: int, members: Sequence[tuple[Validator, tuple[int, ...]]]
    ) -> None:
        """Sync aggregators publish their subcommittee's contribution to the agreed root."""
        duty = Duty(DutyType.SYNC_CONTRIBUTION, slot)
        selection = self._sync_selections.pop(slot, None)
        if selection is None:
            return
        proofs = await selection
        chosen = []
        for validator, subnets in members:
            for subnet in subnets:
                root = self.signer.sync_selection_root(slot, subnet)
                proof = proofs.get((validator.pubkey, root))
                if proof is not None and is_sync_aggregator(proof):
                    chosen.append((validator, subnet, proof))
        groups = _group(chosen, lambda c: c[0])
        ready = {c: g for c, g in groups.items() if (slot, c.id) in self._sync_roots}
        if not ready:
            return
        self.metrics.duties_scheduled.labels("sync_contribution").inc(
            sum(len(g) for g in ready.values())
        )
        await asyncio.gather(
            *(
                self._contribute_committee(duty, c, g, self._sync_roots[(slot, c.id)])
                for c, g in ready.items()
            )
        )

    async def _contribute_committee(
        self,
        duty: Duty,
        committee: Committee,
        chosen: list[tuple[Validator, int, bytes]],
        block_root: bytes,
    ) -> None:
        subnets = sorted({subnet for _, subnet, _ in chosen})
        try:
            fetched = [
                await self.fetcher.sync_contribution(duty.slot, s, block_root) for s in subnets
            ]
        except BeaconAPIError as exc:
            log.info("%s: no contribution to publish: %s", duty, exc)
            self._record(duty, len(chosen), 0, "fetch")
            return

        def validate(value: bytes) -> bool:
            try:
                items = _decode_list(SyncCommitteeContribution, value)
            except Exception:  # remerkleable raises assorted errors on bad bytes
                return False
            return [int(c.subcommittee_index) for c in items] == subnets and all(
                int(c.slot) == duty.slot and bytes(c.beacon_block_root) == block_root for c in items
            )

        try:
            value = await self._agree(committee, duty, _encode_list(fetched), validate, 3)
        except (TimeoutError, DutyConflictError) as exc:
            self._record(duty, len(chosen), 0, type(exc).__name__)
            return
        by_subnet = dict(zip(subnets, _decode_list(SyncCommitteeContribution, value), strict=True))
        messages = [
            ContributionAndProof(
                aggregator_index=validator.index,
                contribution=by_subnet[subnet],
                selection_proof=proof,
            )
            for validator, subnet, proof in chosen
        ]
        partials = await self._sign(
            [
                (validator, self.signer.contribution_root(message))
                for (validator, _, _), message in zip(chosen, messages, strict=True)
            ]
        )
        signatures = await self._threshold_sign_pairs(duty, partials, 4)
        signed = [
            SignedContributionAndProof(message=m, signature=signatures[(p.pubkey, p.root)])
            for m, p in zip(messages, partials, strict=True)
            if (p.pubkey, p.root) in signatures
        ]
        ok = bool(signed) and await self.broadcaster.contributions(signed)
        self._record(duty, len(chosen), len(signed) if ok else 0, "partials_or_broadcast")

    # ------------------------------------------------------------------ block proposal
    def start_randao(self, slot: int, validator: Validator) -> None:
        """Threshold-sign the randao reveal of a proposal at `slot` (once). It depends on the
        epoch only, so the scheduler starts it a slot ahead and the proposal need not wait
        for an exchange; a reveal nobody uses is harmless (it cannot be slashed)."""
        if slot in self._reveals:
            return
        root = self.signer.randao_root(self.clock.epoch(slot))
        partials = [self.signer.sign_root(validator, root)]
        self._reveals[slot] = asyncio.ensure_future(
            self._threshold_sign(Duty(DutyType.RANDAO, slot), partials, 0.5)
        )

    async def propose(self, slot: int, validator: Validator) -> None:
        self.metrics.duties_scheduled.labels("proposer").inc()
        duty = Duty(DutyType.PROPOSER, slot)
        self.start_randao(slot, validator)
        reveals = await self._reveals[slot]
        reveal = reveals.get(validator.pubkey)
        if reveal is None:
            self._record(duty, 1, 0, "randao_missing")
            return
        try:
            produced = await self.fetcher.block(slot, reveal, GRAFFITI)
        except BeaconAPIError as exc:
            log.warning("%s: block production failed: %s", duty, exc)
            self._record(duty, 1, 0, "fetch")
            return

        def validate(value: bytes) -> bool:
            try:
                _, block = _decode_block(value)
            except Exception:  # remerkleable raises assorted errors on bad bytes
                return False
            return (
                int(block.slot) == slot
                and int(block.proposer_index) == validator.index
                and bytes(block.body.randao_reveal) == reveal
            )

        try:
            value = await self._agree(
                committee_of(validator),
                duty,
                _encode_block(produced.version, produced.block),
                validate,
                2,
            )
        except (TimeoutError, DutyConflictError) as exc:
            self._record(duty, 1, 0, type(exc).__name__)
            return
        version, block = _decode_block(value)
        partial = self.signer.sign_block(validator, block)
        if partial is None:
            self._record(duty, 1, 0, "slashing_protection")
            return
        signatures = await self._threshold_sign(duty, [partial], 2)
        signature = signatures.get(validator.pubkey)
        if signature is None:
            self._record(duty, 1, 0, "partials_missing")
            return
        signed = SignedBeaconBlock(message=block, signature=signature)
        ok = await self.broadcaster.block(signed, version)
        self._record(duty, 1, int(ok), "broadcast")

    # ------------------------------------------------------------------ voluntary exit
    async def exit(self, validator: Validator, epoch: int, timeout: float) -> bool:
        """Sign our share of VoluntaryExit(epoch, index); once t members did the same (with
        the same epoch), submit it. Returns whether the exit reached the beacon node."""
        if validator.index is None:
            raise ValueError("the validator has no beacon-chain index yet; it cannot exit")
        duty = Duty(DutyType.EXIT, epoch * self.clock.slots_per_epoch)
        # the beacon chain refuses an exit whose epoch has not begun (the default epoch,
        # activation + SHARD_COMMITTEE_PERIOD, may lie ahead): it is held until then
        deadline = time.monotonic() + timeout
        wait = self.clock.slot_start(duty.slot) - time.time()
        if wait > timeout:
            raise ValueError(
                f"the exit is valid from epoch {epoch}, {wait:.0f} s from now: "
                "run the command then (or with a longer --timeout)"
            )
        message = VoluntaryExit(epoch=epoch, validator_index=validator.index)
        partial = self.signer.sign_root(validator, self.signer.exit_root(message))
        await self.parsigex.exchange(duty, [partial])
        found = await self.aggregator.collect(duty, [(partial.pubkey, partial.root)], timeout)
        if validator.pubkey not in found:
            return False
        # a third into the epoch's first slot: the beacon state has entered the epoch by then
        valid_at = self.clock.slot_start(duty.slot) + self.clock.slot_duration / 3
        hold = min(valid_at - time.time(), deadline - time.monotonic())
        if hold > 0:
            await asyncio.sleep(hold)
        signed = SignedVoluntaryExit(message=message, signature=found[validator.pubkey])
        # another member's submission may already be on chain: that is success too
        return await self.broadcaster.exit(signed) or await self.fetcher.exiting(validator.index)

    def prune(self, slot: int) -> None:
        horizon = slot - 2 * self.clock.slots_per_epoch
        self._agreed_data = {s: d for s, d in self._agreed_data.items() if s >= horizon}
        for tasks in (self._selections, self._sync_selections, self._reveals):
            for old in [s for s in tasks if s < horizon]:
                tasks.pop(old).cancel()
        self._sync_roots = {k: r for k, r in self._sync_roots.items() if k[0] >= horizon}
        self.aggregator.prune(horizon)
        self.consensus.expire(horizon)


def _encode_block(version: str, block: BeaconBlock) -> bytes:
    name = version.encode()
    return bytes([len(name)]) + name + block.encode_bytes()


def _decode_block(value: bytes) -> tuple[str, BeaconBlock]:
    size = value[0]
    return value[1 : 1 + size].decode(), BeaconBlock.decode_bytes(value[1 + size :])


def _encode_list(items: Sequence[Any]) -> bytes:
    """SSZ objects as one consensus value: each as a 4-byte length and its encoding."""
    out = b""
    for item in items:
        raw = item.encode_bytes()
        out += struct.pack(">I", len(raw)) + raw
    return out


def _decode_list(typ: Any, value: bytes) -> list[Any]:
    out, at = [], 0
    while at < len(value):
        (size,) = struct.unpack_from(">I", value, at)
        out.append(typ.decode_bytes(value[at + 4 : at + 4 + size]))
        at += 4 + size
    return out
