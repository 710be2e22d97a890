"""Many QBFT instances at one node: routing, bounded buffering and garbage collection.

Still pure: the caller feeds bytes from the network, timer expiries and the current expiry
horizon (e.g. the slot), and performs the returned actions. Memory is bounded by
`max_instances` live instances, `max_pending` buffered instances × `pending_per_instance`
messages, and the signature cache of the shared verifier.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from nektar.consensus.messages import MessageError, QbftMessage, SignatureVerifier, Signer
from nektar.consensus.qbft import Action, Cluster, Decision, QbftInstance, Validator
from nektar.consensus.timers import ExponentialTimer, RoundTimer
from nektar.crypto.node_key import NodeKey


@dataclass
class ManagerStats:
    decoded_errors: int = 0  # bytes that were not a QBFT message
    unauthenticated: int = 0  # not signed by a cluster member
    evicted: int = 0  # instances or buffered messages dropped to respect the bounds
    expired: int = 0  # instances garbage-collected by `expire`


class QbftManager:
    """Runs the instances of one cluster at one node, keyed by instance id."""

    def __init__(
        self,
        key: NodeKey,
        cluster: Cluster,
        *,
        timer: RoundTimer | None = None,
        verifier: SignatureVerifier | None = None,
        max_instances: int = 4096,
        max_pending: int = 4096,
        pending_per_instance: int | None = None,
    ) -> None:
        self.signer = Signer(key)
        self.cluster = cluster
        self.timer = timer or ExponentialTimer()
        self.verifier = verifier or SignatureVerifier()
        self.max_instances = max_instances
        self.max_pending = max_pending
        # enough for every member's proposal, prepare, commit and round change of a few rounds
        self.pending_per_instance = pending_per_instance or 8 * cluster.n
        self.instances: OrderedDict[bytes, QbftInstance] = OrderedDict()
        self.expiry: dict[bytes, int] = {}
        self.pending: OrderedDict[bytes, list[QbftMessage]] = OrderedDict()
        self.stats = ManagerStats()

    def start(
        self, instance: bytes, value: bytes, validate: Validator, expiry: int
    ) -> list[Action]:
        """Start (or give our input to) an instance; `expiry` is the horizon after which
        `expire` may drop it (e.g. the last slot in which its duty is useful)."""
        machine = self.instances.get(instance)
        if machine is None:
            self._make_room()
            machine = QbftInstance(
                instance,
                self.cluster,
                self.signer,
                validate,
                timer=self.timer,
                verifier=self.verifier,
            )
            self.instances[instance] = machine
            self.expiry[instance] = expiry
        actions = machine.start(value)
        for message in self.pending.pop(instance, []):
            actions += machine.receive(message)
        return actions

    def receive(self, data: bytes) -> list[Action]:
        """Decode and route bytes from a peer; messages of instances not started yet are
        buffered (bounded) and replayed by `start`."""
        try:
            message = QbftMessage.decode(data)
        except MessageError:
            self.stats.decoded_errors += 1
            return []
        return self.receive_message(message)

    def receive_message(self, message: QbftMessage) -> list[Action]:
        machine = self.instances.get(message.instance)
        if machine is not None:
            return machine.receive(message)
        if self.verifier.signer(message.signed) not in self.cluster.index:
            self.stats.unauthenticated += 1
            return []
        buffered = self.pending.get(message.instance)
        if buffered is None:
            if len(self.pending) >= self.max_pending:
                self.pending.popitem(last=False)
                self.stats.evicted += 1
            buffered = self.pending[message.instance] = []
        if len(buffered) < self.pending_per_instance:
            buffered.append(message)
        else:
            self.stats.evicted += 1
        return []

    def on_timeout(self, instance: bytes, round: int) -> list[Action]:
        machine = self.instances.get(instance)
        return machine.on_timeout(round) if machine is not None else []

    def decision(self, instance: bytes) -> Decision | None:
        machine = self.instances.get(instance)
        return machine.decision if machine is not None else None

    def expire(self, horizon: int) -> int:
        """Drop instances whose expiry is before `horizon`; returns how many were dropped.
        Decided instances stay until then so that they can still answer lagging peers."""
        stale = [i for i, e in self.expiry.items() if e < horizon]
        for instance in stale:
            del self.instances[instance]
            del self.expiry[instance]
        self.stats.expired += len(stale)
        return len(stale)

    def _make_room(self) -> None:
        if len(self.instances) < self.max_instances:
            return
        victim = next((i for i, m in self.instances.items() if m.decision is not None), None)
        if victim is None:
            victim = next(iter(self.instances))
        del self.instances[victim]
        del self.expiry[victim]
        self.stats.evicted += 1
