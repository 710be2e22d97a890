"""Beacon-only SSZ containers of the Electra fork (MAINNET preset limits).

The duty containers a signer also needs (AttestationData, Checkpoint, BeaconBlockHeader,
Attestation, SingleAttestation, AggregateAndProof, sync messages, VoluntaryExit) live in
`nektar.crypto.signing` and are re-used here, never redefined. Limits are the mainnet preset's,
so blocks and operations have the same roots as in production clients; only *config* values
(slot time, epoch length, churn…) differ on the devnet.

No `from __future__ import annotations`: remerkleable reads the field annotations as types.
"""

from remerkleable.basic import boolean, uint8, uint64, uint256
from remerkleable.bitfields import Bitvector
from remerkleable.byte_arrays import ByteList, Bytes32, Bytes48, ByteVector
from remerkleable.complex import Container, List, Vector
from remerkleable.tree import subtree_fill_to_contents

from nektar.crypto.signing import (
    MAX_COMMITTEES_PER_SLOT,
    MAX_VALIDATORS_PER_COMMITTEE,
    SYNC_COMMITTEE_SIZE,
    Attestation,
    AttestationData,
    BeaconBlockHeader,
    BLSPubkey,
    BLSSignature,
    Checkpoint,
    ContributionAndProof,
    DepositData,
    Epoch,
    ExecutionAddress,
    Gwei,
    Root,
    Slot,
    ValidatorIndex,
    VoluntaryExit,
)

# Electra / Deneb / Capella preset limits (mainnet).
MAX_PROPOSER_SLASHINGS = 16
MAX_ATTESTER_SLASHINGS_ELECTRA = 1
MAX_ATTESTATIONS_ELECTRA = 8
MAX_DEPOSITS = 16
MAX_VOLUNTARY_EXITS = 16
MAX_BLS_TO_EXECUTION_CHANGES = 16
MAX_BLOB_COMMITMENTS_PER_BLOCK = 4096
MAX_WITHDRAWALS_PER_PAYLOAD = 16
MAX_DEPOSIT_REQUESTS_PER_PAYLOAD = 8192
MAX_WITHDRAWAL_REQUESTS_PER_PAYLOAD = 16
MAX_CONSOLIDATION_REQUESTS_PER_PAYLOAD = 2
MAX_TRANSACTIONS_PER_PAYLOAD = 2**20
MAX_BYTES_PER_TRANSACTION = 2**30
MAX_EXTRA_DATA_BYTES = 32
BYTES_PER_LOGS_BLOOM = 256
DEPOSIT_CONTRACT_TREE_DEPTH = 32


class Validator(Container):
    pubkey: BLSPubkey
    withdrawal_credentials: Bytes32
    effective_balance: Gwei
    slashed: boolean
    activation_eligibility_epoch: Epoch
    activation_epoch: Epoch
    exit_epoch: Epoch
    withdrawable_epoch: Epoch


class Eth1Data(Container):
    deposit_root: Root
    deposit_count: uint64
    block_hash: Bytes32


class Fork(Container):
    previous_version: ByteVector[4]
    current_version: ByteVector[4]
    epoch: Epoch


class IndexedAttestation(Container):
    """Electra: the index list spans every committee of the slot."""

    attesting_indices: List[ValidatorIndex, MAX_VALIDATORS_PER_COMMITTEE * MAX_COMMITTEES_PER_SLOT]
    data: AttestationData
    signature: BLSSignature


class SignedBeaconBlockHeader(Container):
    message: BeaconBlockHeader
    signature: BLSSignature


class ProposerSlashing(Container):
    signed_header_1: SignedBeaconBlockHeader
    signed_header_2: SignedBeaconBlockHeader


class AttesterSlashing(Container):
    attestation_1: IndexedAttestation
    attestation_2: IndexedAttestation


class Deposit(Container):
    proof: Vector[Bytes32, DEPOSIT_CONTRACT_TREE_DEPTH + 1]
    data: DepositData


class SignedVoluntaryExit(Container):
    message: VoluntaryExit
    signature: BLSSignature


class SyncAggregate(Container):
    sync_committee_bits: Bitvector[SYNC_COMMITTEE_SIZE]
    sync_committee_signature: BLSSignature


class SyncCommittee(Container):
    pubkeys: Vector[BLSPubkey, SYNC_COMMITTEE_SIZE]
    aggregate_pubkey: BLSPubkey


class Withdrawal(Container):
    index: uint64
    validator_index: ValidatorIndex
    address: ExecutionAddress
    amount: Gwei


