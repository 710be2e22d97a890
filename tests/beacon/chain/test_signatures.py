"""Every message is checked with the right key and domain; bad ones are rejected with reasons."""

from __future__ import annotations

import pytest

from nektar.beacon.chain import containers as c
from nektar.beacon.chain.interface import InvalidRequest, SubmissionFailed
from nektar.crypto import bls
from nektar.crypto.signing import (
    DOMAIN_BEACON_PROPOSER,
    DOMAIN_SYNC_COMMITTEE,
    Root,
    SyncCommitteeMessage,
    compute_signing_root,
)

from .conftest import PlainValidator, make_node, secret


@pytest.fixture
def external_node():
    """16 validators; 0-11 managed by the node, 12-15 act only when the test makes them."""
    node = make_node(16)
    for i in range(12, 16):
        node._managed.pop(i)
    return node


def external_proposer_slot(node) -> tuple[int, PlainValidator]:
    for duty in node.proposer_duties(0).data + node.proposer_duties(1).data:
        if duty.validator_index >= 12 and duty.slot > node.current_slot():
            return duty.slot, PlainValidator(node, secret(duty.validator_index + 1))
    raise AssertionError("no external proposer in the first two epochs")


def test_block_signature_and_randao_are_verified(external_node) -> None:
    node = external_node
    slot, proposer = external_proposer_slot(node)
    node.advance_slots(slot - node.current_slot())
    with pytest.raises(InvalidRequest, match="randao"):
        node.produce_block(slot, proposer.randao(99))  # wrong epoch signed
    block = node.produce_block(slot, proposer.randao(slot // 8)).block
    forged = PlainValidator(node, secret(1)).sign_block(block)  # someone else's key
    with pytest.raises(InvalidRequest, match="invalid signature: block signature"):
        node.submit_block(forged)
    wrong_domain = bls.sign(
        proposer.sk,
        compute_signing_root(
            block.hash_tree_root(), node.signing_state().domain(DOMAIN_SYNC_COMMITTEE)
        ),
    )
    with pytest.raises(InvalidRequest, match="block signature"):
        node.submit_block(c.SignedBeaconBlock(message=block, signature=wrong_domain))
    tampered = block.copy()
    tampered.body.randao_reveal = PlainValidator(node, secret(2)).randao(slot // 8)
    with pytest.raises(InvalidRequest, match="invalid block"):
        node.submit_block(proposer.sign_block(tampered))
    root = node.submit_block(proposer.sign_block(block))
    assert node.block_root("head") == root


def test_attestation_batch_rejects_only_bad_items(external_node) -> None:
    node = external_node
    node.advance_slots(1)
    duties = [d for d in node.attester_duties(0, range(12, 16)).data if d.slot >= 1]
    duty = duties[0]
    node.advance_slots(duty.slot - node.current_slot())
    good = PlainValidator(node, secret(duty.validator_index + 1)).single_attestation(
        duty.slot, duty.committee_index
    )
    bad = good.copy()
    bad.signature = bls.sign(secret(77), b"\x00" * 32)
    with pytest.raises(SubmissionFailed) as failure:
        node.submit_attestations([good, bad])
    assert [(e.index, e.message) for e in failure.value.errors] == [(1, "invalid signature")]
    pooled = node.pool_attestations(slot=duty.slot)
    assert [a.aggregation_bits[duty.validator_committee_index] for a in pooled] == [True]
    not_member = good.copy()
    not_member.attester_index = next(
        i for i in range(16) if i not in node.signing_state().beacon_committee(duty.slot, 0)
    )
    with pytest.raises(SubmissionFailed, match="not in committee"):
        node.submit_attestations([not_member])


def test_sync_message_and_exit_signatures_are_verified(external_node) -> None:
    node = external_node
    node.advance_slots(3)
    state = node.signing_state()
    member = next(
        i for i in range(12, 16) if state.validators[i].pubkey in state.current_sync_committee
    )
    head = node.block_root("head")
    domain = state.domain(DOMAIN_SYNC_COMMITTEE)
    root = compute_signing_root(Root(head).hash_tree_root(), domain)
    good = SyncCommitteeMessage(
        slot=node.current_slot(),
        beacon_block_root=head,
        validator_index=member,
        signature=bls.sign(secret(member + 1), root),
    )
    bad = good.copy()
    bad.signature = bls.sign(secret(member + 2), root)
    with pytest.raises(SubmissionFailed, match="item 1: invalid signature"):
        node.submit_sync_messages([good, bad])
    exiting = PlainValidator(node, secret(13))
    node.advance_slots(2 * 8)  # SHARD_COMMITTEE_PERIOD
    message = exiting.voluntary_exit()
    forged = c.SignedVoluntaryExit(message=message.message, signature=bls.sign(secret(1), b"x"))
    with pytest.raises(InvalidRequest, match="invalid signature: voluntary exit"):
        node.submit_voluntary_exit(forged)
    node.submit_voluntary_exit(message)
    assert node.pool_voluntary_exits() == [message]


def test_block_header_domain_uses_the_chain_fork_version(external_node) -> None:
    node = external_node
    node.advance_slots(1)
    header = node.header("head")
    state = node.signing_state()
    pk = state.validators[int(header.header.message.proposer_index)].pubkey
    root = compute_signing_root(
        header.header.message.hash_tree_root(), state.domain(DOMAIN_BEACON_PROPOSER)
    )
    assert bls.verify(pk, root, bytes(header.header.signature))


def test_a_failing_batch_is_bisected_to_its_culprits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two bad sets among 32 are named with far fewer batch checks than one per set."""
    from nektar.beacon.chain import signatures

    batch = signatures.SignatureBatch()
    root = b"\x07" * 32
    for i in range(32):
        signer = 99 if i in (5, 21) else i + 1  # sets 5 and 21 are signed by the wrong key
        batch.add(f"set {i}", bls.sk_to_pk(secret(i + 1)), root, bls.sign(secret(signer), root))
    calls = []
    real = bls.batch_verify_points
    monkeypatch.setattr(bls, "batch_verify_points", lambda items: calls.append(1) or real(items))
    assert batch.failures() == [5, 21]
    assert len(calls) <= 2 * 2 * 5 + 1  # O(k log n), not n
    with pytest.raises(signatures.SignatureError, match="set 5"):
        batch.verify()
