"""A whole cluster of QBFT managers in one process, wired by an in-memory message queue.

Used for benchmarks and tests of many concurrent instances, and wherever all members live
in one process: every message still goes through `encode()`/`decode()` and real signature
checks; only the transport is replaced by a FIFO queue (no delays, no timers fire).
"""

from __future__ import annotations

import time
from collections import deque

from nektar.consensus.manager import QbftManager
from nektar.consensus.qbft import (
    Action,
    Broadcast,
    Decided,
    Decision,
    StartTimer,
    Unicast,
    Validator,
)


class LocalCluster:
    """Delivers every broadcast and unicast of its managers until the queue is empty."""

    def __init__(self, managers: list[QbftManager]) -> None:
        self.managers = managers
        self.by_address = {m.signer.address: i for i, m in enumerate(managers)}
        self.decisions: list[dict[bytes, Decision]] = [{} for _ in managers]
        self.timers: list[StartTimer] = []
        self.busy = [0.0] * len(managers)  # seconds each member spent handling its messages
        self._queue: deque[tuple[int, bytes]] = deque()

    def start(
        self, node: int, instance: bytes, value: bytes, validate: Validator, expiry: int
    ) -> None:
        """Give member `node` its input for `instance` (its messages are queued)."""
        started = time.perf_counter()
        self.perform(node, self.managers[node].start(instance, value, validate, expiry))
        self.busy[node] += time.perf_counter() - started

    def perform(self, node: int, actions: list[Action]) -> None:
        """Carry out the actions one manager returned (messages are queued, not delivered)."""
        for action in actions:
            if isinstance(action, Broadcast):
                data = action.message.encode()
                self._queue.extend((to, data) for to in range(len(self.managers)) if to != node)
            elif isinstance(action, Unicast):
                self._queue.append((self.by_address[action.to], action.message.encode()))
            elif isinstance(action, Decided):
                self.decisions[node][action.decision.instance] = action.decision
            elif isinstance(action, StartTimer):
                self.timers.append(action)

    def run(self) -> int:
        """Deliver queued messages (and the ones they cause) until none is left; returns
        how many were delivered."""
        delivered = 0
        while self._queue:
            to, data = self._queue.popleft()
            started = time.perf_counter()
            self.perform(to, self.managers[to].receive(data))
            self.busy[to] += time.perf_counter() - started
            delivered += 1
        return delivered
