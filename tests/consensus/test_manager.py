"""Many instances per node: routing, bounded buffering, garbage collection."""

from __future__ import annotations

import hashlib

from qbft_harness import Forger, cluster_of, node_keys, valid

from nektar.consensus.local import LocalCluster
from nektar.consensus.manager import QbftManager
from nektar.consensus.messages import MessageKind, instance_id

KEYS = node_keys(4)
CLUSTER = cluster_of(KEYS)
CLUSTER_ID = hashlib.sha256(b"cluster").digest()


def managers(**options) -> list[QbftManager]:
    return [QbftManager(k, CLUSTER, **options) for k in KEYS]


def iid(slot: int, duty: int = 1) -> bytes:
    return instance_id(duty, slot, CLUSTER_ID)


def start_all(local: LocalCluster, instance: bytes, slot: int) -> None:
    for i in range(len(local.managers)):
        local.start(i, instance, b"ok-%d-%d" % (slot, i), valid, slot)


def test_many_concurrent_instances_all_decide_the_same_values() -> None:
    local = LocalCluster(managers())
    instances = [iid(slot, duty) for slot in range(25) for duty in (1, 2)]
    for slot, instance in enumerate(instances):
        start_all(local, instance, slot)
    local.run()
    for instance in instances:
        values = {local.decisions[i][instance].value for i in range(4)}
        assert len(values) == 1
    assert all(m.decision(instances[0]) is not None for m in local.managers)


def test_messages_before_start_are_buffered_then_replayed() -> None:
    instance = iid(3)
    leader = CLUSTER.index[CLUSTER.leader(instance, 1)]
    me = (leader + 1) % 4
    m = managers()[me]
    proposal = Forger(KEYS[leader], instance).proposal(1, b"ok-early")
    assert m.receive(proposal.encode()) == []
    assert len(m.pending[instance]) == 1
    actions = m.start(instance, b"ok-mine", valid, 3)
    prepares = [a for a in actions if getattr(a, "message", None) is not None]
    assert any(a.message.kind is MessageKind.PREPARE for a in prepares)
    assert instance not in m.pending


def test_pending_buffers_are_bounded() -> None:
    m = QbftManager(KEYS[0], CLUSTER, max_pending=5, pending_per_instance=3)
    forger = Forger(KEYS[1])
    for slot in range(20):
        forger.instance = iid(slot)
        m.receive(forger.prepare(1, b"ok").encode())
    assert len(m.pending) == 5 and m.stats.evicted == 15
    forger.instance = iid(99)
    for r in range(1, 11):
        m.receive(forger.prepare(r, b"ok").encode())
    assert len(m.pending[iid(99)]) == 3


def test_garbage_and_outsiders_are_counted_not_buffered() -> None:
    m = managers()[0]
    assert m.receive(b"\x00" * 10) == []
    outsider = Forger(node_keys(1, b"outsider")[0], iid(1))
    assert m.receive(outsider.prepare(1, b"ok").encode()) == []
    assert m.stats.decoded_errors == 1 and m.stats.unauthenticated == 1 and not m.pending


def test_expire_keeps_memory_bounded_over_many_slots() -> None:
    local = LocalCluster(managers())
    for slot in range(60):
        start_all(local, iid(slot), slot)
        local.run()
        for m in local.managers:
            m.expire(slot - 2)  # keep decided instances two slots to answer laggards
    for m in local.managers:
        assert len(m.instances) == 3 and len(m.expiry) == 3
        assert m.stats.expired == 57


def test_capacity_evicts_decided_instances_first() -> None:
    ms = managers(max_instances=3)
    local = LocalCluster(ms)
    start_all(local, iid(1), 1)
    local.run()
    for i, m in enumerate(ms):  # two undecided instances (no peers started them)
        local.perform(i, m.start(iid(2), b"ok", valid, 2))
        m.start(iid(3), b"ok", valid, 3)
        m.start(iid(4), b"ok", valid, 4)
    for m in ms:
        assert iid(1) not in m.instances and len(m.instances) == 3
        assert m.stats.evicted == 1


def test_timeouts_route_to_their_instance() -> None:
    m = managers()[0]
    assert m.on_timeout(iid(1), 1) == []  # unknown instance
    m.start(iid(1), b"ok", valid, 1)
    actions = m.on_timeout(iid(1), 1)
    assert any(getattr(a, "round", 0) == 2 for a in actions)
