"""Round-timer policies: how long a QBFT round may last before a ROUND-CHANGE.

The state machine never reads a clock; it asks a policy for the duration of round r and emits
`StartTimer(instance, r, seconds)`. Durations grow with the round so that, once the network is
synchronous again, some round lasts long enough for an honest leader to finish it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class RoundTimer(Protocol):
    def duration(self, round: int) -> float:
        """Seconds that round `round` (≥ 1) may last."""
        ...


@dataclass(frozen=True)
class ExponentialTimer:
    """base × 2^(r-1), capped: few rounds to outgrow any delay, bounded worst case."""

    base: float = 1.0
    cap: float = 16.0

    def duration(self, round: int) -> float:
        return min(self.base * 2.0 ** min(round - 1, 62), self.cap)


@dataclass(frozen=True)
class LinearTimer:
    """base + (r-1) × increment, as Charon's increasing round timer: keeps late rounds short
    enough to fit in a slot while still growing without bound."""

    base: float = 0.75
    increment: float = 0.25

    def duration(self, round: int) -> float:
        return self.base + (round - 1) * self.increment
