"""Per-peer token bucket: a steady message rate with a bounded burst."""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    """Allows `rate` messages per second on average and up to `burst` at once.

    One bucket per peer (kept across reconnects) so that a flooding member cannot starve the
    event loop; messages over the limit are dropped and counted, not queued.
    """

    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = burst
        self._updated = clock()

    def allow(self, cost: float = 1.0) -> bool:
        """Take `cost` tokens if available."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        if self._tokens >= cost:
            self._tokens -= cost
            return True
        return False
