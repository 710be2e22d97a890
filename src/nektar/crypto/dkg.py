"""Pedersen joint-Feldman DKG with a complaint and justification round, as a pure state machine.

Members 1..n each deal a random polynomial of degree t−1 per validator key (a batch of k keys
runs in one set of messages) and the group key is the sum of the qualified dealers' constant
terms, so no member ever holds it. Three phases, each closed by the caller (on timeout, or as
soon as `ready` says nothing more is expected):

1. DEAL — dealer i sends member j a `Deal`: its Feldman commitments and f_i(j). The message is
   direct and carries the share in plaintext: the transport (Noise, authenticated and
   encrypted per peer) provides confidentiality.
2. REVIEW — everyone broadcasts a `Review`: for every dealer, the digest of the commitments it
   received and whether the share verified (or that no deal arrived).
3. JUSTIFY — a dealer with complaints, or whose digest some reviewer disputes, broadcasts a
   `Justification`: its commitments and the complainers' shares in the clear; everyone checks
   them against the commitments.

Then each member computes the qualified set with one deterministic rule over what it received:
a dealer qualifies when every reviewer's objection is answered by a valid public share and all
undisputed digests agree (an equivocating dealer is thus caught). Members end with their
secret share, all public shares, the group key, and a transcript hash that honest members
with the same view share; comparing it (the registration every member signs carries the
public shares) detects the inconsistent-broadcast case that this protocol alone cannot, since
the transport gives authenticated point-to-point links, not reliable broadcast.
"""

from __future__ import annotations

import hashlib
import secrets
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum

from nektar.crypto import bls, threshold

VERSION = 1
SESSION_ID_LENGTH = 32
MAX_MEMBERS = 64
MAX_BATCH = 1024
BROADCAST = 0
_HEADER = struct.Struct(">BB32sHHHH")  # version, kind, session, sender, recipient, batch, t
_SCALAR = 32
_POINT = bls.PUBKEY_LENGTH


class DKGError(Exception):
    """The ceremony cannot produce keys (too few qualified dealers, bad parameters)."""


class DKGMessageError(ValueError):
    """A DKG message is malformed or does not belong to this ceremony."""


class Kind(IntEnum):
    """Message kinds on the wire."""

    DEAL = 1
    REVIEW = 2
    JUSTIFICATION = 3


class Status(IntEnum):
    """A reviewer's verdict on one dealer."""

    OK = 0
    COMPLAINT = 1  # share or commitments invalid
    NO_DEAL = 2


class Phase(IntEnum):
    """Where a member is in the ceremony."""

    DEAL = 1
    REVIEW = 2
    JUSTIFY = 3
    DONE = 4
    FAILED = 5


Commitments = tuple[tuple[bytes, ...], ...]  # [key][coefficient] compressed G1


def session_id(validator_id: int, registry: bytes, chain_id: int) -> bytes:
    """The 32-byte ceremony id: binds messages to one validator batch, registry and chain."""
    return hashlib.sha256(
        b"nektar-dkg" + validator_id.to_bytes(32, "big") + registry + chain_id.to_bytes(32, "big")
    ).digest()


def commitments_digest(commitments: Commitments) -> bytes:
    """sha256 of the concatenated commitments: what reviewers compare to catch equivocation."""
    return hashlib.sha256(b"".join(b"".join(key) for key in commitments)).digest()


# --- messages ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    """Fields every message carries; the recipient is 0 for broadcasts."""

    session_id: bytes
    sender: int
    recipient: int
    batch: int
    threshold: int


@dataclass(frozen=True)
class Deal:
    """Phase 1, direct: the dealer's commitments (per key) and the recipient's shares."""

    header: Header
    commitments: Commitments
    shares: tuple[int, ...]  # f_{sender,v}(recipient) for each key v

    kind = Kind.DEAL


@dataclass(frozen=True)
class ReviewEntry:
    """What a reviewer saw from one dealer."""

    dealer: int
    status: Status
    digest: bytes  # 32 zero bytes when no deal arrived


@dataclass(frozen=True)
class Review:
    """Phase 2, broadcast: one entry per other dealer."""

    header: Header
    entries: tuple[ReviewEntry, ...]

    kind = Kind.REVIEW


