"""Domains and signing roots as the consensus specs define them (phase0 `compute_domain`,
`compute_signing_root`), and the deposit containers every layer needs.

Merkleization is remerkleable's; nothing here hand-rolls hashing of SSZ structures.
No `from __future__ import annotations` here: remerkleable reads the container field
annotations as live types.
"""

from remerkleable.basic import uint64
from remerkleable.bitfields import Bitlist, Bitvector
from remerkleable.byte_arrays import Bytes4, Bytes32, Bytes48, Bytes96, ByteVector
from remerkleable.complex import Container

DomainType = Bytes4
Version = Bytes4
Root = Bytes32
BLSPubkey = Bytes48
BLSSignature = Bytes96

DOMAIN_BEACON_PROPOSER = DomainType(bytes.fromhex("00000000"))
DOMAIN_BEACON_ATTESTER = DomainType(bytes.fromhex("01000000"))
DOMAIN_RANDAO = DomainType(bytes.fromhex("02000000"))
DOMAIN_DEPOSIT = DomainType(bytes.fromhex("03000000"))
DOMAIN_VOLUNTARY_EXIT = DomainType(bytes.fromhex("04000000"))
DOMAIN_SELECTION_PROOF = DomainType(bytes.fromhex("05000000"))
DOMAIN_AGGREGATE_AND_PROOF = DomainType(bytes.fromhex("06000000"))
DOMAIN_SYNC_COMMITTEE = DomainType(bytes.fromhex("07000000"))
DOMAIN_SYNC_COMMITTEE_SELECTION_PROOF = DomainType(bytes.fromhex("08000000"))
DOMAIN_CONTRIBUTION_AND_PROOF = DomainType(bytes.fromhex("09000000"))
DOMAIN_APPLICATION_BUILDER = DomainType(bytes.fromhex("00000001"))

GWEI = 10**9
ETH_IN_GWEI = 10**9


class ForkData(Container):
    current_version: Version
    genesis_validators_root: Root


class SigningData(Container):
    object_root: Root
    domain: ByteVector[32]


class DepositMessage(Container):
    pubkey: BLSPubkey
    withdrawal_credentials: Bytes32
    amount: uint64


class DepositData(Container):
    pubkey: BLSPubkey
    withdrawal_credentials: Bytes32
    amount: uint64
    signature: BLSSignature


def compute_fork_data_root(current_version: bytes, genesis_validators_root: bytes) -> bytes:
    """Root of ForkData, the input of fork digests and domains."""
    return bytes(
        ForkData(
            current_version=Version(current_version),
            genesis_validators_root=Root(genesis_validators_root),
        ).hash_tree_root()
    )


def compute_domain(
    domain_type: bytes,
    fork_version: bytes = b"\x00" * 4,
    genesis_validators_root: bytes = b"\x00" * 32,
) -> bytes:
    """The 32-byte signature domain: domain type ‖ first 28 bytes of the fork data root."""
    if len(domain_type) != 4 or len(fork_version) != 4 or len(genesis_validators_root) != 32:
        raise ValueError("domain type and fork version are 4 bytes, genesis root 32 bytes")
    fork_data_root = compute_fork_data_root(fork_version, genesis_validators_root)
    return bytes(domain_type) + fork_data_root[:28]


def compute_signing_root(ssz_object_root: bytes, domain: bytes) -> bytes:
    """hash_tree_root(SigningData(object_root, domain)): what a validator actually signs."""
    return bytes(
        SigningData(
            object_root=Root(ssz_object_root), domain=ByteVector[32](domain)
        ).hash_tree_root()
    )


def compute_deposit_domain(genesis_fork_version: bytes) -> bytes:
    """Deposits are signed with the genesis fork version and a zero genesis root (spec)."""
    return compute_domain(DOMAIN_DEPOSIT, genesis_fork_version, b"\x00" * 32)


def deposit_message_root(pubkey: bytes, withdrawal_credentials: bytes, amount_gwei: int) -> bytes:
    """hash_tree_root of the DepositMessage (what the deposit signature covers)."""
    message = DepositMessage(
        pubkey=BLSPubkey(pubkey),
        withdrawal_credentials=Bytes32(withdrawal_credentials),
        amount=uint64(amount_gwei),
    )
    return bytes(message.hash_tree_root())