class BLSToExecutionChange(Container):
    validator_index: ValidatorIndex
    from_bls_pubkey: BLSPubkey
    to_execution_address: ExecutionAddress


class SignedBLSToExecutionChange(Container):
    message: BLSToExecutionChange
    signature: BLSSignature


class ExecutionPayload(Container):
    """Deneb/Electra execution payload. The devnet has no execution layer: the node fills it
    with a deterministic placeholder (see `transition.placeholder_payload`) whose withdrawals
    are the real expected withdrawals of the state."""

    parent_hash: Bytes32
    fee_recipient: ExecutionAddress
    state_root: Bytes32
    receipts_root: Bytes32
    logs_bloom: ByteVector[BYTES_PER_LOGS_BLOOM]
    prev_randao: Bytes32
    block_number: uint64
    gas_limit: uint64
    gas_used: uint64
    timestamp: uint64
    extra_data: ByteList[MAX_EXTRA_DATA_BYTES]
    base_fee_per_gas: uint256
    block_hash: Bytes32
    transactions: List[ByteList[MAX_BYTES_PER_TRANSACTION], MAX_TRANSACTIONS_PER_PAYLOAD]
    withdrawals: List[Withdrawal, MAX_WITHDRAWALS_PER_PAYLOAD]
    blob_gas_used: uint64
    excess_blob_gas: uint64


class ExecutionPayloadHeader(Container):
    parent_hash: Bytes32
    fee_recipient: ExecutionAddress
    state_root: Bytes32
    receipts_root: Bytes32
    logs_bloom: ByteVector[BYTES_PER_LOGS_BLOOM]
    prev_randao: Bytes32
    block_number: uint64
    gas_limit: uint64
    gas_used: uint64
    timestamp: uint64
    extra_data: ByteList[MAX_EXTRA_DATA_BYTES]
    base_fee_per_gas: uint256
    block_hash: Bytes32
    transactions_root: Root
    withdrawals_root: Root
    blob_gas_used: uint64
    excess_blob_gas: uint64


class DepositRequest(Container):
    """EIP-6110: a deposit as the execution layer reports it (here: a DepositEvent log)."""

    pubkey: BLSPubkey
    withdrawal_credentials: Bytes32
    amount: Gwei
    signature: BLSSignature
    index: uint64


class WithdrawalRequest(Container):
    source_address: ExecutionAddress
    validator_pubkey: BLSPubkey
    amount: Gwei


class ConsolidationRequest(Container):
    source_address: ExecutionAddress
    source_pubkey: BLSPubkey
    target_pubkey: BLSPubkey


class ExecutionRequests(Container):
    deposits: List[DepositRequest, MAX_DEPOSIT_REQUESTS_PER_PAYLOAD]
    withdrawals: List[WithdrawalRequest, MAX_WITHDRAWAL_REQUESTS_PER_PAYLOAD]
    consolidations: List[ConsolidationRequest, MAX_CONSOLIDATION_REQUESTS_PER_PAYLOAD]


class BeaconBlockBody(Container):
    randao_reveal: BLSSignature
    eth1_data: Eth1Data
    graffiti: Bytes32
    proposer_slashings: List[ProposerSlashing, MAX_PROPOSER_SLASHINGS]
    attester_slashings: List[AttesterSlashing, MAX_ATTESTER_SLASHINGS_ELECTRA]
    attestations: List[Attestation, MAX_ATTESTATIONS_ELECTRA]
    deposits: List[Deposit, MAX_DEPOSITS]
    voluntary_exits: List[SignedVoluntaryExit, MAX_VOLUNTARY_EXITS]
    sync_aggregate: SyncAggregate
    execution_payload: ExecutionPayload
    bls_to_execution_changes: List[SignedBLSToExecutionChange, MAX_BLS_TO_EXECUTION_CHANGES]
    blob_kzg_commitments: List[Bytes48, MAX_BLOB_COMMITMENTS_PER_BLOCK]
    execution_requests: ExecutionRequests


class BeaconBlock(Container):
    slot: Slot
    proposer_index: ValidatorIndex
    parent_root: Root
    state_root: Root
    body: BeaconBlockBody


class SignedBeaconBlock(Container):
    message: BeaconBlock
    signature: BLSSignature


class PendingDeposit(Container):
    pubkey: BLSPubkey
    withdrawal_credentials: Bytes32
    amount: Gwei
    signature: BLSSignature
    slot: Slot