@dataclass(frozen=True)
class Justification:
    """Phase 3, broadcast: the dealer's commitments and the objectors' shares in the clear."""

    header: Header
    commitments: Commitments
    reveals: tuple[tuple[int, tuple[int, ...]], ...]  # (member, its share of every key)

    kind = Kind.JUSTIFICATION


DKGMessage = Deal | Review | Justification


def encode(message: DKGMessage) -> bytes:
    """Canonical byte encoding (big-endian, fixed-width fields)."""
    h = message.header
    out = [
        _HEADER.pack(
            VERSION, message.kind, h.session_id, h.sender, h.recipient, h.batch, h.threshold
        )
    ]
    if isinstance(message, Review):
        out.append(struct.pack(">H", len(message.entries)))
        out += [struct.pack(">HB", e.dealer, e.status) + e.digest for e in message.entries]
        return b"".join(out)
    out += [b"".join(key) for key in message.commitments]
    if isinstance(message, Deal):
        out += [s.to_bytes(_SCALAR, "big") for s in message.shares]
        return b"".join(out)
    out.append(struct.pack(">H", len(message.reveals)))
    for member, shares in message.reveals:
        out.append(struct.pack(">H", member) + b"".join(s.to_bytes(_SCALAR, "big") for s in shares))
    return b"".join(out)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.offset = data, 0

    def take(self, size: int, what: str) -> bytes:
        if self.offset + size > len(self.data):
            raise DKGMessageError(f"message truncated in {what}")
        chunk = self.data[self.offset : self.offset + size]
        self.offset += size
        return chunk

    def u16(self, what: str) -> int:
        return struct.unpack(">H", self.take(2, what))[0]

    def scalar(self, what: str) -> int:
        value = int.from_bytes(self.take(_SCALAR, what), "big")
        if value >= bls.CURVE_ORDER:
            raise DKGMessageError(f"{what} is not an element of the scalar field")
        return value

    def commitments(self, batch: int, t: int) -> Commitments:
        return tuple(
            tuple(self.take(_POINT, "commitments") for _ in range(t)) for _ in range(batch)
        )

    def finish(self) -> None:
        if self.offset != len(self.data):
            raise DKGMessageError(f"{len(self.data) - self.offset} trailing bytes")


def decode(data: bytes) -> DKGMessage:
    """Parse a message; DKGMessageError says what is wrong. Points are checked when used."""
    if not isinstance(data, bytes | bytearray):
        raise DKGMessageError("a DKG message is bytes")
    reader = _Reader(bytes(data))
    version, kind, sid, sender, recipient, batch, t = _HEADER.unpack(
        reader.take(_HEADER.size, "header")
    )
    if version != VERSION:
        raise DKGMessageError(f"unsupported DKG message version {version}")
    if not 1 <= sender <= MAX_MEMBERS or not 0 <= recipient <= MAX_MEMBERS:
        raise DKGMessageError(f"member index out of range (sender {sender}, recipient {recipient})")
    if not 1 <= batch <= MAX_BATCH or not 1 <= t <= MAX_MEMBERS:
        raise DKGMessageError(f"batch {batch} or threshold {t} out of range")
    header = Header(sid, sender, recipient, batch, t)
    message: DKGMessage
    if kind == Kind.DEAL:
        commitments = reader.commitments(batch, t)
        shares = tuple(reader.scalar("share") for _ in range(batch))
        message = Deal(header, commitments, shares)
    elif kind == Kind.REVIEW:
        entries = []
        for _ in range(reader.u16("review count")):
            dealer = reader.u16("review dealer")
            raw_status = reader.take(1, "review status")[0]
            if raw_status not in Status._value2member_map_:
                raise DKGMessageError(f"unknown review status {raw_status}")
            entries.append(ReviewEntry(dealer, Status(raw_status), reader.take(32, "digest")))
        message = Review(header, tuple(entries))
    elif kind == Kind.JUSTIFICATION:
        commitments = reader.commitments(batch, t)
        reveals = []
        for _ in range(reader.u16("reveal count")):
            member = reader.u16("reveal member")
            reveals.append((member, tuple(reader.scalar("revealed share") for _ in range(batch))))
        message = Justification(header, commitments, tuple(reveals))
    else:
        raise DKGMessageError(f"unknown DKG message kind {kind}")
    reader.finish()
    return message


# --- outcome ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyShare:
    """One validator key as seen by one member."""

    group_pubkey: bytes
    secret_share: int
    public_shares: dict[int, bytes]  # every member's f(j)·G1, j = 1..n