def deposit_signing_root(
    pubkey: bytes, withdrawal_credentials: bytes, amount_gwei: int, genesis_fork_version: bytes
) -> bytes:
    """The signing root of a deposit on the chain whose genesis fork version is given."""
    return compute_signing_root(
        deposit_message_root(pubkey, withdrawal_credentials, amount_gwei),
        compute_deposit_domain(genesis_fork_version),
    )


def deposit_data_root(
    pubkey: bytes, withdrawal_credentials: bytes, amount_gwei: int, signature: bytes
) -> bytes:
    """hash_tree_root of the DepositData: the `deposit_data_root` the DepositContract checks."""
    data = DepositData(
        pubkey=BLSPubkey(pubkey),
        withdrawal_credentials=Bytes32(withdrawal_credentials),
        amount=uint64(amount_gwei),
        signature=BLSSignature(signature),
    )
    return bytes(data.hash_tree_root())


def eth1_withdrawal_credentials(address: bytes) -> bytes:
    """0x01 credentials: 0x01 ‖ 11 zero bytes ‖ the 20-byte execution address."""
    if len(address) != 20:
        raise ValueError("an execution address is 20 bytes")
    return b"\x01" + b"\x00" * 11 + address


# --- Duty containers (Electra formats, MAINNET preset limits; see INTERFACES.md) -------------
#
# The devnet changes config values only, never these limits, so every root below equals the
# root a production client computes for the same message.

MAX_VALIDATORS_PER_COMMITTEE = 2048
MAX_COMMITTEES_PER_SLOT = 64
SYNC_COMMITTEE_SIZE = 512
SYNC_COMMITTEE_SUBNET_COUNT = 4

Slot = uint64
Epoch = uint64
ValidatorIndex = uint64
CommitteeIndex = uint64
Gwei = uint64
ExecutionAddress = ByteVector[20]


class Checkpoint(Container):
    epoch: Epoch
    root: Root


class AttestationData(Container):
    slot: Slot
    index: CommitteeIndex
    beacon_block_root: Root
    source: Checkpoint
    target: Checkpoint


class BeaconBlockHeader(Container):
    """Signed in place of the block: its hash_tree_root equals the full block's."""

    slot: Slot
    proposer_index: ValidatorIndex
    parent_root: Root
    state_root: Root
    body_root: Root


class Attestation(Container):
    """Electra (EIP-7549) attestation: committee index moved out of the data into a bitvector."""

    aggregation_bits: Bitlist[MAX_VALIDATORS_PER_COMMITTEE * MAX_COMMITTEES_PER_SLOT]
    data: AttestationData
    signature: BLSSignature
    committee_bits: Bitvector[MAX_COMMITTEES_PER_SLOT]


class SingleAttestation(Container):
    committee_index: CommitteeIndex
    attester_index: ValidatorIndex
    data: AttestationData
    signature: BLSSignature


class AggregateAndProof(Container):
    aggregator_index: ValidatorIndex
    aggregate: Attestation
    selection_proof: BLSSignature


class SignedAggregateAndProof(Container):
    message: AggregateAndProof
    signature: BLSSignature


class SyncCommitteeMessage(Container):
    slot: Slot
    beacon_block_root: Root
    validator_index: ValidatorIndex
    signature: BLSSignature


class SyncAggregatorSelectionData(Container):
    slot: Slot
    subcommittee_index: uint64


