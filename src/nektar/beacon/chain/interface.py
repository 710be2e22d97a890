"""The Python interface of a beacon node, as the Beacon API server calls it.

`DevnetBeaconNode` (node.py) implements `BeaconNode`. Every method is synchronous, thread-safe
(the node serialises calls with a lock) and fast enough to call from an event loop; only
`subscribe` is async-facing. SSZ objects are the remerkleable containers of
`nektar.crypto.signing` and `nektar.beacon.chain.containers`; query results are the frozen
dataclasses below. Identifiers follow the Beacon API:

- state id: "head" | "genesis" | "finalized" | "justified" | a slot (int or decimal str) |
  a 32-byte state root (bytes or 0x-hex str);
- block id: "head" | "genesis" | "finalized" | "justified" | a slot | a 32-byte block root.

Errors: `NotFound` (the API's 404), `InvalidRequest` (400), `SubmissionFailed` (400 with one
`ItemError` per rejected item of a batch; accepted items of the same batch ARE applied, as
Lighthouse and Teku do for pool submissions).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from nektar.beacon.chain.containers import (
    AttesterSlashing,
    BeaconBlock,
    ProposerSlashing,
    SignedBeaconBlock,
    SignedBeaconBlockHeader,
    SignedContributionAndProof,
    SignedVoluntaryExit,
    Validator,
)
from nektar.crypto.signing import (
    Attestation,
    AttestationData,
    Checkpoint,
    SignedAggregateAndProof,
    SingleAttestation,
    SyncCommitteeContribution,
    SyncCommitteeMessage,
)

T = TypeVar("T")
StateId = int | str | bytes
BlockId = int | str | bytes


class BeaconNodeError(Exception):
    """Base of every error the node reports to API callers."""


class NotFound(BeaconNodeError):
    """The state, block or validator asked for does not exist (HTTP 404)."""


class InvalidRequest(BeaconNodeError):
    """The request is malformed or not allowed now (HTTP 400)."""


@dataclass(frozen=True)
class ItemError:
    """One rejected item of a batch submission: its position in the batch and why."""

    index: int
    message: str


class SubmissionFailed(BeaconNodeError):
    """Some items of a batch were rejected; the others were accepted and applied."""

    def __init__(self, errors: Sequence[ItemError]):
        self.errors = list(errors)
        super().__init__("; ".join(f"item {e.index}: {e.message}" for e in self.errors))


class ValidatorStatus(enum.StrEnum):
    """The Beacon API's validator status strings (beacon-APIs ValidatorStatus)."""

    PENDING_INITIALIZED = "pending_initialized"
    PENDING_QUEUED = "pending_queued"
    ACTIVE_ONGOING = "active_ongoing"
    ACTIVE_EXITING = "active_exiting"
    ACTIVE_SLASHED = "active_slashed"
    EXITED_UNSLASHED = "exited_unslashed"
    EXITED_SLASHED = "exited_slashed"
    WITHDRAWAL_POSSIBLE = "withdrawal_possible"
    WITHDRAWAL_DONE = "withdrawal_done"

    @property
    def coarse(self) -> str:
        """The API's coarse filter value: pending, active, exited or withdrawal."""
        return self.value.split("_")[0]


@dataclass(frozen=True)
class Genesis:
    genesis_time: int
    genesis_validators_root: bytes
    genesis_fork_version: bytes


@dataclass(frozen=True)
class ForkInfo:
    """One fork: as /eth/v1/beacon/states/{id}/fork and /eth/v1/config/fork_schedule show it."""

    previous_version: bytes
    current_version: bytes
    epoch: int


@dataclass(frozen=True)
class StateRef:
    """What every state query also reports: which state answered and its flags."""

    slot: int
    state_root: bytes
    block_root: bytes
    finalized: bool
    execution_optimistic: bool = False


@dataclass(frozen=True)
class FinalityCheckpoints:
    previous_justified: Checkpoint
    current_justified: Checkpoint
    finalized: Checkpoint
    ref: StateRef


@dataclass(frozen=True)
class ValidatorInfo:
    index: int
    balance: int
    status: ValidatorStatus
    validator: Validator