@dataclass(frozen=True)
class DKGOutcome:
    """A member's result: equal `qualified`, keys' public parts and hash across honest members."""

    index: int
    threshold: int
    qualified: tuple[int, ...]
    keys: tuple[KeyShare, ...]
    transcript_hash: bytes


# --- the state machine ------------------------------------------------------------------------


@dataclass
class _DealerView:
    """What this member learned about one dealer."""

    deal: Commitments | None = None  # commitments of the deal addressed to us
    deal_digest: bytes = b""
    shares: tuple[int, ...] = ()
    valid: bool = False
    justification: Commitments | None = None
    justification_digest: bytes = b""
    reveals: dict[int, tuple[int, ...]] = field(default_factory=dict)
    equivocated: bool = False

    def canonical(self) -> tuple[Commitments, bytes] | None:
        """The commitments everyone should use: the publicly justified ones, else the deal's."""
        if self.justification is not None:
            return self.justification, self.justification_digest
        if self.deal is not None:
            return self.deal, self.deal_digest
        return None


class DKG:
    """One member's side of a ceremony; feed it messages, send what it returns."""

    def __init__(
        self, session: bytes, index: int, members: int, threshold_: int, batch: int = 1
    ) -> None:
        threshold.check_parameters(threshold_, members)
        if len(session) != SESSION_ID_LENGTH:
            raise DKGError("the session id is 32 bytes")
        if members > MAX_MEMBERS or not 1 <= batch <= MAX_BATCH:
            raise DKGError(f"at most {MAX_MEMBERS} members and {MAX_BATCH} keys per ceremony")
        if not 1 <= index <= members:
            raise DKGError(f"member index {index} outside 1..{members}")
        self.session, self.index, self.n, self.t = session, index, members, threshold_
        self.batch = batch
        self.phase = Phase.DEAL
        self.outcome: DKGOutcome | None = None
        self.failure: str | None = None
        self.disqualified: dict[int, str] = {}
        self._polynomials = [
            threshold.random_polynomial(secrets.randbelow(bls.CURVE_ORDER), threshold_)
            for _ in range(batch)
        ]
        self._commitments: Commitments = tuple(
            tuple(threshold.feldman_commitments(p)) for p in self._polynomials
        )
        self._digest = commitments_digest(self._commitments)
        self._points: dict[bytes, list[list[bls.G1Point]] | None] = {}
        self._dealers = {i: _DealerView() for i in range(1, members + 1)}
        own = self._dealers[index]
        own.deal, own.deal_digest, own.valid = self._commitments, self._digest, True
        own.shares = self._shares_for(index)
        self._reviews: dict[int, dict[int, ReviewEntry]] = {}
        self._justified: set[int] = set()

    # -- helpers

    def _header(self, recipient: int) -> Header:
        return Header(self.session, self.index, recipient, self.batch, self.t)

    def _shares_for(self, member: int) -> tuple[int, ...]:
        return tuple(threshold.eval_polynomial(p, member) for p in self._polynomials)

    def _decoded(self, commitments: Commitments, digest: bytes) -> list[list[bls.G1Point]] | None:
        """Commitments as points (None if any is invalid), decoded once per distinct digest."""
        if digest not in self._points:
            try:
                self._points[digest] = [threshold.decode_commitments(k) for k in commitments]
            except threshold.ThresholdError:
                self._points[digest] = None
        return self._points[digest]

    def _shares_valid(
        self, commitments: Commitments, digest: bytes, member: int, shares: tuple[int, ...]
    ) -> bool:
        points = self._decoded(commitments, digest)
        return points is not None and all(
            bls.g1_mul(bls.G1_GENERATOR, share) == threshold.evaluate_commitments(key, member)
            for key, share in zip(points, shares, strict=True)
        )

    # -- inputs

    def start(self) -> list[DKGMessage]:
        """The deals for every other member (direct messages)."""
        return [
            Deal(self._header(j), self._commitments, self._shares_for(j))
            for j in self._dealers
            if j != self.index
        ]

    def receive(self, sender: int, data: bytes) -> list[DKGMessage]:
        """Handle bytes from the transport-authenticated member `sender`.

        Raises DKGMessageError for malformed messages, messages of another ceremony and
        messages whose claimed sender is not the authenticated one; the caller drops them.
        """
        message = decode(data)
        h = message.header
        if h.session_id != self.session:
            raise DKGMessageError("message belongs to another DKG session")
        if h.sender != sender or sender == self.index or not 1 <= sender <= self.n:
            raise DKGMessageError(f"message claims sender {h.sender} but came from {sender}")
        if h.batch != self.batch or h.threshold != self.t:
            raise DKGMessageError("message has another batch size or threshold")
        expected_recipient = self.index if isinstance(message, Deal) else BROADCAST
        if h.recipient != expected_recipient:
            raise DKGMessageError(f"message addressed to {h.recipient}, not {expected_recipient}")
        if self.phase >= Phase.DONE:
            return []
        if isinstance(message, Deal):
            self._on_deal(message)
        elif isinstance(message, Review):
            return self._on_review(message)
        else:
            self._on_justification(message)
        return []

    def _on_deal(self, deal: Deal) -> None:
        view = self._dealers[deal.header.sender]
        if self.phase != Phase.DEAL or view.deal is not None:
            return  # late or repeated: our review already says what we saw first
        view.deal, view.deal_digest = deal.commitments, commitments_digest(deal.commitments)
        view.shares = deal.shares
        view.valid = self._shares_valid(view.deal, view.deal_digest, self.index, deal.shares)

    def _on_review(self, review: Review) -> list[DKGMessage]:
        sender = review.header.sender
        if sender in self._reviews:
            return []
        entries: dict[int, ReviewEntry] = {}
        for entry in review.entries:
            entries.setdefault(entry.dealer, entry)
        self._reviews[sender] = entries
        if self.phase == Phase.JUSTIFY and self._objects_to_me(sender):
            return self._justify()  # a late objection still gets its answer
        return []

    def _on_justification(self, justification: Justification) -> None:
        view = self._dealers[justification.header.sender]
        if view.justification is None:
            view.justification = justification.commitments
            view.justification_digest = commitments_digest(justification.commitments)
        elif view.justification != justification.commitments:
            view.equivocated = True
        for member, shares in justification.reveals:
            view.reveals.setdefault(member, shares)

    def _objects_to_me(self, reviewer: int) -> bool:
        entry = self._reviews[reviewer].get(self.index)
        return entry is not None and (entry.status != Status.OK or entry.digest != self._digest)

    def _justify(self) -> list[DKGMessage]:
        objectors = sorted(j for j in self._reviews if j != self.index and self._objects_to_me(j))
        if all(j in self._justified for j in objectors):
            return []
        self._justified.update(objectors)
        reveals = tuple((j, self._shares_for(j)) for j in objectors)
        justification = Justification(self._header(BROADCAST), self._commitments, reveals)
        self._on_justification(justification)  # our own view must match everyone else's
        return [justification]

    # -- phases

    @property
    def ready(self) -> bool:
        """Nothing more is expected in this phase: the caller may advance without a timeout."""
        if self.phase == Phase.DEAL:
            return all(v.deal is not None for v in self._dealers.values())
        if self.phase == Phase.REVIEW:
            return len(self._reviews) == self.n
        if self.phase == Phase.JUSTIFY:
            return all(
                self._dealers[i].justification is not None
                for i in self._dealers
                if any(self._needs_reveal(i, j) for j in self._reviews)
            )
        return True

    def advance(self) -> list[DKGMessage]:
        """Close the current phase (timeout or `ready`) and return what to send next."""
        if self.phase == Phase.DEAL:
            self.phase = Phase.REVIEW
            review = Review(self._header(BROADCAST), self._review_entries())
            self._reviews[self.index] = {e.dealer: e for e in review.entries}
            return [review]
        if self.phase == Phase.REVIEW:
            self.phase = Phase.JUSTIFY
            return self._justify()
        if self.phase == Phase.JUSTIFY:
            self._finish()
        return []

    def _review_entries(self) -> tuple[ReviewEntry, ...]:
        entries = []
        for dealer, view in self._dealers.items():
            if dealer == self.index:
                continue
            if view.deal is None:
                entries.append(ReviewEntry(dealer, Status.NO_DEAL, b"\x00" * 32))
            else:
                status = Status.OK if view.valid else Status.COMPLAINT
                entries.append(ReviewEntry(dealer, status, view.deal_digest))
        return tuple(entries)

    def _needs_reveal(self, dealer: int, reviewer: int) -> bool:
        """Whether `reviewer`'s review objects to `dealer`'s commitments as they now stand."""
        entry = self._reviews[reviewer].get(dealer)
        if reviewer == dealer or entry is None:
            return False  # a review without an entry for this dealer raises no objection
        canonical = self._dealers[dealer].canonical()
        return canonical is None or entry.status != Status.OK or entry.digest != canonical[1]

    def _verdict(self, dealer: int) -> str:
        """Why `dealer` is disqualified, or "" if it qualifies."""
        view = self._dealers[dealer]
        canonical = view.canonical()
        if view.equivocated:
            return "sent two different justifications"
        if canonical is None:
            return "no deal or justification seen"
        if self._decoded(*canonical) is None:
            return "invalid commitments"
        for reviewer in self._reviews:
            if not self._needs_reveal(dealer, reviewer):
                continue
            revealed = view.reveals.get(reviewer)
            if view.justification is None or revealed is None:
                return f"objection from member {reviewer} unanswered"
            if not self._shares_valid(*canonical, reviewer, revealed):
                return f"revealed share for member {reviewer} is invalid"
        return ""

    def _finish(self) -> None:
        verdicts = {i: self._verdict(i) for i in self._dealers}
        self.disqualified = {i: reason for i, reason in verdicts.items() if reason}
        qualified = tuple(i for i, reason in verdicts.items() if not reason)
        if len(qualified) < self.t:
            self.phase = Phase.FAILED
            self.failure = f"only {len(qualified)} qualified dealers, need {self.t}"
            return
        canonical = {i: self._dealers[i].canonical() for i in qualified}
        decoded = {i: self._decoded(*c) for i, c in canonical.items() if c is not None}
        mine = {i: self._my_share(i) for i in qualified}
        keys = []
        for v in range(self.batch):
            total = [bls.G1Point() for _ in range(self.t)]
            for points in decoded.values():
                total = [a + b for a, b in zip(total, points[v], strict=True)] if points else total
            group = total[0].compress()
            if group == bls.INFINITY_PUBKEY:
                self.phase, self.failure = Phase.FAILED, f"group key {v} is the identity"
                return
            public = {j: threshold.evaluate_commitments(total, j).compress() for j in self._dealers}
            secret = sum(shares[v] for shares in mine.values()) % bls.CURVE_ORDER
            keys.append(KeyShare(group, secret, public))
        transcript = hashlib.sha256(
            self.session
            + struct.pack(">HHH", self.n, self.t, self.batch)
            + b"".join(struct.pack(">H", i) + c[1] for i, c in canonical.items() if c)
        ).digest()
        self.outcome = DKGOutcome(self.index, self.t, qualified, tuple(keys), transcript)
        self.phase = Phase.DONE

    def _my_share(self, dealer: int) -> tuple[int, ...]:
        view = self._dealers[dealer]
        canonical = view.canonical()
        if view.valid and canonical is not None and view.deal_digest == canonical[1]:
            return view.shares
        return view.reveals[self.index]  # present and valid: _verdict demanded it


