"""Aggregators: aggregate-and-proofs and sync contributions through the node interface."""

from __future__ import annotations

import asyncio

import pytest

from nektar.beacon.chain import containers as c
from nektar.beacon.chain.interface import AttestationEvent, NotFound, SubmissionFailed
from nektar.crypto import bls
from nektar.crypto.signing import (
    DOMAIN_AGGREGATE_AND_PROOF,
    DOMAIN_CONTRIBUTION_AND_PROOF,
    DOMAIN_SELECTION_PROOF,
    DOMAIN_SYNC_COMMITTEE,
    DOMAIN_SYNC_COMMITTEE_SELECTION_PROOF,
    AggregateAndProof,
    ContributionAndProof,
    Root,
    SignedAggregateAndProof,
    Slot,
    SyncAggregatorSelectionData,
    SyncCommitteeMessage,
    compute_signing_root,
)

from .conftest import PlainValidator, make_node, secret


def sign(node, sk: int, root: bytes, domain_type: bytes, epoch: int) -> bytes:
    domain = node.signing_state().domain(domain_type, epoch)
    return bls.sign(sk, compute_signing_root(root, domain))


async def test_aggregate_and_proof_flow() -> None:
    node = make_node(16)
    for i in range(12, 16):
        node._managed.pop(i)
    stream = node.subscribe(["attestation"])
    duty = next(d for d in node.attester_duties(0, range(12, 16)).data if d.slot >= 1)
    node.advance_slots(duty.slot)
    voter = PlainValidator(node, secret(duty.validator_index + 1))
    single = voter.single_attestation(duty.slot, duty.committee_index)
    node.submit_attestations([single])
    aggregate = node.aggregate_attestation(
        duty.slot, bytes(single.data.hash_tree_root()), duty.committee_index
    )
    assert aggregate.aggregation_bits[duty.validator_committee_index]
    proof = sign(node, voter.sk, Slot(duty.slot).hash_tree_root(), DOMAIN_SELECTION_PROOF, 0)
    message = AggregateAndProof(
        aggregator_index=duty.validator_index, aggregate=aggregate, selection_proof=proof
    )
    signed = SignedAggregateAndProof(
        message=message,
        signature=sign(node, voter.sk, message.hash_tree_root(), DOMAIN_AGGREGATE_AND_PROOF, 0),
    )
    forged = signed.copy()
    forged.message.selection_proof = sign(
        node, secret(3), Slot(duty.slot).hash_tree_root(), DOMAIN_SELECTION_PROOF, 0
    )
    with pytest.raises(SubmissionFailed) as failure:
        node.submit_aggregates([signed, forged])
    assert [e.index for e in failure.value.errors] == [1]
    await asyncio.sleep(0)
    events = []
    while not stream.queue.empty():
        events.append(await stream.__anext__())
    stream.close()
    assert [type(e) for e in events] == [AttestationEvent, AttestationEvent]
    with pytest.raises(NotFound):
        node.aggregate_attestation(duty.slot, b"\x00" * 32, duty.committee_index)


def test_sync_message_contribution_flow() -> None:
    node = make_node(16)
    for i in range(12, 16):
        node._managed.pop(i)
    node.advance_slots(1)
    state = node.signing_state()
    committee = state.current_sync_committee
    member = next(i for i in range(12, 16) if state.validators[i].pubkey in committee)
    sk = secret(member + 1)
    pk = state.validators[member].pubkey
    for _ in range(40):  # find a slot where the member is a sync aggregator (1 in 8 chance)
        slot = node.current_slot()
        sub = next(p for p, m in enumerate(committee) if m == pk) // 128
        selection = SyncAggregatorSelectionData(slot=slot, subcommittee_index=sub)
        proof = sign(
            node, sk, selection.hash_tree_root(), DOMAIN_SYNC_COMMITTEE_SELECTION_PROOF, slot // 8
        )
        if int.from_bytes(bls_hash(proof)[:8], "little") % 8 == 0:
            break
        node.advance_slots(1)
    else:
        raise AssertionError("no aggregator slot found")
    head = node.block_root("head")
    message = SyncCommitteeMessage(
        slot=slot,
        beacon_block_root=head,
        validator_index=member,
        signature=sign(node, sk, Root(head).hash_tree_root(), DOMAIN_SYNC_COMMITTEE, slot // 8),
    )
    node.submit_sync_messages([message])
    contribution = node.sync_committee_contribution(slot, sub, head)
    positions = [p - sub * 128 for p, m in enumerate(committee) if m == pk and p // 128 == sub]
    assert all(contribution.aggregation_bits[p] for p in positions)
    signed = c.SignedContributionAndProof(
        message=ContributionAndProof(
            aggregator_index=member, contribution=contribution, selection_proof=proof
        )
    )
    signed.signature = sign(
        node, sk, signed.message.hash_tree_root(), DOMAIN_CONTRIBUTION_AND_PROOF, slot // 8
    )
    node.submit_contributions([signed])
    bad = signed.copy()
    bad.signature = sign(node, secret(1), signed.message.hash_tree_root(), DOMAIN_SYNC_COMMITTEE, 0)
    with pytest.raises(SubmissionFailed, match="invalid signature"):
        node.submit_contributions([bad])
    node.advance_slots(1)
    bits = node.block("head").block.message.body.sync_aggregate.sync_committee_bits
    assert all(bits[sub * 128 + p] for p in positions)


def bls_hash(data: bytes) -> bytes:
    import hashlib

    return hashlib.sha256(data).digest()
