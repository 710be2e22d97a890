"""Typed Beacon API objects that are not SSZ containers (duties, genesis, validator rows, …).

SSZ containers (blocks, attestations, …) are remerkleable types encoded by `json_codec`; the
API's own response objects are pydantic models here, using the same primitive encodings
(quoted decimal uint64, 0x-hex bytes with exact lengths) so that the server renders and the
client parses them with one definition. Unknown fields are ignored: real beacon nodes add
fields to responses without bumping an endpoint's version.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, ValidationInfo

from nektar.beacon.json_codec import CodecError, decode_hex, decode_uint

API_CONTEXT = {"api": True}
"""Validation context for JSON received over the API: there, integers must be quoted."""


def _uint(bits: int) -> Any:
    def parse(value: Any, info: ValidationInfo) -> int:
        from_python = not (info.context or {}).get("api")
        if from_python and isinstance(value, int) and not isinstance(value, bool):
            if not 0 <= value < 1 << bits:
                raise ValueError(f"{value} does not fit in uint{bits}")
            return value  # constructing a model from Python values
        try:
            return decode_uint(value, bits, "value")
        except CodecError as exc:
            raise ValueError(str(exc)) from exc

    return Annotated[int, BeforeValidator(parse), PlainSerializer(str, return_type=str)]


def _hex(length: int | None) -> Any:
    def parse(value: Any) -> bytes:
        if isinstance(value, bytes):
            if length is not None and len(value) != length:
                raise ValueError(f"expected {length} bytes, got {len(value)}")
            return value
        try:
            return decode_hex(value, length, "value")
        except CodecError as exc:
            raise ValueError(str(exc)) from exc

    return Annotated[
        bytes, BeforeValidator(parse), PlainSerializer(lambda b: "0x" + b.hex(), return_type=str)
    ]


def _strict_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected a JSON boolean, got {value!r}")
    return value


Uint64 = _uint(64)
Bytes4 = _hex(4)
Bytes20 = _hex(20)
Bytes32 = _hex(32)
Pubkey = _hex(48)
Signature = _hex(96)
HexBytes = _hex(None)
Bool = Annotated[bool, BeforeValidator(_strict_bool)]
T = TypeVar("T")

ValidatorStatus = Literal[
    "pending_initialized",
    "pending_queued",
    "active_ongoing",
    "active_exiting",
    "active_slashed",
    "exited_unslashed",
    "exited_slashed",
    "withdrawal_possible",
    "withdrawal_done",
]
STATUS_GROUPS = {
    "pending": ("pending_initialized", "pending_queued"),
    "active": ("active_ongoing", "active_exiting", "active_slashed"),
    "exited": ("exited_unslashed", "exited_slashed"),
    "withdrawal": ("withdrawal_possible", "withdrawal_done"),
}


class ApiModel(BaseModel):
    """Frozen, extra fields ignored; `to_json()` gives the spec's JSON form."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class Genesis(ApiModel):
    genesis_time: Uint64
    genesis_validators_root: Bytes32
    genesis_fork_version: Bytes4


class SyncingStatus(ApiModel):
    head_slot: Uint64
    sync_distance: Uint64
    is_syncing: Bool
    is_optimistic: Bool = False
    el_offline: Bool = False


class NodeMetadata(ApiModel):
    seq_number: Uint64
    attnets: HexBytes
    syncnets: HexBytes | None = None


class NodeIdentity(ApiModel):
    peer_id: str
    enr: str
    p2p_addresses: list[str]
    discovery_addresses: list[str]
    metadata: NodeMetadata


class PeerCount(ApiModel):
    disconnected: Uint64
    connecting: Uint64
    connected: Uint64
    disconnecting: Uint64


class Fork(ApiModel):
    previous_version: Bytes4
    current_version: Bytes4
    epoch: Uint64


class Checkpoint(ApiModel):
    epoch: Uint64
    root: Bytes32


class FinalityCheckpoints(ApiModel):
    previous_justified: Checkpoint
    current_justified: Checkpoint
    finalized: Checkpoint


class DepositContract(ApiModel):
    chain_id: Uint64
    address: Bytes20


class Validator(ApiModel):
    """The consensus-spec `Validator` record as the API renders it."""

    pubkey: Pubkey
    withdrawal_credentials: Bytes32
    effective_balance: Uint64
    slashed: Bool
    activation_eligibility_epoch: Uint64
    activation_epoch: Uint64
    exit_epoch: Uint64
    withdrawable_epoch: Uint64


class ValidatorInfo(ApiModel):
    index: Uint64
    balance: Uint64
    status: ValidatorStatus
    validator: Validator


class ValidatorBalance(ApiModel):
    index: Uint64
    balance: Uint64


class BeaconBlockHeader(ApiModel):
    slot: Uint64
    proposer_index: Uint64
    parent_root: Bytes32
    state_root: Bytes32
    body_root: Bytes32


class SignedBeaconBlockHeader(ApiModel):
    message: BeaconBlockHeader
    signature: Signature


class BlockHeaderInfo(ApiModel):
    root: Bytes32
    canonical: Bool
    header: SignedBeaconBlockHeader


class AttesterDuty(ApiModel):
    pubkey: Pubkey
    validator_index: Uint64
    committee_index: Uint64
    committee_length: Uint64
    committees_at_slot: Uint64
    validator_committee_index: Uint64
    slot: Uint64


class ProposerDuty(ApiModel):
    pubkey: Pubkey
    validator_index: Uint64
    slot: Uint64


class SyncDuty(ApiModel):
    pubkey: Pubkey
    validator_index: Uint64
    validator_sync_committee_indices: list[Uint64]


class BeaconCommitteeSubscription(ApiModel):
    validator_index: Uint64
    committee_index: Uint64
    committees_at_slot: Uint64
    slot: Uint64
    is_aggregator: Bool


class SyncCommitteeSubscription(ApiModel):
    validator_index: Uint64
    sync_committee_indices: list[Uint64]
    until_epoch: Uint64


class ProposerPreparation(ApiModel):
    validator_index: Uint64
    fee_recipient: Bytes20


class BeaconCommitteeSelection(ApiModel):
    validator_index: Uint64
    slot: Uint64
    selection_proof: Signature


class SyncCommitteeSelection(ApiModel):
    validator_index: Uint64
    slot: Uint64
    subcommittee_index: Uint64
    selection_proof: Signature


class Duties(ApiModel, Generic[T]):
    """Duties with the dependent root a client compares against head events to detect reorgs."""

    dependent_root: Bytes32 | None = None
    execution_optimistic: Bool = False
    data: list[T]


class HeadEvent(ApiModel):
    slot: Uint64
    block: Bytes32
    state: Bytes32
    epoch_transition: Bool
    previous_duty_dependent_root: Bytes32
    current_duty_dependent_root: Bytes32
    execution_optimistic: Bool = False


class BlockEvent(ApiModel):
    slot: Uint64
    block: Bytes32
    execution_optimistic: Bool = False


class FinalizedCheckpointEvent(ApiModel):
    block: Bytes32
    state: Bytes32
    epoch: Uint64
    execution_optimistic: Bool = False


class ChainReorgEvent(ApiModel):
    slot: Uint64
    depth: Uint64
    old_head_block: Bytes32
    new_head_block: Bytes32
    old_head_state: Bytes32
    new_head_state: Bytes32
    epoch: Uint64
    execution_optimistic: Bool = False
