"""Domains and signing roots as the consensus specs define them (phase0 `compute_domain`,
`compute_signing_root`), and the deposit containers every layer needs.

Merkleization is remerkleable's; nothing here hand-rolls hashing of SSZ structures.
"""

from __future__ import annotations

from remerkleable.basic import uint64
from remerkleable.byte_arrays import ByteVector, Bytes4, Bytes32, Bytes48, Bytes96
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
        SigningData(object_root=Root(ssz_object_root), domain=ByteVector[32](domain)).hash_tree_root()
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