class SyncCommitteeContribution(Container):
    slot: Slot
    beacon_block_root: Root
    subcommittee_index: uint64
    aggregation_bits: Bitvector[SYNC_COMMITTEE_SIZE // SYNC_COMMITTEE_SUBNET_COUNT]
    signature: BLSSignature


class ContributionAndProof(Container):
    aggregator_index: ValidatorIndex
    contribution: SyncCommitteeContribution
    selection_proof: BLSSignature


class VoluntaryExit(Container):
    epoch: Epoch
    validator_index: ValidatorIndex


class ValidatorRegistrationV1(Container):
    """Builder-API registration (MEV-boost); signed on the builder domain, not the chain's."""

    fee_recipient: ExecutionAddress
    gas_limit: uint64
    timestamp: uint64
    pubkey: BLSPubkey


def _signing_root(
    object_root: bytes, domain_type: bytes, fork_version: bytes, genesis_validators_root: bytes
) -> bytes:
    return compute_signing_root(
        object_root, compute_domain(domain_type, fork_version, genesis_validators_root)
    )


def attestation_signing_root(
    data: AttestationData, fork_version: bytes, genesis_validators_root: bytes
) -> bytes:
    """What an attester signs: its AttestationData on the attester domain (fork of target epoch)."""
    return _signing_root(
        data.hash_tree_root(), DOMAIN_BEACON_ATTESTER, fork_version, genesis_validators_root
    )


def block_signing_root(
    header: BeaconBlockHeader, fork_version: bytes, genesis_validators_root: bytes
) -> bytes:
    """What a proposer signs: the block (through its header, which has the same root)."""
    return _signing_root(
        header.hash_tree_root(), DOMAIN_BEACON_PROPOSER, fork_version, genesis_validators_root
    )


def randao_reveal_signing_root(
    epoch: int, fork_version: bytes, genesis_validators_root: bytes
) -> bytes:
    """The RANDAO reveal of a proposer: a signature over the epoch number."""
    return _signing_root(
        Epoch(epoch).hash_tree_root(), DOMAIN_RANDAO, fork_version, genesis_validators_root
    )


def selection_proof_signing_root(
    slot: int, fork_version: bytes, genesis_validators_root: bytes
) -> bytes:
    """Attestation-aggregator selection proof: a signature over the slot."""
    return _signing_root(
        Slot(slot).hash_tree_root(), DOMAIN_SELECTION_PROOF, fork_version, genesis_validators_root
    )


def aggregate_and_proof_signing_root(
    message: AggregateAndProof, fork_version: bytes, genesis_validators_root: bytes
) -> bytes:
    """What an aggregator signs to publish its aggregate."""
    return _signing_root(
        message.hash_tree_root(), DOMAIN_AGGREGATE_AND_PROOF, fork_version, genesis_validators_root
    )


def sync_committee_message_signing_root(
    beacon_block_root: bytes, fork_version: bytes, genesis_validators_root: bytes
) -> bytes:
    """A sync-committee member signs the head block root (the message's other fields are not)."""
    return _signing_root(
        Root(beacon_block_root).hash_tree_root(),
        DOMAIN_SYNC_COMMITTEE,
        fork_version,
        genesis_validators_root,
    )


def sync_selection_proof_signing_root(
    data: SyncAggregatorSelectionData, fork_version: bytes, genesis_validators_root: bytes
) -> bytes:
    """Sync-committee aggregator selection proof over (slot, subcommittee index)."""
    return _signing_root(
        data.hash_tree_root(),
        DOMAIN_SYNC_COMMITTEE_SELECTION_PROOF,
        fork_version,
        genesis_validators_root,
    )


def contribution_and_proof_signing_root(
    message: ContributionAndProof, fork_version: bytes, genesis_validators_root: bytes
) -> bytes:
    """What a sync-committee aggregator signs to publish its contribution."""
    return _signing_root(
        message.hash_tree_root(),
        DOMAIN_CONTRIBUTION_AND_PROOF,
        fork_version,
        genesis_validators_root,
    )


def voluntary_exit_signing_root(
    exit_message: VoluntaryExit, fork_version: bytes, genesis_validators_root: bytes
) -> bytes:
    """A voluntary exit. Since Deneb (EIP-7044) pass the CAPELLA fork version, whatever the
    current fork: `ChainConfig.voluntary_exit_fork_version` gives it."""
    return _signing_root(
        exit_message.hash_tree_root(),
        DOMAIN_VOLUNTARY_EXIT,
        fork_version,
        genesis_validators_root,
    )


def validator_registration_signing_root(
    registration: ValidatorRegistrationV1, genesis_fork_version: bytes
) -> bytes:
    """Builder registration: builder domain with the GENESIS fork version and a zero root, so
    it stays valid across forks (builder-specs)."""
    return _signing_root(
        registration.hash_tree_root(),
        DOMAIN_APPLICATION_BUILDER,
        genesis_fork_version,
        b"\x00" * 32,
    )


def compute_epoch_at_slot(slot: int, slots_per_epoch: int) -> int:
    """The epoch a slot belongs to (slots per epoch is a config value: 32 mainnet, 8 devnet)."""
    return slot // slots_per_epoch
