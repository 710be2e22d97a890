"""NTP-style round-trip and clock-offset estimation from ping/pong timestamps.

t1: ping sent (our wall clock), t2: ping received (peer clock), t3: pong sent (peer clock),
t4: pong received (our wall clock). RTT = (t4 − t1) − (t3 − t2); offset = ((t2 − t1) + (t3 − t4))/2
is how far the peer's clock is ahead of ours. The RTT uses our monotonic clock for t4 − t1 so a
wall-clock step does not corrupt it. As in NTP, the offset of the sample with the smallest
RTT in a short window is the least distorted by queueing, so that is the one reported.
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Sample:
    rtt_s: float
    offset_s: float


def ntp_sample(t1_ns: int, t2_ns: int, t3_ns: int, t4_ns: int, elapsed_ns: int) -> Sample:
    """One measurement; `elapsed_ns` is t4 − t1 measured on the monotonic clock."""
    rtt_ns = max(0, elapsed_ns - max(0, t3_ns - t2_ns))
    offset_ns = ((t2_ns - t1_ns) + (t3_ns - t4_ns)) / 2
    return Sample(rtt_s=rtt_ns / 1e9, offset_s=offset_ns / 1e9)


class PeerClock:
    """The recent samples for one peer (kept across reconnects)."""

    def __init__(self, window: int = 8) -> None:
        self._samples: deque[Sample] = deque(maxlen=window)

    def add(self, sample: Sample) -> None:
        self._samples.append(sample)

    @property
    def rtt(self) -> float | None:
        """Median RTT in seconds over the window, or None before the first pong."""
        if not self._samples:
            return None
        return statistics.median(s.rtt_s for s in self._samples)

    @property
    def offset(self) -> float | None:
        """Peer clock minus ours, in seconds, from the lowest-RTT sample in the window."""
        if not self._samples:
            return None
        return min(self._samples, key=lambda s: s.rtt_s).offset_s
