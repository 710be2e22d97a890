"""Consensus stage: QBFT among a committee on the exact data to sign, over P2P.

One QBFT instance per (duty type, slot, committee). A committee is the set of nodes that share
a group of validators (for a Diva validator: its cluster's operators); every validator of the
node with the same member set rides on the same instance, so the attestation data of a slot
is agreed once for all of them. `nektar.consensus` is the pure state machine; this module
moves its messages over `nektar.p2p` and runs its round timers on the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from nektar.consensus import (
    Action,
    Broadcast,
    Cluster,
    Decided,
    LinearTimer,
    QbftManager,
    SignatureVerifier,
    StartTimer,
    Unicast,
    instance_id,
)
from nektar.crypto.node_key import NodeKey
from nektar.p2p import Host, P2PError
from nektar.stinger.duties import Duty
from nektar.stinger.metrics import Metrics

log = logging.getLogger("nektar.stinger.consensus")

PROTOCOL = "nektar/qbft/1"


@dataclass(frozen=True)
class Committee:
    """Nodes that run consensus together: members sorted by address (QBFT member order)."""

    members: tuple[bytes, ...]
    id: bytes = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "members", tuple(sorted(self.members)))
        object.__setattr__(self, "id", hashlib.sha256(b"".join(self.members)).digest())

    @classmethod
    def of(cls, addresses: Iterable[bytes]) -> Committee:
        return cls(tuple(addresses))


class ConsensusService:
    """Runs QBFT instances for every committee this node belongs to."""

    def __init__(
        self,
        host: Host,
        key: NodeKey,
        metrics: Metrics,
        round_timeout: float = 1.0,
        faults: Sequence[str] = (),
    ) -> None:
        self.host = host
        self.key = key
        self.metrics = metrics
        self.timer = LinearTimer(base=round_timeout, increment=round_timeout / 2)
        self.verifier = SignatureVerifier()
        self.bad_proposals = "bad-proposals" in faults  # test hook: a byzantine leader
        self.committees: dict[bytes, Committee] = {}
        self._managers: dict[bytes, QbftManager] = {}
        self._waiters: dict[bytes, asyncio.Future[bytes]] = {}
        self._started: dict[bytes, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        host.register(PROTOCOL, self._on_message)

    def add_committee(self, committee: Committee) -> None:
        if committee.id in self._managers:
            return
        self.committees[committee.id] = committee
        self._managers[committee.id] = QbftManager(
            self.key, Cluster(committee.members), timer=self.timer, verifier=self.verifier
        )

    async def decide(
        self,
        committee: Committee,
        duty: Duty,
        value: bytes,
        validate: Callable[[bytes], bool],
        *,
        timeout: float,
        expiry_slot: int,
    ) -> bytes:
        """Propose `value` and return the value the committee decides (maybe another
        member's). Raises TimeoutError when no decision comes within `timeout` seconds."""
        self.add_committee(committee)
        instance = instance_id(int(duty.type), duty.slot, committee.id)
        waiter = self._waiters.get(instance)
        if waiter is None:
            waiter = self._waiters[instance] = asyncio.get_running_loop().create_future()
        self._started[instance] = time.monotonic()
        if self.bad_proposals:
            value = hashlib.sha256(value).digest()  # no duty's validation accepts this
        actions = self._managers[committee.id].start(instance, value, validate, expiry_slot)
        await self._perform(committee, actions)
        try:
            async with asyncio.timeout(timeout):
                return await asyncio.shield(waiter)
        except TimeoutError:
            self.metrics.consensus_timeouts.labels(duty.type.name.lower()).inc()
            raise

    def expire(self, horizon_slot: int) -> None:
        """Drop instances of duties before `horizon_slot` (called every slot)."""
        for manager in self._managers.values():
            manager.expire(horizon_slot)
        live = {i for m in self._managers.values() for i in m.instances}
        for instance in [i for i in self._waiters if i not in live]:
            waiter = self._waiters.pop(instance)
            self._started.pop(instance, None)
            if not waiter.done():
                waiter.cancel()

    async def _on_message(self, peer: bytes, payload: bytes) -> None:
        committee = self.committees.get(payload[:32])
        if committee is None or peer not in committee.members:
            log.debug("QBFT message from 0x%s for an unknown committee dropped", peer.hex())
            return
        actions = self._managers[committee.id].receive(payload[32:])
        await self._perform(committee, actions)

    def _on_timeout(self, committee: Committee, instance: bytes, round_: int) -> None:
        actions = self._managers[committee.id].on_timeout(instance, round_)
        if actions:
            self._spawn(self._perform(committee, actions))

    def _spawn(self, coro) -> None:  # type: ignore[no-untyped-def]
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _perform(self, committee: Committee, actions: list[Action]) -> None:
        loop = asyncio.get_running_loop()
        for action in actions:
            if isinstance(action, Broadcast):
                data = committee.id + action.message.encode()
                await self.host.broadcast(PROTOCOL, data, peers=committee.members)
            elif isinstance(action, Unicast):
                try:
                    await self.host.send(
                        action.to, PROTOCOL, committee.id + action.message.encode()
                    )
                except P2PError as exc:
                    log.debug("QBFT unicast to 0x%s failed: %s", action.to.hex(), exc)
            elif isinstance(action, StartTimer):
                loop.call_later(
                    action.seconds, self._on_timeout, committee, action.instance, action.round
                )
            elif isinstance(action, Decided):
                self._decided(action)

    def _decided(self, action: Decided) -> None:
        decision = action.decision
        waiter = self._waiters.get(decision.instance)
        if waiter is None or waiter.done():
            return
        waiter.set_result(decision.value)
        self.metrics.consensus_rounds.observe(decision.round)
        started = self._started.get(decision.instance)
        if started is not None:
            self.metrics.stage_latency.labels("consensus").observe(time.monotonic() - started)
