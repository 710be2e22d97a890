"""One QBFT instance as a pure state machine (Moniz 2020, "The Istanbul BFT Consensus
Algorithm", and the Consensys QBFT formal specification).

No I/O, clock or asyncio: inputs are `start(value)`, `receive(message)` and
`on_timeout(round)`; each returns the actions the caller must perform (broadcast, unicast,
start a round timer, report a decision). The node processes its own broadcasts immediately.

Rules (one method each):
- PROPOSAL from the round leader, accepted once per round; round 1 needs a valid value;
  round r > 1 needs a quorum of ROUND-CHANGEs for r and, if any carries a prepared value, the
  value of the highest prepared round plus that round's prepare quorum (JustifyPrePrepare).
- PREPARE quorum for the accepted proposal of the current round → prepared; send COMMIT.
- COMMIT quorum for (round, value) in any round → decide, with the commits as certificate.
- Timeout of the current round → next round, ROUND-CHANGE with the prepared round/value and
  its prepare quorum. f+1 ROUND-CHANGEs for higher rounds → jump to the lowest round that f+1
  senders reached. The leader of round r with a quorum of ROUND-CHANGEs for r proposes.
- Once decided, a node answers ROUND-CHANGEs with a DECIDED message (value + commit
  certificate), as the specification's NewBlock message lets lagging nodes catch up. It is
  sent on demand rather than broadcast at once: in the common case every node decides by
  itself and the n² extra messages and signatures would be wasted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from nektar.consensus.messages import (
    ZERO_HASH,
    MessageKind,
    Payload,
    QbftMessage,
    SignatureVerifier,
    SignedPayload,
    Signer,
    value_hash,
)
from nektar.consensus.timers import ExponentialTimer, RoundTimer

MAX_ROUND = 1024
ROUND_LOOKAHEAD = 8  # prepares/commits are kept for rounds up to current + this

Validator = Callable[[bytes], bool]


class ConsensusError(ValueError):
    """Invalid cluster or instance configuration."""


@dataclass(frozen=True)
class Cluster:
    """The members (20-byte node addresses, in member order) that run QBFT together."""

    members: tuple[bytes, ...]
    index: dict[bytes, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.members or any(len(m) != 20 for m in self.members):
            raise ConsensusError("a cluster needs at least one 20-byte member address")
        if len(set(self.members)) != len(self.members):
            raise ConsensusError("cluster members must be distinct")
        object.__setattr__(self, "index", {m: i for i, m in enumerate(self.members)})

    @property
    def n(self) -> int:
        return len(self.members)

    @property
    def f(self) -> int:
        """Faulty members tolerated: floor((n-1)/3)."""
        return (self.n - 1) // 3

    @property
    def quorum(self) -> int:
        """ceil((n+f+1)/2): any two quorums share an honest member (2f+1 when n = 3f+1)."""
        return (self.n + self.f + 2) // 2

    def leader(self, instance: bytes, round: int) -> bytes:
        """Round-robin from an instance-dependent offset: f+1 consecutive rounds always include
        an honest leader, and concurrent instances spread leadership over all members."""
        offset = int.from_bytes(instance[:8], "little")
        return self.members[(offset + round) % self.n]


@dataclass(frozen=True, slots=True)
class Broadcast:
    message: QbftMessage


@dataclass(frozen=True, slots=True)
class Unicast:
    to: bytes
    message: QbftMessage


@dataclass(frozen=True, slots=True)
class StartTimer:
    instance: bytes
    round: int
    seconds: float


@dataclass(frozen=True, slots=True)
class Decision:
    """The agreed value with its quorum certificate: ≥ quorum COMMITs for (round, value)."""

    instance: bytes
    round: int
    value: bytes
    commits: tuple[SignedPayload, ...]

    def verify(self, cluster: Cluster, verifier: SignatureVerifier | None = None) -> bool:
        """True when `commits` are validly signed COMMITs of this instance, round and value
        from a quorum of distinct members: anyone can check a decision they did not see made."""
        commits = quorum_of(
            cluster,
            verifier or SignatureVerifier(),
            self.instance,
            self.commits,
            MessageKind.COMMIT,
            self.round,
        )
        vhash = value_hash(self.value)
        return commits is not None and all(p.value_hash == vhash for p in commits)


@dataclass(frozen=True, slots=True)
class Decided:
    decision: Decision


Action = Broadcast | Unicast | StartTimer | Decided


class QbftInstance:
    """State of one consensus instance at one node."""

    def __init__(
        self,
        instance: bytes,
        cluster: Cluster,
        signer: Signer,
        validate: Validator,
        *,
        timer: RoundTimer | None = None,
        verifier: SignatureVerifier | None = None,
    ) -> None:
        if len(instance) != 32:
            raise ConsensusError("an instance id is 32 bytes")
        self.instance = instance
        self.cluster = cluster
        self.signer = signer
        self.me = signer.address
        if self.me not in cluster.index:
            raise ConsensusError("this node is not a member of the cluster")
        self.validate = validate
        self.timer = timer or ExponentialTimer()
        self.verifier = verifier or SignatureVerifier()
        self.round = 1
        self.input: bytes | None = None
        self.accepted: QbftMessage | None = None  # proposal accepted in the current round
        self.values: dict[bytes, bytes] = {}  # value hash → value of accepted proposals
        self.prepares: dict[int, dict[bytes, SignedPayload]] = {}
        self.commits: dict[int, dict[bytes, SignedPayload]] = {}
        self.round_changes: dict[bytes, QbftMessage] = {}  # sender → its highest ROUND-CHANGE
        self.prepared_round = 0
        self.prepared_value = b""
        self.prepared_cert: tuple[SignedPayload, ...] = ()
        self.committed_round = 0
        self.proposed_round = 0
        self.decision: Decision | None = None
        self.decided_message: QbftMessage | None = None
        self.answered: dict[bytes, int] = {}  # sender → highest round answered with DECIDED
        self.dropped = 0
        self._out: list[Action] = []
        self._local: list[QbftMessage] = []

    # ----------------------------------------------------------------- inputs
    def start(self, value: bytes) -> list[Action]:
        """Begin with our own input value: start the round timer, propose if leader."""
        self._out = []
        if self.input is None and self.decision is None:
            self.input = value
            self._out.append(self._timer())
            if self.round == 1 and self._is_leader(1):
                self.proposed_round = 1
                self._broadcast(self._signed(MessageKind.PROPOSAL, 1, value_hash(value)), value)
            else:
                self._try_propose()
        return self._drain()

    def receive(self, message: QbftMessage) -> list[Action]:
        """Handle a message from the network; unauthenticated or malformed ones are dropped."""
        self._out = []
        if self._useless(message):
            return []
        sender = self.verifier.signer(message.signed)
        if sender not in self.cluster.index or message.instance != self.instance:
            self.dropped += 1
            return []
        self._dispatch(message, sender)
        return self._drain()

    def on_timeout(self, round: int) -> list[Action]:
        """The timer of `round` expired (stale timers are ignored)."""
        self._out = []
        if self.decision is None and round == self.round and round < MAX_ROUND:
            self._enter_round(round + 1)
            self._send_round_change()
        return self._drain()

    def _useless(self, message: QbftMessage) -> bool:
        """Messages that cannot change the state are dropped before the costly signature
        recovery: anything but ROUND-CHANGE once decided, PREPAREs of a round already
        committed."""
        kind = message.kind
        if self.decision is not None:
            return kind is not MessageKind.ROUND_CHANGE
        return kind is MessageKind.PREPARE and message.round <= self.committed_round

    # --------------------------------------------------------------- dispatch
    def _dispatch(self, message: QbftMessage, sender: bytes) -> None:
        kind = message.kind
        if kind is MessageKind.ROUND_CHANGE:
            self._on_round_change(message, sender)
        elif self.decision is not None:
            return
        elif kind is MessageKind.PROPOSAL:
            self._on_proposal(message, sender)
        elif kind is MessageKind.PREPARE:
            self._on_vote(self.prepares, message, sender)
            self._check_prepared()
        elif kind is MessageKind.COMMIT:
            self._on_vote(self.commits, message, sender)
            self._check_committed(message.round, message.payload.value_hash)
        elif kind is MessageKind.DECIDED:
            self._on_decided(message)

    def _drain(self) -> list[Action]:
        while self._local:
            self._dispatch(self._local.pop(0), self.me)
        out, self._out = self._out, []
        return out

    # ------------------------------------------------------------------ rules
    def _on_proposal(self, message: QbftMessage, sender: bytes) -> None:
        r = message.round
        fresh = r > self.round or (r == self.round and self.accepted is None)
        if (
            not fresh
            or r > MAX_ROUND
            or sender != self.cluster.leader(self.instance, r)
            or value_hash(message.value) != message.payload.value_hash
            or not self._justify_proposal(message)
        ):
            self.dropped += 1
            return
        if r > self.round:
            self._enter_round(r)
        self.accepted = message
        self.values[message.payload.value_hash] = message.value
        self._broadcast(self._signed(MessageKind.PREPARE, r, message.payload.value_hash))
        self._check_prepared()
        self._check_committed(r, message.payload.value_hash)

    def _justify_proposal(self, message: QbftMessage) -> bool:
        r, vhash = message.round, message.payload.value_hash
        if r == 1:
            return self.validate(message.value)
        round_changes = self._quorum_of(message.round_changes, MessageKind.ROUND_CHANGE, r)
        if round_changes is None or not all(_prepared_fields_ok(p) for p in round_changes):
            return False
        highest = max(p.prepared_round for p in round_changes)
        if highest == 0:
            return self.validate(message.value)
        if not any(p.prepared_round == highest and p.value_hash == vhash for p in round_changes):
            return False
        prepares = self._quorum_of(message.prepares, MessageKind.PREPARE, highest)
        return prepares is not None and all(p.value_hash == vhash for p in prepares)

    def _on_vote(
        self, store: dict[int, dict[bytes, SignedPayload]], message: QbftMessage, sender: bytes
    ) -> None:
        r = message.round
        if r < 1 or r > self.round + ROUND_LOOKAHEAD or (store is self.prepares and r < self.round):
            self.dropped += 1
            return
        votes = store.setdefault(r, {})
        if sender not in votes:  # first vote per sender and round counts: duplicates are ignored
            votes[sender] = message.signed

    def _check_prepared(self) -> None:
        if self.accepted is None or self.committed_round >= self.round:
            return
        vhash = self.accepted.payload.value_hash
        votes = [
            s for s in self.prepares.get(self.round, {}).values() if s.payload.value_hash == vhash
        ]
        if len(votes) < self.cluster.quorum:
            return
        self.prepared_round, self.prepared_value = self.round, self.accepted.value
        self.prepared_cert = tuple(votes[: self.cluster.quorum])
        self.committed_round = self.round
        self._broadcast(self._signed(MessageKind.COMMIT, self.round, vhash))

    def _check_committed(self, r: int, vhash: bytes) -> None:
        if self.decision is not None or vhash not in self.values:
            return
        votes = [s for s in self.commits.get(r, {}).values() if s.payload.value_hash == vhash]
        if len(votes) >= self.cluster.quorum:
            self._decide(r, self.values[vhash], tuple(votes[: self.cluster.quorum]))

    def _on_decided(self, message: QbftMessage) -> None:
        decision = Decision(self.instance, message.round, message.value, message.commits)
        if not decision.verify(self.cluster, self.verifier):
            self.dropped += 1
            return
        self._decide(message.round, message.value, message.commits)

    def _on_round_change(self, message: QbftMessage, sender: bytes) -> None:
        if self.decision is not None:
            if message.round > self.answered.get(sender, 0):
                self.answered[sender] = message.round
                self._out.append(Unicast(sender, self._decided_message(self.decision)))
            return
        previous = self.round_changes.get(sender)
        if (
            message.round < 2
            or message.round > MAX_ROUND
            or (previous is not None and previous.round >= message.round)
            or not self._justify_round_change(message)
        ):
            self.dropped += 1
            return
        self.round_changes[sender] = message
        ahead = sorted(m.round for m in self.round_changes.values() if m.round > self.round)
        if len(ahead) > self.cluster.f:
            # f+1 senders reached at least this round, so at least one honest node did.
            self._enter_round(ahead[-(self.cluster.f + 1)])
            self._send_round_change()
        self._try_propose()

    def _justify_round_change(self, message: QbftMessage) -> bool:
        p = message.payload
        if not _prepared_fields_ok(p):
            return False
        if p.prepared_round == 0:
            return not message.value
        if value_hash(message.value) != p.value_hash:
            return False
        prepares = self._quorum_of(message.prepares, MessageKind.PREPARE, p.prepared_round)
        return prepares is not None and all(q.value_hash == p.value_hash for q in prepares)

    def _try_propose(self) -> None:
        r = self.round
        if (
            self.decision is not None
            or self.proposed_round >= r
            or r == 1
            or not self._is_leader(r)
        ):
            return
        justification = [m for m in self.round_changes.values() if m.round == r]
        if len(justification) < self.cluster.quorum:
            return
        prepared = [m for m in justification if m.payload.prepared_round > 0]
        if prepared:
            best = max(prepared, key=lambda m: m.payload.prepared_round)
            value, prepares = best.value, best.prepares
        elif self.input is not None:
            value, prepares = self.input, ()
        else:
            return  # nothing to propose until our own input arrives
        self.proposed_round = r
        self._broadcast(
            self._signed(MessageKind.PROPOSAL, r, value_hash(value)),
            value,
            round_changes=tuple(m.signed for m in justification),
            prepares=prepares,
        )

    # ---------------------------------------------------------------- helpers
    def _quorum_of(
        self, items: Iterable[SignedPayload], kind: MessageKind, r: int
    ) -> list[Payload] | None:
        return quorum_of(self.cluster, self.verifier, self.instance, items, kind, r)

    def _decide(self, r: int, value: bytes, commits: tuple[SignedPayload, ...]) -> None:
        self.decision = Decision(self.instance, r, value, commits)
        self._out.append(Decided(self.decision))

    def _decided_message(self, decision: Decision) -> QbftMessage:
        if self.decided_message is None:
            vhash = value_hash(decision.value)
            signed = self._signed(MessageKind.DECIDED, decision.round, vhash)
            self.decided_message = QbftMessage(signed, decision.value, commits=decision.commits)
        return self.decided_message

    def _enter_round(self, r: int) -> None:
        self.round = r
        self.accepted = None
        for old in [k for k in self.prepares if k < r]:
            del self.prepares[old]
        self._out.append(self._timer())

    def _send_round_change(self) -> None:
        prepared = self.prepared_round > 0
        payload = self._signed(
            MessageKind.ROUND_CHANGE,
            self.round,
            value_hash(self.prepared_value) if prepared else ZERO_HASH,
            self.prepared_round,
        )
        self._broadcast(payload, self.prepared_value, prepares=self.prepared_cert)

    def _timer(self) -> StartTimer:
        return StartTimer(self.instance, self.round, self.timer.duration(self.round))

    def _is_leader(self, r: int) -> bool:
        return self.cluster.leader(self.instance, r) == self.me

    def _signed(
        self, kind: MessageKind, r: int, vhash: bytes = ZERO_HASH, prepared_round: int = 0
    ) -> SignedPayload:
        signed = self.signer.sign(Payload(kind, self.instance, r, vhash, prepared_round))
        self.verifier.remember(signed, self.me)
        return signed

    def _broadcast(
        self,
        signed: SignedPayload,
        value: bytes = b"",
        *,
        round_changes: tuple[SignedPayload, ...] = (),
        prepares: tuple[SignedPayload, ...] = (),
    ) -> None:
        message = QbftMessage(signed, value, round_changes, prepares)
        self._out.append(Broadcast(message))
        self._local.append(message)


def quorum_of(
    cluster: Cluster,
    verifier: SignatureVerifier,
    instance: bytes,
    items: Iterable[SignedPayload],
    kind: MessageKind,
    r: int,
) -> list[Payload] | None:
    """Payloads of a justification if every entry is a validly signed `kind` message of
    `instance` and round `r` from a member, and they come from a quorum of distinct senders."""
    senders: set[bytes] = set()
    payloads = []
    for signed in items:
        p = signed.payload
        if p.kind is not kind or p.instance != instance or p.round != r:
            return None
        sender = verifier.signer(signed)
        if sender not in cluster.index:
            return None
        if sender not in senders:
            senders.add(sender)
            payloads.append(p)
    return payloads if len(senders) >= cluster.quorum else None


def _prepared_fields_ok(p: Payload) -> bool:
    """A ROUND-CHANGE either carries no prepared value, or one prepared in an earlier round."""
    if p.prepared_round == 0:
        return p.value_hash == ZERO_HASH
    return p.prepared_round < p.round