# --- in-process ceremony ----------------------------------------------------------------------

Intercept = Callable[[int, int, bytes], bytes | None]


def run_in_memory(members: Mapping[int, DKG], intercept: Intercept | None = None) -> dict[int, DKG]:
    """Run a ceremony among in-process members over a lossless synchronous network.

    `intercept(sender, recipient, data)` may rewrite or drop (None) each delivery: tests use
    it for faulty members; tooling without a network (devnet key generation) passes None.
    Members missing from the mapping are absent. Returns the members, finished.
    """
    outbox: list[tuple[int, DKGMessage]] = []
    for index, member in members.items():
        outbox += [(index, m) for m in member.start()]
    for _ in range(3):
        while outbox:
            sender, message = outbox.pop(0)
            data = encode(message)
            recipients = (
                [message.header.recipient]
                if message.header.recipient != BROADCAST
                else [j for j in members if j != sender]
            )
            for recipient in recipients:
                delivered = intercept(sender, recipient, data) if intercept else data
                if delivered is None or recipient not in members:
                    continue
                try:
                    outbox += [
                        (recipient, m) for m in members[recipient].receive(sender, delivered)
                    ]
                except DKGMessageError:
                    continue  # a node logs and drops these
        for index, member in members.items():
            outbox += [(index, m) for m in member.advance()]
    return dict(members)