def build(container_type: type[Container], **fields: object) -> Container:
    """Container construction without remerkleable's per-field `isinstance(View)` Protocol
    check (slow on Python 3.11): field nodes are assembled straight into the backing tree.
    Missing fields take their defaults, exactly as the normal constructor does."""
    nodes = []
    for name, field_type in container_type.fields().items():
        value = fields.pop(name, None)
        if value is None:
            nodes.append(field_type.default_node())
        elif hasattr(value, "get_backing"):
            nodes.append(value.get_backing())
        else:
            nodes.append(field_type.coerce_view(value).get_backing())
    if fields:
        raise AttributeError(f"{container_type.__name__} has no fields {sorted(fields)}")
    depth = container_type.tree_depth()
    return container_type.view_from_backing(subtree_fill_to_contents(nodes, depth))


def block_header(block: BeaconBlock) -> BeaconBlockHeader:
    """The header of a block: same hash_tree_root as the block (what proposers sign)."""
    return BeaconBlockHeader(
        slot=block.slot,
        proposer_index=block.proposer_index,
        parent_root=block.parent_root,
        state_root=block.state_root,
        body_root=block.body.hash_tree_root(),
    )


class SignedContributionAndProof(Container):
    message: ContributionAndProof
    signature: BLSSignature


class HistoricalSummary(Container):
    block_summary_root: Root
    state_summary_root: Root


class PendingPartialWithdrawal(Container):
    validator_index: ValidatorIndex
    amount: Gwei
    withdrawable_epoch: Epoch


class PendingConsolidation(Container):
    source_index: ValidatorIndex
    target_index: ValidatorIndex


VALIDATOR_REGISTRY_LIMIT = 2**40
PENDING_DEPOSITS_LIMIT = 2**27
HISTORICAL_ROOTS_LIMIT = 2**24
ETH1_DATA_VOTES_LIMIT = 2048


def beacon_state_type(
    slots_per_historical_root: int,
    epochs_per_historical_vector: int,
    epochs_per_slashings_vector: int,
) -> type[Container]:
    """The Electra BeaconState container for the chain's vector lengths (minimal-preset-like
    on the devnet, so the type is built per configuration; field order is the spec's)."""
    key = (slots_per_historical_root, epochs_per_historical_vector, epochs_per_slashings_vector)
    cached = _STATE_TYPES.get(key)
    if cached is not None:
        return cached

    class BeaconState(Container):
        genesis_time: uint64
        genesis_validators_root: Root
        slot: Slot
        fork: Fork
        latest_block_header: BeaconBlockHeader
        block_roots: Vector[Root, slots_per_historical_root]
        state_roots: Vector[Root, slots_per_historical_root]
        historical_roots: List[Root, HISTORICAL_ROOTS_LIMIT]
        eth1_data: Eth1Data
        eth1_data_votes: List[Eth1Data, ETH1_DATA_VOTES_LIMIT]
        eth1_deposit_index: uint64
        validators: List[Validator, VALIDATOR_REGISTRY_LIMIT]
        balances: List[Gwei, VALIDATOR_REGISTRY_LIMIT]
        randao_mixes: Vector[Bytes32, epochs_per_historical_vector]
        slashings: Vector[Gwei, epochs_per_slashings_vector]
        previous_epoch_participation: List[uint8, VALIDATOR_REGISTRY_LIMIT]
        current_epoch_participation: List[uint8, VALIDATOR_REGISTRY_LIMIT]
        justification_bits: Bitvector[4]
        previous_justified_checkpoint: Checkpoint
        current_justified_checkpoint: Checkpoint
        finalized_checkpoint: Checkpoint
        inactivity_scores: List[uint64, VALIDATOR_REGISTRY_LIMIT]
        current_sync_committee: SyncCommittee
        next_sync_committee: SyncCommittee
        latest_execution_payload_header: ExecutionPayloadHeader
        next_withdrawal_index: uint64
        next_withdrawal_validator_index: ValidatorIndex
        historical_summaries: List[HistoricalSummary, HISTORICAL_ROOTS_LIMIT]
        deposit_requests_start_index: uint64
        deposit_balance_to_consume: Gwei
        exit_balance_to_consume: Gwei
        earliest_exit_epoch: Epoch
        consolidation_balance_to_consume: Gwei
        earliest_consolidation_epoch: Epoch
        pending_deposits: List[PendingDeposit, PENDING_DEPOSITS_LIMIT]
        pending_partial_withdrawals: List[PendingPartialWithdrawal, PENDING_DEPOSITS_LIMIT]
        pending_consolidations: List[PendingConsolidation, 2**18]

    _STATE_TYPES[key] = BeaconState
    return BeaconState


_STATE_TYPES: dict[tuple[int, int, int], type[Container]] = {}
