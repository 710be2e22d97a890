"""Partial-signature exchange over P2P, with each partial verified against its sender's share.

Wire format (protocol `nektar/parsig/1`), fixed-size fields, big-endian integers:
`version:u8 = 1 ‖ duty_type:u8 ‖ slot:u64 ‖ count:u32 ‖ count × (pubkey:48 ‖ root:32 ‖
signature:96)`: one message carries a node's partials of one duty for every validator it
shares with the receiver. The sender's share index comes from the authenticated P2P identity,
never from the message.

Checking: the first partial of every message is verified alone against the sender's public
share (the sender check). If it verifies, the message's partials go to the aggregator
decoded but unchecked: the aggregator verifies every signature it combines (one batch per
call) and, only when one fails, checks that signature's partials one by one and reports the
bad ones here (`report_bad`). If the sender check fails, the whole message is verified first
(one batch; each alone only when it fails). Either way a bad partial is dropped, logged with
its sender's address and counted. Honest messages so cost a decompression per partial and
one pairing check per message, instead of a second batch verification of every partial.
Partials of signatures already combined (the t-th member's came first) are skipped
unchecked. Work proceeds in chunks of `CHUNK` entries with the event loop running between
them (P2P, QBFT): pyblst holds the GIL, so a thread pool would not help, and one slot's
thousands of partials must not stall the consensus messages of the next duty.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import struct
from collections.abc import Callable, Sequence

from nektar.crypto import bls
from nektar.p2p import Host
from nektar.stinger.aggregator import Aggregator, Item
from nektar.stinger.datadir import Validator
from nektar.stinger.duties import Duty, DutyType
from nektar.stinger.metrics import Metrics
from nektar.stinger.signer import Partial

log = logging.getLogger("nektar.stinger.parsigex")

PROTOCOL = "nektar/parsig/1"
VERSION = 1
_HEADER = struct.Struct(">BBQI")
_ENTRY = 48 + 32 + 96
MAX_ENTRIES = 5000
Received = tuple[Validator, bytes, int, bytes]  # validator, root, sender's share index, partial
CHUNK = 64  # partials verified (and combined) between two turns of the event loop


class ParsigMessageError(ValueError):
    """Bytes that are not a partial-signature message."""


def encode(duty: Duty, partials: Sequence[Partial]) -> bytes:
    if len(partials) > MAX_ENTRIES:
        raise ParsigMessageError(f"at most {MAX_ENTRIES} partials per message")
    head = _HEADER.pack(VERSION, int(duty.type), duty.slot, len(partials))
    return head + b"".join(p.pubkey + p.root + p.signature for p in partials)


def decode(data: bytes) -> tuple[Duty, list[Partial]]:
    if len(data) < _HEADER.size:
        raise ParsigMessageError(f"message shorter than its {_HEADER.size}-byte header")
    version, duty_type, slot, count = _HEADER.unpack_from(data)
    if version != VERSION:
        raise ParsigMessageError(f"unknown version {version}")
    try:
        kind = DutyType(duty_type)
    except ValueError:
        raise ParsigMessageError(f"unknown duty type {duty_type}") from None
    if count > MAX_ENTRIES or len(data) != _HEADER.size + count * _ENTRY:
        raise ParsigMessageError(f"length {len(data)} does not match {count} entries")
    partials = []
    for at in range(_HEADER.size, len(data), _ENTRY):
        partials.append(
            Partial(data[at : at + 48], data[at + 48 : at + 80], data[at + 80 : at + _ENTRY])
        )
    return Duty(kind, slot), partials


class ParSigEx:
    """Sends this node's partials to the other members and feeds verified ones to the
    aggregator. `faults` containing "wrong-partials" makes it send signatures under a random
    key (test hook for the byzantine-member tests)."""

    def __init__(
        self,
        host: Host,
        lookup: Callable[[bytes], Validator | None],
        aggregator: Aggregator,
        metrics: Metrics,
        faults: Sequence[str] = (),
    ) -> None:
        self.host = host
        self.lookup = lookup
        self.aggregator = aggregator
        self.metrics = metrics
        self.wrong_partials = "wrong-partials" in faults
        aggregator.on_bad = self.report_bad
        host.register(PROTOCOL, self._on_message)

    async def exchange(self, duty: Duty, partials: Sequence[Partial]) -> None:
        """Send our partials to every co-member of each validator, then give them to the
        aggregator (which may complete signatures whose other partials came first)."""
        own: list[Item] = []
        by_members: dict[tuple[bytes, ...], list[Partial]] = {}
        for partial in partials:
            validator = self.lookup(partial.pubkey)
            if validator is None:
                continue
            definition = validator.definition
            point = partial.point or bls.decode_signature(partial.signature)
            own.append((validator, partial.root, definition.my_index, point))
            by_members.setdefault(definition.member_addresses, []).append(self._outgoing(partial))
        for members, group in by_members.items():
            for start in range(0, len(group), MAX_ENTRIES):
                await self.host.broadcast(
                    PROTOCOL, encode(duty, group[start : start + MAX_ENTRIES]), peers=members
                )
        for start in range(0, len(own), CHUNK):
            self.aggregator.add(duty, own[start : start + CHUNK])
            await asyncio.sleep(0)

    def _outgoing(self, partial: Partial) -> Partial:
        if not self.wrong_partials:
            return partial
        wrong = bls.sign(1 + secrets.randbelow(bls.CURVE_ORDER - 1), partial.root)
        return Partial(partial.pubkey, partial.root, wrong)

    async def _on_message(self, peer: bytes, payload: bytes) -> None:
        sender = "0x" + peer.hex()
        try:
            duty, partials = decode(payload)
        except ParsigMessageError as exc:
            self.metrics.bad_partials.labels(sender).inc()
            log.warning("malformed partial-signature message from %s dropped: %s", sender, exc)
            return
        items: list[Received] = []
        for partial in partials:
            validator = self.lookup(partial.pubkey)
            index = None if validator is None else validator.definition.share_index_of(peer)
            if validator is None or index is None:
                log.warning(
                    "partial for 0x%s from %s dropped: not a validator we share with it",
                    partial.pubkey.hex()[:16],
                    sender,
                )
                continue
            items.append((validator, partial.root, index, partial.signature))
        suspect = False
        for start in range(0, len(items), CHUNK):
            chunk = [
                item
                for n, item in enumerate(items[start : start + CHUNK], start)
                if n == 0 or not self.aggregator.complete(duty, item[0].pubkey, item[1])
            ]
            decoded = self._decode(duty, chunk)
            if start == 0 and decoded:  # the sender check (a malformed entry fails it too)
                suspect = len(decoded) < len(chunk) or not bls.batch_verify_points(
                    [_triple(decoded[0])]
                )
            if suspect:
                decoded = self._verified(duty, decoded)
            self.aggregator.add(duty, decoded)
            await asyncio.sleep(0)

    def _decode(self, duty: Duty, items: list[Received]) -> list[Item]:
        """Signature points of the items; undecodable ones are reported and dropped."""
        decoded: list[Item] = []
        bad = []
        for validator, root, index, signature in items:
            try:
                decoded.append((validator, root, index, bls.decode_signature(signature)))
            except bls.BLSError:
                bad.append((validator, root, index))
        self.report_bad(duty, bad)
        return decoded

    def _verified(self, duty: Duty, items: list[Item]) -> list[Item]:
        """The items whose partial verifies under the sender's public share (one batch
        verification, each alone only if it fails); the others are reported and dropped."""
        if bls.batch_verify_points([_triple(i) for i in items]):
            return items
        good = []
        bad = []
        for item in items:
            if bls.batch_verify_points([_triple(item)]):
                good.append(item)
            else:
                bad.append(item[:3])
        self.report_bad(duty, bad)  # type: ignore[arg-type]
        return good

    def report_bad(self, duty: Duty, bad: Sequence[tuple[Validator, bytes, int]]) -> None:
        """Log and count invalid partials, one line per sender: its address and member index."""
        by_sender: dict[int, list[Validator]] = {}
        for validator, _, index in bad:
            by_sender.setdefault(index, []).append(validator)
        for index, validators in by_sender.items():
            sender = validators[0].definition.members[index - 1].address
            self.metrics.bad_partials.labels(sender).inc(len(validators))
            log.warning(
                "invalid partial signature(s) from %s (member %d) for %s dropped: %d, "
                "validators %s",
                sender,
                index,
                duty,
                len(validators),
                ", ".join(sorted({"0x" + v.pubkey.hex()[:16] for v in validators})),
            )


def _triple(item: Item) -> tuple[bls.G1Point, bytes, bls.G2Point]:
    validator, root, index, point = item
    return validator.share_point(index), root, point
