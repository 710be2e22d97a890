"""Runs a `QbftManager` on an asyncio event loop: the thin layer between the pure state
machine and a transport.

The driver owns what the machine leaves out: round timers (`loop.call_later`), sending
(through the caller's async `broadcast(data)` / `send(peer, data)`, e.g. `nektar.p2p.Host`
bound to a protocol id) and waiting for decisions. It is transport-agnostic, so consensus
still depends on nothing above crypto.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

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

log = logging.getLogger(__name__)

BroadcastFn = Callable[[bytes], Awaitable[object]]
SendFn = Callable[[bytes, bytes], Awaitable[object]]


class AsyncQbft:
    """Feed it bytes from the network with `receive`; `decide` returns the agreed value."""

    def __init__(self, manager: QbftManager, broadcast: BroadcastFn, send: SendFn) -> None:
        self.manager = manager
        self._broadcast = broadcast
        self._send = send
        self._waiters: dict[bytes, asyncio.Future[Decision]] = {}
        self._timers: set[asyncio.TimerHandle] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.send_errors = 0

    def receive(self, data: bytes) -> None:
        """Handle bytes a peer sent (call from the transport's handler)."""
        self._perform(self.manager.receive(data))

    async def decide(
        self, instance: bytes, value: bytes, validate: Validator, expiry: int
    ) -> Decision:
        """Propose `value` for `instance` and wait for the cluster's decision (which may be
        another member's value). One call per instance; cancel it (e.g. `asyncio.timeout`)
        to give up waiting (the instance itself lives on until the manager expires it)."""
        known = self.manager.decision(instance)
        if known is not None:
            return known
        waiter = self._waiters[instance] = asyncio.get_running_loop().create_future()
        self._perform(self.manager.start(instance, value, validate, expiry))
        try:
            return await waiter
        finally:
            self._waiters.pop(instance, None)

    def close(self) -> None:
        """Cancel pending timers and sends (the manager keeps its state)."""
        for timer in self._timers:
            timer.cancel()
        for task in self._tasks:
            task.cancel()
        self._timers.clear()

    def _perform(self, actions: list[Action]) -> None:
        loop = asyncio.get_running_loop()
        for action in actions:
            if isinstance(action, Broadcast):
                self._spawn(self._broadcast(action.message.encode()))
            elif isinstance(action, Unicast):
                self._spawn(self._send(action.to, action.message.encode()))
            elif isinstance(action, StartTimer):
                self._schedule(loop, action)
            elif isinstance(action, Decided):
                waiter = self._waiters.get(action.decision.instance)
                if waiter is not None and not waiter.done():
                    waiter.set_result(action.decision)

    def _schedule(self, loop: asyncio.AbstractEventLoop, timer: StartTimer) -> None:
        def expire() -> None:
            self._timers.discard(handle)
            self._perform(self.manager.on_timeout(timer.instance, timer.round))

        handle = loop.call_later(timer.seconds, expire)
        self._timers.add(handle)

    def _spawn(self, send: Awaitable[object]) -> None:
        task = asyncio.ensure_future(self._quietly(send))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _quietly(self, send: Awaitable[object]) -> None:
        # QBFT tolerates lost messages (round changes recover), so a failed send (peer down,
        # connection closing) is counted, not raised into the protocol.
        try:
            await send
        except Exception as exc:
            self.send_errors += 1
            log.debug("QBFT send failed: %r", exc)
