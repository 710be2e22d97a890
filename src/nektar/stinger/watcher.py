"""`ChainWatcher`: follows the Diva contracts' events for the node's chain services.

The watcher polls the ValidatorRegistry and the OperatorRegistry through `nektar.chain` (any
backend: the in-process EVM or a JSON-RPC node), hands each new event to the listeners
subscribed to its name, and then stores the next block to read in `<data_dir>/chain_cursor.json`.
A restarted node resumes from that cursor; the events of the last unfinished poll are seen
again, so listeners are idempotent (they check the contract's state before acting).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

from nektar.chain.diva_ops import OperatorRegistry, ValidatorRegistry
from nektar.chain.errors import ChainError
from nektar.chain.types import Event

log = logging.getLogger("nektar.stinger.watcher")

Listener = Callable[[Event], None]

CURSOR_FILE = "chain_cursor.json"


class WatcherError(ValueError):
    """The stored cursor is unreadable; the message names the file."""


class ChainWatcher:
    """Polls the protocol contracts' events from a persisted block cursor."""

    def __init__(
        self,
        validators: ValidatorRegistry,
        operators: OperatorRegistry,
        data_dir: Path,
        poll_interval: float = 0.5,
        start_block: int = 0,
    ) -> None:
        self.validators = validators
        self.operators = operators
        self.backend = validators.contract.backend
        self.cursor_path = data_dir / CURSOR_FILE
        self.poll_interval = poll_interval
        self.next_block = self._load_cursor(start_block)
        self._listeners: dict[str, list[Listener]] = {}
        self._task: asyncio.Task[None] | None = None

    def _load_cursor(self, default: int) -> int:
        if not self.cursor_path.exists():
            return default
        try:
            return int(json.loads(self.cursor_path.read_text())["next_block"])
        except (ValueError, KeyError, TypeError) as exc:
            raise WatcherError(f"invalid chain cursor {self.cursor_path}: {exc}") from exc

    def _store_cursor(self) -> None:
        self.cursor_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.cursor_path.with_name(f".{CURSOR_FILE}.tmp")
        tmp.write_text(json.dumps({"next_block": self.next_block}))
        os.replace(tmp, self.cursor_path)

    def subscribe(self, event_name: str, listener: Listener) -> None:
        """Call `listener(event)` for every new event called `event_name` (either contract)."""
        self._listeners.setdefault(event_name, []).append(listener)

    def poll(self) -> list[Event]:
        """Read the events mined since the cursor, dispatch them in chain order, advance."""
        latest = self.backend.block_number()
        if latest < self.next_block:
            return []
        events: list[Event] = []
        for address in (self.validators.address, self.operators.address):
            events += self.backend.get_logs(address, None, self.next_block, latest)
        events.sort(key=lambda e: (e.block_number, e.log_index))
        for event in events:
            for listener in self._listeners.get(event.name, ()):
                try:
                    listener(event)
                except Exception:  # a listener bug must not stop the other services
                    log.exception("listener for %s failed", event.name)
        self.next_block = latest + 1
        self._store_cursor()
        return events

    async def run(self) -> None:
        while True:
            try:
                self.poll()
            except ChainError as exc:
                log.warning("chain poll failed (%s); retrying", exc)
            await asyncio.sleep(self.poll_interval)

    async def start(self) -> None:
        self._task = asyncio.create_task(self.run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
