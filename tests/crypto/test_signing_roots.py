"""Duty signing roots against the worked examples of the Web3Signer remote-signing API spec
(../shared/specs/remote-signing-api), and Electra container shapes."""

from __future__ import annotations

import pytest
import yaml

from nektar.crypto import signing as s

FORK_VERSION = bytes.fromhex("00000001")
GVR = bytes.fromhex("04700007fabc8282644aed6d1c7c9e21d38a03a0c4ba193f3afe428824b3a673")


@pytest.fixture(scope="module")
def examples(specs_dir):
    doc = yaml.safe_load((specs_dir / "remote-signing-api/signing/paths/sign.yaml").read_text())
    body = doc["post"]["requestBody"]["content"]["application/json"]
    return {name: ex["value"] for name, ex in body["examples"].items()}


def _root(example) -> bytes:
    return bytes.fromhex(example["signingRoot"][2:])


def _fork(example) -> tuple[bytes, bytes]:
    info = example["fork_info"]
    return bytes.fromhex(info["fork"]["current_version"][2:]), bytes.fromhex(
        info["genesis_validators_root"][2:]
    )


def test_example_fork_info_is_the_one_used(examples):
    assert _fork(examples["ATTESTATION"]) == (FORK_VERSION, GVR)


def test_attestation(examples):
    ex = examples["ATTESTATION"]
    data = s.AttestationData.from_obj(ex["attestation"])
    assert s.attestation_signing_root(data, FORK_VERSION, GVR) == _root(ex)


@pytest.mark.parametrize("name", ["BLOCK_V2 (DENEB)", "BLOCK_V2 (CAPELLA)"])
def test_block_header(examples, name):
    ex = examples[name]
    header = s.BeaconBlockHeader.from_obj(ex["beacon_block"]["block_header"])
    assert s.block_signing_root(header, FORK_VERSION, GVR) == _root(ex)


def test_randao_reveal(examples):
    ex = examples["RANDAO_REVEAL"]
    epoch = int(ex["randao_reveal"]["epoch"])
    assert s.randao_reveal_signing_root(epoch, FORK_VERSION, GVR) == _root(ex)


def test_selection_proof(examples):
    ex = examples["AGGREGATION_SLOT"]
    slot = int(ex["aggregation_slot"]["slot"])
    assert s.selection_proof_signing_root(slot, FORK_VERSION, GVR) == _root(ex)


def test_voluntary_exit(examples):
    ex = examples["VOLUNTARY_EXIT"]
    message = s.VoluntaryExit.from_obj(ex["voluntary_exit"])
    assert s.voluntary_exit_signing_root(message, FORK_VERSION, GVR) == _root(ex)


def test_sync_committee_message(examples):
    ex = examples["SYNC_COMMITTEE_MESSAGE"]
    block_root = bytes.fromhex(ex["sync_committee_message"]["beacon_block_root"][2:])
    assert s.sync_committee_message_signing_root(block_root, FORK_VERSION, GVR) == _root(ex)


def test_sync_selection_proof(examples):
    ex = examples["SYNC_COMMITTEE_SELECTION_PROOF"]
    data = s.SyncAggregatorSelectionData.from_obj(ex["sync_aggregator_selection_data"])
    assert s.sync_selection_proof_signing_root(data, FORK_VERSION, GVR) == _root(ex)


def test_validator_registration(examples):
    # The example chain's genesis fork version is 0x00000001 (its fork_info elsewhere).
    ex = examples["VALIDATOR_REGISTRATION"]
    reg = s.ValidatorRegistrationV1.from_obj(ex["validator_registration"])
    assert s.validator_registration_signing_root(reg, FORK_VERSION) == _root(ex)


def test_deposit(examples):
    ex = examples["DEPOSIT"]["deposit"]
    root = s.deposit_signing_root(
        bytes.fromhex(ex["pubkey"][2:]),
        bytes.fromhex(ex["withdrawal_credentials"][2:]),
        int(ex["amount"]),
        bytes.fromhex(ex["genesis_fork_version"][2:]),
    )
    assert root == _root(examples["DEPOSIT"])


def test_electra_attestation_shapes():
    fields = s.Attestation.fields()
    assert list(fields) == ["aggregation_bits", "data", "signature", "committee_bits"]
    assert fields["aggregation_bits"].limit() == 2048 * 64
    assert fields["committee_bits"].vector_length() == 64
    assert list(s.SingleAttestation.fields()) == [
        "committee_index",
        "attester_index",
        "data",
        "signature",
    ]
    assert s.SyncCommitteeContribution.fields()["aggregation_bits"].vector_length() == 128


def test_aggregate_root_covers_committee_bits():
    data = s.AttestationData(slot=5, index=0)
    bits = s.Attestation.fields()["aggregation_bits"]([True, False, True])
    plain = s.Attestation(aggregation_bits=bits, data=data)
    other = s.Attestation(aggregation_bits=bits, data=data)
    other.committee_bits[3] = True
    roots = {
        s.aggregate_and_proof_signing_root(
            s.AggregateAndProof(aggregator_index=7, aggregate=att), FORK_VERSION, GVR
        )
        for att in (plain, other)
    }
    assert len(roots) == 2


def test_contribution_and_proof_domain():
    contribution = s.SyncCommitteeContribution(slot=3, subcommittee_index=1)
    message = s.ContributionAndProof(aggregator_index=11, contribution=contribution)
    root = s.contribution_and_proof_signing_root(message, FORK_VERSION, GVR)
    domain = s.compute_domain(s.DOMAIN_CONTRIBUTION_AND_PROOF, FORK_VERSION, GVR)
    assert root == s.compute_signing_root(message.hash_tree_root(), domain)
    assert root != s.aggregate_and_proof_signing_root(
        s.AggregateAndProof(aggregator_index=11), FORK_VERSION, GVR
    )


def test_domains_separate_forks_and_chains():
    data = s.AttestationData(slot=1)
    a = s.attestation_signing_root(data, FORK_VERSION, GVR)
    assert a != s.attestation_signing_root(data, bytes.fromhex("00000002"), GVR)
    assert a != s.attestation_signing_root(data, FORK_VERSION, b"\x00" * 32)
    with pytest.raises(ValueError):
        s.compute_domain(s.DOMAIN_RANDAO, b"\x00" * 3)
