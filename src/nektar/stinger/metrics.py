"""Prometheus metrics of the node (names follow Charon's where it has one; prefix stinger_)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8)


class Metrics:
    """Every metric of one node, on its own registry (several nodes may share a process)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.duties_scheduled = Counter(
            "stinger_duties_scheduled", "Duties scheduled, by type", ["duty"], registry=r
        )
        self.duties_succeeded = Counter(
            "stinger_duties_succeeded",
            "Validator duties broadcast to the beacon node, by type",
            ["duty"],
            registry=r,
        )
        self.duties_failed = Counter(
            "stinger_duties_failed",
            "Validator duties that failed, by type and reason",
            ["duty", "reason"],
            registry=r,
        )
        self.stage_latency = Histogram(
            "stinger_stage_latency_seconds",
            "Time spent in each workflow stage",
            ["stage"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.broadcast_delay = Histogram(
            "stinger_broadcast_delay_seconds",
            "Time from slot start to broadcast, by duty type",
            ["duty"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.consensus_rounds = Histogram(
            "stinger_consensus_decided_rounds",
            "Round in which QBFT instances decided",
            buckets=(1, 2, 3, 4, 6, 8),
            registry=r,
        )
        self.consensus_timeouts = Counter(
            "stinger_consensus_timeouts",
            "QBFT instances without a decision in time",
            ["duty"],
            registry=r,
        )
        self.bad_partials = Counter(
            "stinger_bad_partial_signatures",
            "Partial signatures that failed verification, by sender",
            ["peer"],
            registry=r,
        )
        self.slashing_refusals = Counter(
            "stinger_slashing_refusals",
            "Signatures refused by slashing protection",
            ["duty"],
            registry=r,
        )
        self.peers_connected = Gauge(
            "stinger_peers_connected", "Cluster peers connected now", registry=r
        )
        self.clock_offset = Gauge(
            "stinger_clock_offset_seconds",
            "Local clock minus the beacon node's clock (Date header), seconds",
            registry=r,
        )
        self.attest_trigger = Counter(
            "stinger_attest_trigger",
            "Slots whose attestations started on the slot's head event or at the 1/3-slot deadline",
            ["trigger"],
            registry=r,
        )
        self.validators = Gauge("stinger_validators", "Validators this node serves", registry=r)
