"""A deterministic network simulator for QBFT: seeded RNG, virtual time, real messages.

Honest nodes are `QbftManager`s exchanging encoded bytes. Before GST the network delays
messages at random (so it reorders them), drops some, and partitions up to f honest nodes
(those that decided first) from the rest until the partition heals; after GST every message
arrives within `delta`.
Byzantine members (up to f) sign with their real keys and equivocate, send conflicting
proposals, replay old messages and send invalid justifications and certificates.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field

from qbft_harness import Forger, cluster_of, node_keys, valid

from nektar.consensus.manager import QbftManager
from nektar.consensus.messages import MessageKind, QbftMessage, SignatureVerifier, value_hash
from nektar.consensus.qbft import Broadcast, Cluster, Decided, Decision, StartTimer, Unicast
from nektar.consensus.timers import ExponentialTimer

INSTANCE_SLOT = 7


@dataclass(frozen=True)
class Scenario:
    n: int
    seed: int
    byzantine: int = 0  # members (the last ones) that attack
    partitioned: int = 0  # honest members isolated from `split` until `heal`
    gst: float = 0.0  # global stabilisation time (virtual seconds)
    split: float = 0.0  # < 0: at the first decision
    heal: float = 0.0  # the partition ends here (≤ gst)
    drop_rate: float = 0.0  # before GST
    # before the first decision: lost commits leave nodes prepared but undecided, the setting
    # in which a byzantine leader tries to make them decide something else
    commit_drop_rate: float = 0.0
    max_delay: float = 0.05  # before GST; after GST `delta`
    delta: float = 0.05
    start_skew: float = 0.0  # honest nodes start their instance at random within this
    horizon: float = 400.0  # virtual seconds after GST by which every honest node decides


@dataclass
class Outcome:
    cluster: Cluster
    honest: list[int]
    decisions: dict[int, Decision] = field(default_factory=dict)
    decided_at: dict[int, float] = field(default_factory=dict)
    delivered: int = 0
    dropped: int = 0


class Byzantine:
    """A member that reacts to every message it receives with random attacks."""

    def __init__(self, forger: Forger, index: int, sim: Simulation) -> None:
        self.forger, self.index, self.sim = forger, index, sim
        self.seen: list[QbftMessage] = []

    def receive(self, message: QbftMessage) -> None:
        self.seen.append(message)
        if len(self.seen) > 200:
            self.seen.pop(0)
        rng = self.sim.rng
        if message.kind is MessageKind.ROUND_CHANGE:
            self.conflicting_proposals(message.round)  # seize every round it leads
            if rng.random() < 0.5:  # or help honest leaders reach a round-change quorum
                self._send(self.forger.round_change(message.round), everyone=True)
        if rng.random() < 0.5:
            rng.choice(self.ATTACKS)(self, max(1, message.round))

    def _send(self, message: QbftMessage, everyone: bool = False) -> None:
        """Send to the honest nodes, or to a random subset so each sees something different."""
        for to in self.sim.honest:
            if everyone or self.sim.rng.random() < 0.7:
                self.sim.deliver(self.index, to, message.encode())

    def _value(self) -> bytes:
        return self.sim.rng.choice([b"ok-byz-1", b"ok-byz-2", b"bad-byz"])

    def conflicting_proposals(self, r: int) -> None:
        """As leader of r or r+1: different fresh values to different nodes, justified by the
        real round changes seen for that round but ignoring the values they prepared."""
        for target in (r, r + 1):
            if self.sim.cluster.leader(self.sim.instance, target) != self.forger.address:
                continue
            own = self.forger.round_change(target)
            senders, justification = {self.index}, [own.signed]
            for m in self.seen:
                sender = self.sim.cluster.index.get(self.sim.author(m))
                if (
                    m.kind is MessageKind.ROUND_CHANGE
                    and m.round == target
                    and sender not in senders
                ):
                    senders.add(sender)
                    justification.append(m.signed)
            coherent = self.sim.rng.random() < 0.8  # one valid value to all, or one per node
            for _ in range(1 if coherent else 2):
                value = b"ok-byz-0" if coherent else self._value()
                for m in (
                    self.forger.proposal(target, value, tuple(justification)),
                    self.forger.prepare(target, value),
                    self.forger.commit(target, value),
                ):
                    self._send(m, everyone=coherent)

    def equivocating_votes(self, r: int) -> None:
        """Votes for the values honest leaders proposed, and for others, to different nodes."""
        proposed = [m.value for m in self.seen if m.kind is MessageKind.PROPOSAL]
        for value in {self._value(), *proposed[-2:]}:
            self._send(self.forger.prepare(r, value))
            self._send(self.forger.commit(r, value))

    def replay(self, r: int) -> None:
        if self.seen:
            self._send(self.sim.rng.choice(self.seen))

    def unjustified_round_change(self, r: int) -> None:
        prepares = tuple(m.signed for m in self.seen if m.kind is MessageKind.PREPARE)
        rc = self.forger.round_change(r + 1, r, self._value(), prepares[-4:])
        self._send(rc)

    def future_proposal(self, r: int) -> None:
        own = self.forger.round_change(r + 2).signed
        self._send(self.forger.proposal(r + 2, self._value(), (own,) * 5))

    def forged_certificate(self, r: int) -> None:
        commits = tuple(m.signed for m in self.seen if m.kind is MessageKind.COMMIT)
        value = self._value()
        signed = self.forger.signed(MessageKind.DECIDED, r, value_hash(value))
        self._send(QbftMessage(signed, value, commits=commits[-6:]))

    ATTACKS = (
        conflicting_proposals,
        equivocating_votes,
        replay,
        unjustified_round_change,
        future_proposal,
        forged_certificate,
    )


class Simulation:
    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.rng = random.Random(scenario.seed)
        keys = node_keys(scenario.n)
        self.cluster = cluster_of(keys)
        self.instance = bytes([INSTANCE_SLOT]) * 32
        n_honest = scenario.n - scenario.byzantine
        self.honest = list(range(n_honest))
        self.partition: set[int] = set()
        timer = ExponentialTimer(base=0.2, cap=3.2)
        self.nodes = {i: QbftManager(keys[i], self.cluster, timer=timer) for i in self.honest}
        self.byzantine = {
            i: Byzantine(Forger(keys[i], self.instance), i, self)
            for i in range(n_honest, scenario.n)
        }
        self.verifier = SignatureVerifier()
        self.now = 0.0
        self.events: list[tuple[float, int, str, tuple]] = []
        self.seq = 0
        self.outcome = Outcome(self.cluster, self.honest)

    def author(self, message: QbftMessage) -> bytes | None:
        return self.verifier.signer(message.signed)

    def schedule(self, at: float, kind: str, args: tuple) -> None:
        self.seq += 1
        heapq.heappush(self.events, (at, self.seq, kind, args))

    def deliver(self, src: int, dst: int, data: bytes) -> None:
        s = self.scenario
        if self.now < s.gst:
            isolated = s.split <= self.now < s.heal
            cut = isolated and ((src in self.partition) != (dst in self.partition))
            drop = s.drop_rate
            if data[0] == MessageKind.COMMIT and not self.outcome.decisions:
                drop = s.commit_drop_rate
            if cut or self.rng.random() < drop:
                self.outcome.dropped += 1
                return
            delay = self.rng.uniform(0, s.max_delay)
        else:
            delay = self.rng.uniform(0, s.delta)
        self.schedule(self.now + delay, "message", (dst, data))

    def perform(self, node: int, actions: list) -> None:
        for action in actions:
            if isinstance(action, Broadcast):
                data = action.message.encode()
                for to in range(self.scenario.n):
                    if to != node:
                        self.deliver(node, to, data)
            elif isinstance(action, Unicast):
                self.deliver(node, self.cluster.index[action.to], action.message.encode())
            elif isinstance(action, StartTimer):
                self.schedule(self.now + action.seconds, "timeout", (node, action.round))
            elif isinstance(action, Decided) and node not in self.outcome.decisions:
                self.outcome.decisions[node] = action.decision
                self.outcome.decided_at[node] = self.now
                if self.scenario.split < 0 and not self.partition:
                    self._split()

    def _split(self) -> None:
        """Isolate up to f honest nodes, the ones that already decided first: cutting off
        the nodes that know the decision is the adversary's best chance to split the rest."""
        decided = [i for i in self.honest if i in self.outcome.decisions]
        others = [i for i in self.honest if i not in self.outcome.decisions]
        self.rng.shuffle(decided)
        self.rng.shuffle(others)
        self.partition = set((decided + others)[: self.scenario.partitioned])

    def run(self) -> Outcome:
        s = self.scenario
        if s.split >= 0:
            self.schedule(s.split, "split", (None,))
        for i in self.honest:
            value = b"ok-honest-%d" % i
            self.schedule(self.rng.uniform(0, s.start_skew), "start", (i, value))
        deadline = s.gst + s.horizon
        while self.events and len(self.outcome.decisions) < len(self.honest):
            self.now, _, kind, args = heapq.heappop(self.events)
            if self.now > deadline:
                break
            node = args[0]
            if kind == "split":
                self._split()
            elif kind == "start":
                self.perform(node, self.nodes[node].start(self.instance, args[1], valid, 1))
            elif kind == "timeout":
                self.perform(node, self.nodes[node].on_timeout(self.instance, args[1]))
            elif node in self.byzantine:
                self.byzantine[node].receive(QbftMessage.decode(args[1]))
            else:
                self.outcome.delivered += 1
                self.perform(node, self.nodes[node].receive(args[1]))
        return self.outcome