@dataclass(frozen=True)
class ValidatorsResult:
    data: list[ValidatorInfo]
    ref: StateRef


@dataclass(frozen=True)
class BalanceInfo:
    index: int
    balance: int


@dataclass(frozen=True)
class BalancesResult:
    data: list[BalanceInfo]
    ref: StateRef


@dataclass(frozen=True)
class HeaderInfo:
    root: bytes
    canonical: bool
    header: SignedBeaconBlockHeader
    finalized: bool
    execution_optimistic: bool = False


@dataclass(frozen=True)
class BlockInfo:
    root: bytes
    block: SignedBeaconBlock
    finalized: bool
    version: str = "electra"
    execution_optimistic: bool = False


@dataclass(frozen=True)
class AttesterDuty:
    pubkey: bytes
    validator_index: int
    committee_index: int
    committee_length: int
    committees_at_slot: int
    validator_committee_index: int
    slot: int


@dataclass(frozen=True)
class ProposerDuty:
    pubkey: bytes
    validator_index: int
    slot: int


@dataclass(frozen=True)
class SyncDuty:
    pubkey: bytes
    validator_index: int
    validator_sync_committee_indices: list[int]


@dataclass(frozen=True)
class Duties(Generic[T]):
    """Duties of one epoch with the block root they depend on (a changed root means: refetch)."""

    dependent_root: bytes
    data: list[T]
    execution_optimistic: bool = False


@dataclass(frozen=True)
class ProducedBlock:
    """An unsigned block for /eth/v3/validator/blocks/{slot} (never blinded on the devnet)."""

    block: BeaconBlock
    version: str = "electra"
    execution_payload_blinded: bool = False
    execution_payload_value: int = 0
    consensus_block_value: int = 0


@dataclass(frozen=True)
class BeaconCommitteeSelection:
    validator_index: int
    slot: int
    selection_proof: bytes


@dataclass(frozen=True)
class SyncCommitteeSelection:
    validator_index: int
    slot: int
    subcommittee_index: int
    selection_proof: bytes


@dataclass(frozen=True)
class HeadEvent:
    slot: int
    block: bytes
    state: bytes
    epoch_transition: bool
    previous_duty_dependent_root: bytes
    current_duty_dependent_root: bytes
    execution_optimistic: bool = False


@dataclass(frozen=True)
class BlockEvent:
    slot: int
    block: bytes
    execution_optimistic: bool = False


@dataclass(frozen=True)
class AttestationEvent:
    """A verified attestation seen by the node (SingleAttestation or aggregate)."""

    attestation: Attestation | SingleAttestation


@dataclass(frozen=True)
class FinalizedCheckpointEvent:
    block: bytes
    state: bytes
    epoch: int
    execution_optimistic: bool = False


@dataclass(frozen=True)
class ChainReorgEvent:
    slot: int
    depth: int
    old_head_block: bytes
    new_head_block: bytes
    old_head_state: bytes
    new_head_state: bytes
    epoch: int
    execution_optimistic: bool = False


Event = HeadEvent | BlockEvent | AttestationEvent | FinalizedCheckpointEvent | ChainReorgEvent

EVENT_TOPICS: dict[type, str] = {
    HeadEvent: "head",
    BlockEvent: "block",
    AttestationEvent: "attestation",
    FinalizedCheckpointEvent: "finalized_checkpoint",
    ChainReorgEvent: "chain_reorg",
}


