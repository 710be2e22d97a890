"""One test per QBFT rule, driving a single instance with hand-signed messages (n = 4)."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest
from qbft_harness import INSTANCE, Forger, cluster_of, node_keys, valid

from nektar.consensus.messages import MessageKind, QbftMessage, SignedPayload, Signer, value_hash
from nektar.consensus.qbft import (
    ROUND_LOOKAHEAD,
    Broadcast,
    Cluster,
    ConsensusError,
    Decided,
    QbftInstance,
    StartTimer,
    Unicast,
)
from nektar.consensus.timers import ExponentialTimer, LinearTimer

KEYS = node_keys(4)
CLUSTER = cluster_of(KEYS)
FORGERS = [Forger(k) for k in KEYS]
A, B = b"ok-a", b"ok-b"


def leader(r: int) -> int:
    return CLUSTER.index[CLUSTER.leader(INSTANCE, r)]


def others(*excluded: int) -> list[int]:
    return [i for i in range(4) if i not in excluded]


def machine(i: int) -> QbftInstance:
    return QbftInstance(INSTANCE, CLUSTER, Signer(KEYS[i]), valid, timer=ExponentialTimer(1, 8))


def sent(actions, kind: MessageKind) -> list[QbftMessage]:
    return [a.message for a in actions if isinstance(a, Broadcast) and a.message.kind is kind]


def prepares(r: int, value: bytes, members: list[int]) -> tuple[SignedPayload, ...]:
    return tuple(FORGERS[i].prepare(r, value).signed for i in members)


def round_changes(r: int, members: list[int]) -> tuple[SignedPayload, ...]:
    return tuple(FORGERS[i].round_change(r).signed for i in members)


def prepared_machine() -> tuple[QbftInstance, int]:
    """A non-leader that accepted A in round 1 and saw a prepare quorum (it sent COMMIT)."""
    me = others(leader(1))[0]
    m = machine(me)
    m.receive(FORGERS[leader(1)].proposal(1, A))
    for i in others(me)[:2]:
        m.receive(FORGERS[i].prepare(1, A))
    assert m.prepared_round == 1
    return m, me


def test_round_one_proposal_from_leader_is_prepared() -> None:
    m = machine(others(leader(1))[0])
    actions = m.receive(FORGERS[leader(1)].proposal(1, A))
    [prepare] = sent(actions, MessageKind.PREPARE)
    assert prepare.payload.value_hash == value_hash(A) and prepare.round == 1


def test_proposal_from_non_leader_is_dropped() -> None:
    me, intruder = others(leader(1))[:2]
    m = machine(me)
    assert m.receive(FORGERS[intruder].proposal(1, A)) == []
    assert m.dropped == 1


def test_invalid_value_is_not_prepared() -> None:
    m = machine(others(leader(1))[0])
    assert sent(m.receive(FORGERS[leader(1)].proposal(1, b"bad")), MessageKind.PREPARE) == []


def test_value_not_matching_its_hash_is_dropped() -> None:
    m = machine(others(leader(1))[0])
    honest = FORGERS[leader(1)].proposal(1, A)
    assert m.receive(QbftMessage(honest.signed, B)) == []


def test_second_proposal_in_same_round_is_ignored() -> None:
    m = machine(others(leader(1))[0])
    m.receive(FORGERS[leader(1)].proposal(1, A))
    assert m.receive(FORGERS[leader(1)].proposal(1, b"ok-equivocation")) == []


def test_prepare_quorum_commits_and_prepares_for_other_values_are_ignored() -> None:
    me = others(leader(1))[0]
    x, y = others(me)[:2]
    m = machine(me)
    m.receive(FORGERS[leader(1)].proposal(1, A))
    assert sent(m.receive(FORGERS[x].prepare(1, B)), MessageKind.COMMIT) == []
    assert sent(m.receive(FORGERS[y].prepare(1, A)), MessageKind.COMMIT) == []
    z = others(me, x, y)[0]
    [commit] = sent(m.receive(FORGERS[z].prepare(1, A)), MessageKind.COMMIT)
    assert commit.payload.value_hash == value_hash(A)


def test_duplicate_prepares_from_one_sender_count_once() -> None:
    me = others(leader(1))[0]
    x = others(me)[0]
    m = machine(me)
    m.receive(FORGERS[leader(1)].proposal(1, A))
    m.receive(FORGERS[x].prepare(1, A))
    assert sent(m.receive(FORGERS[x].prepare(1, A)), MessageKind.COMMIT) == []
    assert m.prepared_round == 0


def test_commit_quorum_decides_with_certificate() -> None:
    m, me = prepared_machine()
    x, y, z = others(me)
    assert m.receive(FORGERS[x].commit(1, B)) == []
    m.receive(FORGERS[x].commit(1, A))  # equivocating sender: only its first commit counts
    assert m.receive(FORGERS[y].commit(1, A)) == []
    [decided] = [a for a in m.receive(FORGERS[z].commit(1, A)) if isinstance(a, Decided)]
    assert decided.decision.value == A and decided.decision.round == 1
    signers = {m.verifier.signer(c) for c in decided.decision.commits}
    assert len(signers) == CLUSTER.quorum


def test_commits_decide_even_in_an_earlier_round() -> None:
    m, me = prepared_machine()
    m.on_timeout(1)
    assert m.round == 2
    for i in others(me)[:2]:
        actions = m.receive(FORGERS[i].commit(1, A))
    assert m.decision is not None and any(isinstance(a, Decided) for a in actions)


def test_proposal_for_round_two_without_justification_is_rejected() -> None:
    m = machine(others(leader(2))[0])
    assert m.receive(FORGERS[leader(2)].proposal(2, A)) == []
    partial = round_changes(2, others()[:2])  # below quorum
    assert m.receive(FORGERS[leader(2)].proposal(2, A, partial)) == []
    assert m.dropped == 2


def test_proposal_for_round_two_with_round_change_quorum_moves_and_prepares() -> None:
    m = machine(others(leader(2))[0])
    actions = m.receive(FORGERS[leader(2)].proposal(2, B, round_changes(2, others()[:3])))
    assert StartTimer(INSTANCE, 2, 2.0) in actions
    assert sent(actions, MessageKind.PREPARE)[0].round == 2 and m.round == 2


def test_proposal_justification_with_wrong_round_changes_is_rejected() -> None:
    m = machine(others(leader(2))[0])
    wrong_round = round_changes(3, others()[:3])
    assert m.receive(FORGERS[leader(2)].proposal(2, B, wrong_round)) == []


def test_proposal_must_carry_the_highest_prepared_value_with_its_prepares() -> None:
    lead = leader(2)
    cert = prepares(1, A, others()[:3])
    justification = (
        FORGERS[0].round_change(2, 1, A, cert).signed,
        *round_changes(2, others(0)[:2]),
    )
    m = machine(others(lead)[0])
    assert m.receive(FORGERS[lead].proposal(2, B, justification, cert)) == []  # other value
    assert m.receive(FORGERS[lead].proposal(2, A, justification)) == []  # prepares missing
    weak = cert[:2]
    assert m.receive(FORGERS[lead].proposal(2, A, justification, weak)) == []  # below quorum
    actions = m.receive(FORGERS[lead].proposal(2, A, justification, cert))
    assert sent(actions, MessageKind.PREPARE)[0].payload.value_hash == value_hash(A)


def test_round_change_prepared_value_needs_a_prepare_quorum() -> None:
    m = machine(0)
    sender = FORGERS[1]
    m.receive(sender.round_change(2, 1, A))
    assert sender.address not in m.round_changes
    m.receive(sender.round_change(2, 1, A, prepares(1, B, [0, 1, 2])))  # prepares for B
    assert sender.address not in m.round_changes
    m.receive(sender.round_change(2, 2, A, prepares(2, A, [0, 1, 2])))  # prepared ≥ round
    assert sender.address not in m.round_changes
    m.receive(sender.round_change(2, 1, A, prepares(1, A, [0, 1, 2])))
    assert m.round_changes[sender.address].payload.prepared_round == 1


def test_timeout_sends_round_change_with_prepared_certificate() -> None:
    m, _ = prepared_machine()
    actions = m.on_timeout(1)
    assert StartTimer(INSTANCE, 2, 2.0) in actions
    [rc] = sent(actions, MessageKind.ROUND_CHANGE)
    assert rc.round == 2 and rc.payload.prepared_round == 1 and rc.value == A
    assert len(rc.prepares) == CLUSTER.quorum


def test_stale_timeout_is_ignored() -> None:
    m = machine(0)
    assert m.on_timeout(5) == [] and m.round == 1


def test_f_plus_one_round_changes_pull_a_node_forward() -> None:
    m = machine(0)
    m.receive(FORGERS[1].round_change(3))
    assert m.round == 1
    actions = m.receive(FORGERS[2].round_change(4))
    assert m.round == 3  # the lowest round that f+1 senders reached
    assert sent(actions, MessageKind.ROUND_CHANGE)[0].round == 3


def test_leader_proposes_highest_prepared_value_and_peers_accept() -> None:
    lead = leader(2)
    m = machine(lead)
    m.start(B)
    m.on_timeout(1)
    x, y = others(lead)[:2]
    m.receive(FORGERS[x].round_change(2))
    actions = m.receive(FORGERS[y].round_change(2, 1, A, prepares(1, A, others()[:3])))
    [proposal] = sent(actions, MessageKind.PROPOSAL)
    assert proposal.value == A and len(proposal.round_changes) == 3 and len(proposal.prepares) == 3
    peer = machine(x)
    assert sent(peer.receive(proposal), MessageKind.PREPARE)


def test_leader_without_prepared_values_proposes_its_input() -> None:
    lead = leader(2)
    m = machine(lead)
    m.start(B)
    m.on_timeout(1)
    for i in others(lead)[:2]:
        actions = m.receive(FORGERS[i].round_change(2))
    [proposal] = sent(actions, MessageKind.PROPOSAL)
    assert proposal.value == B


def test_leader_starts_round_one() -> None:
    m = machine(leader(1))
    actions = m.start(A)
    assert StartTimer(INSTANCE, 1, 1.0) in actions
    assert sent(actions, MessageKind.PROPOSAL)[0].value == A
    assert sent(actions, MessageKind.PREPARE)  # it accepts its own proposal


def decided_machine() -> QbftInstance:
    m, me = prepared_machine()
    for i in others(me)[:2]:
        m.receive(FORGERS[i].commit(1, A))
    assert m.decision is not None
    return m


def test_decided_node_answers_round_change_and_certificate_convinces_others() -> None:
    m = decided_machine()
    lagging = others(CLUSTER.index[m.me])[0]
    [reply] = [a for a in m.receive(FORGERS[lagging].round_change(2)) if isinstance(a, Unicast)]
    assert reply.to == KEYS[lagging].address and reply.message.kind is MessageKind.DECIDED
    assert m.receive(FORGERS[lagging].round_change(2)) == []  # answered once per round
    fresh = machine(lagging)
    [decided] = [a for a in fresh.receive(reply.message) if isinstance(a, Decided)]
    assert decided.decision.value == A


def test_forged_decided_certificates_are_rejected() -> None:
    sender = FORGERS[0]
    short = tuple(FORGERS[i].commit(1, A).signed for i in (0, 1))
    mixed = (*short, FORGERS[2].commit(1, B).signed)
    dup = (*short, short[0])
    for commits in (short, mixed, dup):
        signed = sender.signed(MessageKind.DECIDED, 1, value_hash(A))
        m = machine(3)
        m.receive(QbftMessage(signed, A, commits=commits))
        assert m.decision is None


def test_unknown_sender_bad_signature_and_other_instance_are_dropped() -> None:
    outsider = Forger(node_keys(1, b"outsider")[0])
    m = machine(others(leader(1))[0])
    assert m.receive(outsider.prepare(1, A)) == []
    honest = FORGERS[leader(1)].proposal(1, A)
    tampered = QbftMessage(SignedPayload(honest.payload, b"\x01" * 64 + b"\x1b"), A)
    assert m.receive(tampered) == []
    other = Forger(KEYS[leader(1)], hashlib.sha256(b"other").digest())
    assert m.receive(other.proposal(1, A)) == []
    assert m.dropped == 3


@pytest.mark.parametrize("n", [4, 7, 10, 13, 16])
def test_quorum_is_two_f_plus_one_for_protocol_sizes(n: int) -> None:
    cluster = cluster_of(node_keys(n))
    assert cluster.f == (n - 1) // 3 and cluster.quorum == 2 * cluster.f + 1


@pytest.mark.parametrize("n", range(1, 20))
def test_two_quorums_share_an_honest_member(n: int) -> None:
    cluster = cluster_of(node_keys(n))
    assert 2 * cluster.quorum - n >= cluster.f + 1 and cluster.quorum <= n - cluster.f


def test_leaders_rotate_round_robin_from_an_instance_offset() -> None:
    assert {CLUSTER.leader(INSTANCE, r) for r in range(1, 5)} == set(CLUSTER.members)
    firsts = {CLUSTER.leader(hashlib.sha256(bytes([i])).digest(), 1) for i in range(32)}
    assert len(firsts) == 4


def test_cluster_rejects_bad_members() -> None:
    with pytest.raises(ConsensusError, match="20-byte"):
        Cluster((b"short",))
    with pytest.raises(ConsensusError, match="distinct"):
        Cluster((KEYS[0].address, KEYS[0].address))
    with pytest.raises(ConsensusError, match="not a member"):
        QbftInstance(INSTANCE, cluster_of(KEYS[:3]), Signer(KEYS[3]), valid)


def test_timer_policies_grow_with_the_round() -> None:
    exp = ExponentialTimer(base=0.5, cap=4.0)
    assert [exp.duration(r) for r in (1, 2, 3, 4, 5, 100)] == [0.5, 1, 2, 4, 4, 4]
    lin = LinearTimer(base=0.75, increment=0.25)
    assert [lin.duration(r) for r in (1, 2, 5)] == [0.75, 1.0, 1.75]


def test_decision_certificate_verifies_independently() -> None:
    decision = decided_machine().decision
    assert decision is not None and decision.verify(CLUSTER)
    assert not replace(decision, value=B).verify(CLUSTER)
    assert not replace(decision, round=2).verify(CLUSTER)
    assert not replace(decision, commits=decision.commits[:2]).verify(CLUSTER)
    assert not decision.verify(cluster_of(node_keys(4, b"other cluster")))


def test_a_byzantine_flood_keeps_instance_memory_bounded() -> None:
    m = machine(0)
    spammer = FORGERS[3]
    for r in range(1, 400):
        m.receive(spammer.prepare(r, b"ok-%d" % r))
        m.receive(spammer.commit(r, b"ok-%d" % r))
        m.receive(spammer.round_change(r + 1))
    assert m.round == 1  # one member alone cannot move the others
    assert max(m.commits) <= 1 + ROUND_LOOKAHEAD and max(m.prepares) <= 1 + ROUND_LOOKAHEAD
    assert len(m.round_changes) == 1 and not m.values


def test_votes_for_a_future_round_are_kept_until_the_node_gets_there() -> None:
    me = others(leader(2))[0]
    x, y = others(me, leader(2))[0], leader(2)
    m = machine(me)
    m.receive(FORGERS[x].prepare(2, B))  # early: the node is still in round 1
    m.receive(FORGERS[y].prepare(2, B))
    far = 2 + ROUND_LOOKAHEAD
    m.receive(FORGERS[x].prepare(far, B))  # beyond the look-ahead window: dropped
    assert 2 in m.prepares and far not in m.prepares
    actions = m.receive(FORGERS[leader(2)].proposal(2, B, round_changes(2, others()[:3])))
    [commit] = sent(actions, MessageKind.COMMIT)  # own prepare + the two buffered ones
    assert commit.round == 2
