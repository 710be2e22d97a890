"""Wall-clock driver of a DevnetBeaconNode: slot starts and attestation deadlines.

Tests and benchmarks don't use it: they call `node.advance_slots(n)`, which runs the same
steps without waiting. `pause()`/`resume()` stop the clock from starting new slots (the node
still answers queries); after a pause the clock jumps to the wall-clock slot, and the slots
in between are simply empty, as on a real network after an outage.
"""

from __future__ import annotations

import asyncio
import logging
import time

from nektar.beacon.chain.epoch import TransitionError
from nektar.beacon.chain.interface import BeaconNodeError
from nektar.beacon.chain.node import DevnetBeaconNode

log = logging.getLogger(__name__)


class SlotClock:
    def __init__(self, node: DevnetBeaconNode, time_fn=time.time) -> None:  # type: ignore[no-untyped-def]
        self.node = node
        self.time_fn = time_fn
        self._running = asyncio.Event()
        self._running.set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def wall_slot(self) -> tuple[int, float]:
        """(slot in progress, seconds into it) by the wall clock."""
        genesis = self.node.genesis().genesis_time
        elapsed = max(0.0, self.time_fn() - genesis)
        per_slot = self.node.cfg.seconds_per_slot
        return int(elapsed // per_slot), elapsed % per_slot

    async def run(self, until_slot: int | None = None) -> None:
        """Drive the node until `until_slot` has started (forever if None); cancel to stop."""
        per_slot = self.node.cfg.seconds_per_slot
        loop = asyncio.get_running_loop()
        while until_slot is None or self.node.current_slot() < until_slot:
            await self._running.wait()
            slot, into = self.wall_slot()
            if slot > self.node.current_slot():
                await self._step(loop, self.node.start_slot, slot)
            slot, into = self.wall_slot()
            deadline = per_slot / 3
            if into < deadline:
                await asyncio.sleep(deadline - into)
                await self._step(loop, self.node.attestation_deadline, slot)
            slot, into = self.wall_slot()
            await asyncio.sleep(max(0.0, per_slot - into) + 0.001)

    @staticmethod
    async def _step(loop: asyncio.AbstractEventLoop, step, slot: int) -> None:  # type: ignore[no-untyped-def]
        """Run one node step off the loop; a fault in one slot is logged, the clock goes on
        (a real network does not stop because one slot went wrong)."""
        try:
            await loop.run_in_executor(None, step, slot)
        except (BeaconNodeError, TransitionError) as exc:
            log.error("slot %d: %s failed: %s", slot, step.__name__, exc)