class EventStream(Protocol):
    """An async iterator of events of the subscribed topics; `close()` ends it."""

    def __aiter__(self) -> EventStream: ...

    async def __anext__(self) -> Event: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class NodeIdentity:
    version: str
    peer_id: str = "nektar-devnet"
    syncing: bool = False
    head_slot: int = 0
    sync_distance: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class BeaconNode(Protocol):
    """What the Beacon API server needs from a beacon node."""

    # -- node and config --------------------------------------------------------------------
    def identity(self) -> NodeIdentity: ...
    def genesis(self) -> Genesis: ...
    def spec(self) -> dict[str, str]:
        """/eth/v1/config/spec: every constant as a decimal or 0x-hex string."""
        ...

    def fork_schedule(self) -> list[ForkInfo]: ...
    def deposit_contract(self) -> tuple[int, str]:
        """(chain id, 0x address) of the deposit contract."""
        ...

    def current_slot(self) -> int:
        """The slot the node's clock is in (wall clock, or the fast-forwarded slot)."""
        ...

    # -- state queries ----------------------------------------------------------------------
    def state_ref(self, state_id: StateId) -> StateRef: ...
    def state_fork(self, state_id: StateId) -> ForkInfo: ...
    def finality_checkpoints(self, state_id: StateId) -> FinalityCheckpoints: ...
    def validators(
        self,
        state_id: StateId,
        ids: Sequence[int | bytes] = (),
        statuses: Sequence[str] = (),
    ) -> ValidatorsResult:
        """Validators by index or 48-byte pubkey (unknown ones are skipped, as the API says);
        `statuses` holds fine or coarse status names (e.g. "active_ongoing" or "active")."""
        ...

    def validator(self, state_id: StateId, validator_id: int | bytes) -> ValidatorInfo: ...
    def balances(self, state_id: StateId, ids: Sequence[int | bytes] = ()) -> BalancesResult: ...

    # -- blocks -----------------------------------------------------------------------------
    def header(self, block_id: BlockId) -> HeaderInfo: ...
    def headers(
        self, slot: int | None = None, parent_root: bytes | None = None
    ) -> list[HeaderInfo]: ...
    def block(self, block_id: BlockId) -> BlockInfo: ...
    def block_root(self, block_id: BlockId) -> bytes: ...

    # -- duties and production --------------------------------------------------------------
    def attester_duties(self, epoch: int, indices: Sequence[int]) -> Duties[AttesterDuty]: ...
    def proposer_duties(self, epoch: int) -> Duties[ProposerDuty]: ...
    def sync_duties(self, epoch: int, indices: Sequence[int]) -> Duties[SyncDuty]: ...
    def attestation_data(self, slot: int, committee_index: int) -> AttestationData: ...
    def produce_block(
        self, slot: int, randao_reveal: bytes, graffiti: bytes = b""
    ) -> ProducedBlock: ...
    def aggregate_attestation(
        self, slot: int, attestation_data_root: bytes, committee_index: int
    ) -> Attestation: ...
    def sync_committee_contribution(
        self, slot: int, subcommittee_index: int, beacon_block_root: bytes
    ) -> SyncCommitteeContribution: ...
    def beacon_committee_selections(
        self, selections: Sequence[BeaconCommitteeSelection]
    ) -> list[BeaconCommitteeSelection]: ...
    def sync_committee_selections(
        self, selections: Sequence[SyncCommitteeSelection]
    ) -> list[SyncCommitteeSelection]: ...

    # -- submissions (each raises SubmissionFailed listing rejected items) -------------------
    def submit_block(self, signed_block: SignedBeaconBlock) -> bytes:
        """Verify and import a block; returns its root. Raises InvalidRequest if invalid."""
        ...

    def submit_attestations(self, attestations: Sequence[SingleAttestation]) -> None: ...
    def submit_aggregates(self, aggregates: Sequence[SignedAggregateAndProof]) -> None: ...
    def submit_sync_messages(self, messages: Sequence[SyncCommitteeMessage]) -> None: ...
    def submit_contributions(self, contributions: Sequence[SignedContributionAndProof]) -> None: ...

    def submit_voluntary_exit(self, exit_message: SignedVoluntaryExit) -> None: ...
    def submit_proposer_slashing(self, slashing: ProposerSlashing) -> None: ...
    def submit_attester_slashing(self, slashing: AttesterSlashing) -> None: ...
    def pool_attestations(
        self, slot: int | None = None, committee_index: int | None = None
    ) -> list[Attestation]: ...
    def pool_voluntary_exits(self) -> list[SignedVoluntaryExit]: ...
    def pool_proposer_slashings(self) -> list[ProposerSlashing]: ...
    def pool_attester_slashings(self) -> list[AttesterSlashing]: ...

    # -- events -----------------------------------------------------------------------------
    def subscribe(self, topics: Sequence[str]) -> EventStream:
        """Events of `topics` (names of EVENT_TOPICS) from now on, delivered on the caller's
        running event loop. Unknown topic → InvalidRequest."""
        ...
