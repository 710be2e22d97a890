"""Slashable pairs from any validator are detected and punished with the spec's penalties."""

from __future__ import annotations

import pytest

from nektar.beacon.chain import containers as c
from nektar.beacon.chain.config import FAR_FUTURE_EPOCH
from nektar.beacon.chain.interface import InvalidRequest, SubmissionFailed, ValidatorStatus
from nektar.crypto import bls
from nektar.crypto.signing import (
    DOMAIN_BEACON_PROPOSER,
    AttestationData,
    Checkpoint,
    compute_signing_root,
)

from .conftest import GWEI, PlainValidator, secret


def duty_of(node, index: int, epoch: int):
    return next(iter(node.attester_duties(epoch, [index]).data))


def assert_slashed(node, index: int, before: int) -> None:
    for _ in range(4):
        node.advance_slots(1)
        if node.head_state().validators[index].slashed:
            break
    state = node.head_state()
    record = state.validators[index]
    assert record.slashed
    assert record.exit_epoch != FAR_FUTURE_EPOCH
    assert (
        record.withdrawable_epoch >= state.current_epoch + node.cfg.epochs_per_slashings_vector - 1
    )
    assert node.validator("head", index).status == ValidatorStatus.ACTIVE_SLASHED
    assert sum(state.slashings) >= record.effective_balance
    assert state.balances[index] < before + 20 * 10**6  # penalised (vs. a few slots' rewards)


def test_double_vote_is_detected_and_slashed(node) -> None:
    node.advance_slots(10)
    index = 3
    duty = duty_of(node, index, 2)
    node.advance_slots(duty.slot - node.current_slot())
    voter = PlainValidator(node, secret(index + 1))
    first = voter.single_attestation(duty.slot, duty.committee_index)
    node.submit_attestations([first])
    other = first.data.copy()
    other.beacon_block_root = node.block_root(8)  # same target epoch, different head vote
    second = voter.single_attestation(duty.slot, duty.committee_index, other)
    before = node.head_state().balances[index]
    with pytest.raises(SubmissionFailed, match="double or surround"):
        node.submit_attestations([second])
    assert len(node.pool_attester_slashings()) == 1
    assert_slashed(node, index, before)


def test_surround_vote_is_detected_and_slashed(node) -> None:
    node.advance_slots(26)  # epoch 3
    index = 5
    voter = PlainValidator(node, secret(index + 1))
    duty_now = duty_of(node, index, 3)
    node.advance_slots(max(0, duty_now.slot - node.current_slot()))
    duty_before = duty_of(node, index, 2)
    wide = AttestationData(
        slot=duty_now.slot,
        index=0,
        beacon_block_root=node.block_root("head"),
        source=Checkpoint(epoch=0, root=node.block_root("genesis")),
        target=Checkpoint(epoch=3, root=node.block_root(24)),
    )
    narrow = AttestationData(
        slot=duty_before.slot,
        index=0,
        beacon_block_root=node.block_root(duty_before.slot),
        source=Checkpoint(epoch=1, root=node.block_root(8)),
        target=Checkpoint(epoch=2, root=node.block_root(16)),
    )
    node.submit_attestations(
        [voter.single_attestation(duty_now.slot, duty_now.committee_index, wide)]
    )
    before = node.head_state().balances[index]
    with pytest.raises(SubmissionFailed, match="double or surround"):
        node.submit_attestations(
            [voter.single_attestation(duty_before.slot, duty_before.committee_index, narrow)]
        )
    assert_slashed(node, index, before)


def test_double_proposal_is_detected_and_slashed(node) -> None:
    node.advance_slots(5)
    block = node.block("head").block
    index = int(block.message.proposer_index)
    twin = block.message.copy()
    twin.body.graffiti = b"\x01" * 32
    proposer = PlainValidator(node, secret(index + 1))
    before = node.head_state().balances[index]
    with pytest.raises(InvalidRequest, match="double proposal"):
        node.submit_block(proposer.sign_block(twin))
    assert len(node.pool_proposer_slashings()) == 1
    assert_slashed(node, index, before)


def signed_header(sk: int, node, header) -> c.SignedBeaconBlockHeader:
    domain = node.signing_state().domain(DOMAIN_BEACON_PROPOSER, int(header.slot) // 8)
    sig = bls.sign(sk, compute_signing_root(header.hash_tree_root(), domain))
    return c.SignedBeaconBlockHeader(message=header, signature=sig)


def test_submitted_proposer_slashing_is_checked_and_applied(node) -> None:
    node.advance_slots(3)
    index = 7
    sk = secret(index + 1)
    h1 = c.BeaconBlockHeader(slot=2, proposer_index=index, body_root=b"\x01" * 32)
    h2 = c.BeaconBlockHeader(slot=2, proposer_index=index, body_root=b"\x02" * 32)
    with pytest.raises(InvalidRequest, match="identical"):
        node.submit_proposer_slashing(
            c.ProposerSlashing(
                signed_header_1=signed_header(sk, node, h1),
                signed_header_2=signed_header(sk, node, h1),
            )
        )
    with pytest.raises(InvalidRequest, match="invalid signature"):
        node.submit_proposer_slashing(
            c.ProposerSlashing(
                signed_header_1=signed_header(sk, node, h1),
                signed_header_2=signed_header(secret(99), node, h2),
            )
        )
    before = node.head_state().balances[index]
    node.submit_proposer_slashing(
        c.ProposerSlashing(
            signed_header_1=signed_header(sk, node, h1), signed_header_2=signed_header(sk, node, h2)
        )
    )
    assert_slashed(node, index, before)
    # The whole stake is withdrawable only after EPOCHS_PER_SLASHINGS_VECTOR; penalised again
    # half-way by the correlation penalty (process_slashings), as the spec says.
    assert node.head_state().validators[index].withdrawable_epoch >= 64


def test_slash_validator_applies_spec_penalty_and_rewards(node) -> None:
    from nektar.beacon.chain.epoch import slash_validator

    node.advance_slots(2)
    state = node.head_state().copy()
    proposer = state.proposer_index
    victim, whistleblower = [i for i in range(16) if i != proposer][:2]
    before = list(state.balances)
    slash_validator(state, victim, whistleblower=whistleblower)
    effective = 32 * GWEI
    assert before[victim] - state.balances[victim] == effective // 4096
    whistle = effective // 4096
    assert state.balances[proposer] - before[proposer] == whistle * 8 // 64
    assert state.balances[whistleblower] - before[whistleblower] == whistle - whistle * 8 // 64
    record = state.validators[victim]
    assert record.exit_epoch == state.current_epoch + 1 + node.cfg.max_seed_lookahead
    assert record.withdrawable_epoch == state.current_epoch + node.cfg.epochs_per_slashings_vector


def test_correlation_penalty_applies_half_way_to_withdrawability(node) -> None:
    from nektar.beacon.chain.epoch import process_slashings, slash_validator

    state = node.head_state().copy()
    slash_validator(state, 0)
    withdrawable = state.validators[0].withdrawable_epoch
    state.slot = (withdrawable - node.cfg.epochs_per_slashings_vector // 2) * 8
    before = state.balances[0]
    process_slashings(state)
    total = state.total_active_balance()
    adjusted = min(sum(state.slashings) * 3, total)
    expected = adjusted // (total // GWEI) * 32
    assert before - state.balances[0] == expected > 0
