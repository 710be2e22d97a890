"""Counters of the transport, as plain attributes and optionally as Prometheus counters."""

from __future__ import annotations

from collections import Counter

from prometheus_client import CollectorRegistry
from prometheus_client import Counter as PromCounter

from nektar.p2p.errors import DropReason

EVENTS = (
    "frames_sent",
    "frames_received",
    "bytes_sent",
    "bytes_received",
    "dials_failed",
    "handshakes_completed",
    "handshakes_failed",
    "connections_closed",
    "handler_errors",
)


class Stats:
    """Transport counters; `dropped[reason]` counts discarded frames and refused handshakes.

    With a `registry`, the same numbers are exported as `nektar_p2p_dropped_total{reason}` and
    `nektar_p2p_events_total{event}` so the node can serve them on its metrics endpoint.
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.dropped: Counter[DropReason] = Counter({reason: 0 for reason in DropReason})
        self.events: Counter[str] = Counter({name: 0 for name in EVENTS})
        self._prom_dropped = self._prom_events = None
        if registry is not None:
            self._prom_dropped = PromCounter(
                "nektar_p2p_dropped", "Inbound frames dropped", ["reason"], registry=registry
            )
            self._prom_events = PromCounter(
                "nektar_p2p_events", "Transport events", ["event"], registry=registry
            )

    def drop(self, reason: DropReason) -> None:
        self.dropped[reason] += 1
        if self._prom_dropped is not None:
            self._prom_dropped.labels(reason.value).inc()

    def count(self, event: str, amount: int = 1) -> None:
        if event not in self.events:
            raise KeyError(f"unknown transport event {event!r}")
        self.events[event] += amount
        if self._prom_events is not None:
            self._prom_events.labels(event).inc(amount)

    def __getattr__(self, name: str) -> int:
        """`stats.frames_sent` etc. read the event counters as plain attributes."""
        events = self.__dict__.get("events")
        if events is not None and name in events:
            return events[name]
        raise AttributeError(name)
