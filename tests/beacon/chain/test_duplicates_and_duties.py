"""What keeps the devnet node cheap under a DVT cluster: copies of accepted submissions are
answered without re-verification, verification does not hold the node lock, and duties come
from per-epoch assignments that must agree with the spec's committees."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nektar.beacon.chain import signatures
from nektar.beacon.chain.interface import AttestationEvent, SubmissionFailed
from nektar.beacon.chain.signatures import signing_root
from nektar.crypto import bls
from nektar.crypto.signing import (
    DOMAIN_SYNC_COMMITTEE,
    Root,
    SyncCommitteeMessage,
    compute_signing_root,
)

from .conftest import PlainValidator, make_node, secret


def _external_node(managed: int = 16, external: range = range(8, 16)):
    node = make_node(managed)
    for i in external:
        node._managed.pop(i)
    return node


def _slot_attestations(node, validators):  # type: ignore[no-untyped-def]
    """Single attestations of `validators` that have a duty at the current slot."""
    slot = node.current_slot()
    duties = node.attester_duties(slot // node.cfg.slots_per_epoch, validators).data
    return [
        PlainValidator(node, secret(d.validator_index + 1)).single_attestation(
            slot, d.committee_index
        )
        for d in duties
        if d.slot == slot
    ]


@given(st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32))
def test_signing_root_equals_the_ssz_signing_data_root(root: bytes, domain: bytes) -> None:
    assert signing_root(root, domain) == compute_signing_root(root, domain)


@pytest.mark.parametrize("epoch", [0, 1])
def test_assignments_agree_with_the_spec_committees(epoch: int) -> None:
    node = make_node(40)
    state = node.signing_state()
    spe = node.cfg.slots_per_epoch
    walked = {}
    for slot in range(epoch * spe, (epoch + 1) * spe):
        for ci in range(state.committee_count_per_slot(epoch)):
            committee = state.beacon_committee(slot, ci)
            for pos, v in enumerate(committee):
                walked[v] = (slot, ci, pos, len(committee))
    assert state.attester_assignments(epoch) == walked
    duties = node.attester_duties(epoch, [3, 3, 7, 39, 40, 10_000]).data
    assert [d.validator_index for d in duties] == sorted(
        [3, 7, 39], key=lambda v: walked[v][:3]
    )  # unknown indices are skipped, repeats answered once
    for d in duties:
        assert (d.slot, d.committee_index, d.validator_committee_index, d.committee_length) == (
            walked[d.validator_index]
        )
        assert state.committee_position(d.slot, d.committee_index, d.validator_index) == (
            d.validator_committee_index
        )
    v = duties[0].validator_index
    assert state.committee_position(duties[0].slot + 1, duties[0].committee_index, v) is None


def test_sync_duties_list_every_position() -> None:
    node = make_node(16)
    committee = node.signing_state().current_sync_committee
    duties = node.sync_duties(0, list(range(20))).data
    assert {d.validator_index for d in duties} == set(range(16))
    for d in duties:
        assert d.validator_sync_committee_indices == [
            p for p, pk in enumerate(committee) if pk == d.pubkey
        ]


def test_proposer_duties_are_computed_once_per_dependent_root() -> None:
    node = make_node(16)
    node.advance_slots(3)
    first = node.proposer_duties(1)
    assert node.proposer_duties(1) is first  # cached
    node.advance_slots(1)  # a new block at slot 4 changes the next epoch's dependent root
    again = node.proposer_duties(1)
    assert again is not first and again.dependent_root != first.dependent_root


async def test_copies_of_accepted_attestations_are_answered_without_verifying(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    node = _external_node()
    node.advance_slots(1)
    stream = node.subscribe(["attestation"])
    while not (singles := _slot_attestations(node, range(8, 16))):
        node.advance_slots(1)
    node.submit_attestations(singles)
    verified = []
    real = signatures.SignatureBatch.failures
    monkeypatch.setattr(
        signatures.SignatureBatch,
        "failures",
        lambda self: verified.append(len(self.items)) or real(self),
    )
    for _ in range(3):  # the other three members of the cluster
        node.submit_attestations([s.copy() for s in singles])
    assert verified == [0, 0, 0]
    await asyncio.sleep(0.05)  # events reach the subscriber through its loop
    events = [stream.queue.get_nowait() for _ in range(stream.queue.qsize())]
    assert sum(isinstance(e, AttestationEvent) for e in events) == len(singles)
    aggregate = node.aggregate_attestation(
        node.current_slot(),
        bytes(singles[0].data.hash_tree_root()),
        int(singles[0].committee_index),
    )
    assert aggregate.aggregation_bits.count(True) >= 1
    # A copy with a bad signature is not a copy: it is checked, and fails.
    forged = singles[0].copy()
    forged.signature = bls.sign(secret(99), b"\x00" * 32)
    with pytest.raises(SubmissionFailed, match="invalid signature"):
        node.submit_attestations([forged])


def test_concurrent_copies_of_sync_messages_all_succeed_and_verify_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    node = _external_node()
    node.advance_slots(1)
    state = node.signing_state()
    head = node.block_root("head")
    root = compute_signing_root(Root(head).hash_tree_root(), state.domain(DOMAIN_SYNC_COMMITTEE))
    messages = [
        SyncCommitteeMessage(
            slot=node.current_slot(),
            beacon_block_root=head,
            validator_index=i,
            signature=bls.sign(secret(i + 1), root),
        )
        for i in range(8, 16)
    ]
    batches = []
    real = signatures.SignatureBatch.failures

    def counting(self):  # type: ignore[no-untyped-def]
        batches.append(len(self.items))
        return real(self)

    monkeypatch.setattr(signatures.SignatureBatch, "failures", counting)
    errors: list[BaseException] = []

    def member() -> None:  # one cluster member's broadcast
        try:
            node.submit_sync_messages([m.copy() for m in messages])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=member) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert sorted(batches) == [0, 0, 0, len(messages)]
    best = node.sync_committee_contribution(node.current_slot(), 0, head)
    assert best.aggregation_bits.count(True) >= 1


def test_verification_does_not_hold_the_node_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    """While a large submission is being verified, duties and attestation data are served."""
    node = _external_node()
    node.advance_slots(1)
    while not (singles := _slot_attestations(node, range(8, 16))):
        node.advance_slots(1)
    started, release = threading.Event(), threading.Event()
    real = signatures.SignatureBatch.failures

    def slow(self):  # type: ignore[no-untyped-def]
        started.set()
        release.wait(10)
        return real(self)

    monkeypatch.setattr(signatures.SignatureBatch, "failures", slow)
    worker = threading.Thread(target=node.submit_attestations, args=(singles,))
    worker.start()
    assert started.wait(10)
    begun = time.perf_counter()
    node.attester_duties(0, list(range(16)))
    node.attestation_data(node.current_slot(), 0)
    waited = time.perf_counter() - begun
    release.set()
    worker.join(10)
    assert waited < 5  # not blocked until `release` (the worker holds it up to 10 s)
    assert not worker.is_alive()
