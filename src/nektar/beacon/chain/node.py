"""DevnetBeaconNode: the devnet's beacon node, implementing `interface.BeaconNode`.

One canonical chain (no forks: a block must build on the head), driven slot by slot either by
`SlotClock` (wall time) or by `advance_slots` (tests, benchmarks). At the start of a slot the
node polls deposits and, if the proposer is one of its *managed* validators (genesis keys it
holds, like an interop validator client), proposes. At the attestation deadline (a third into
the slot, or when the slot is left) managed validators attest and sign sync messages. Other
validators act through the API methods; when they don't, they simply miss their duties.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from nektar.beacon.chain import containers as c
from nektar.beacon.chain.block import (
    add_attestation_signature,
    attesting_indices,
    expected_payload,
    expected_withdrawals,
    participation_flag_indices,
    process_attester_slashing,
    process_block,
    process_proposer_slashing,
    process_voluntary_exit,
    state_transition,
    validate_attestation_shape,
)
from nektar.beacon.chain.config import FAR_FUTURE_EPOCH, BeaconConfig
from nektar.beacon.chain.epoch import TransitionError, process_slots
from nektar.beacon.chain.interface import (
    EVENT_TOPICS,
    AttestationEvent,
    AttesterDuty,
    BalanceInfo,
    BalancesResult,
    BeaconCommitteeSelection,
    BlockEvent,
    BlockId,
    BlockInfo,
    Duties,
    Event,
    FinalityCheckpoints,
    FinalizedCheckpointEvent,
    ForkInfo,
    Genesis,
    HeaderInfo,
    HeadEvent,
    InvalidRequest,
    ItemError,
    NodeIdentity,
    NotFound,
    ProducedBlock,
    ProposerDuty,
    StateId,
    StateRef,
    SubmissionFailed,
    SyncCommitteeSelection,
    SyncDuty,
    ValidatorInfo,
    ValidatorsResult,
    ValidatorStatus,
)
from nektar.beacon.chain.pools import (
    AttestationPool,
    SeenItems,
    SlashingDetector,
    SyncPool,
    Vote,
    electra_attestation,
)
from nektar.beacon.chain.shuffling import sha256
from nektar.beacon.chain.signatures import (
    SignatureBatch,
    SignatureError,
    compress,
    signing_root,
    sum_signatures,
)
from nektar.beacon.chain.sources import DepositSource, WithdrawalSink
from nektar.beacon.chain.state import BeaconState, ValidatorRecord
from nektar.chain import ChainError
from nektar.crypto import bls
from nektar.crypto.signing import (
    DOMAIN_AGGREGATE_AND_PROOF,
    DOMAIN_BEACON_ATTESTER,
    DOMAIN_BEACON_PROPOSER,
    DOMAIN_CONTRIBUTION_AND_PROOF,
    DOMAIN_RANDAO,
    DOMAIN_SELECTION_PROOF,
    DOMAIN_SYNC_COMMITTEE,
    DOMAIN_SYNC_COMMITTEE_SELECTION_PROOF,
    SYNC_COMMITTEE_SIZE,
    SYNC_COMMITTEE_SUBNET_COUNT,
    Attestation,
    AttestationData,
    Checkpoint,
    Epoch,
    Root,
    SignedAggregateAndProof,
    SingleAttestation,
    Slot,
    SyncAggregatorSelectionData,
    SyncCommitteeContribution,
    SyncCommitteeMessage,
)

log = logging.getLogger(__name__)

INFINITY_SIGNATURE = b"\xc0" + b"\x00" * 95
STATE_HISTORY = 64
PAID_WITHDRAWALS_KEPT = 65_536
SUBCOMMITTEE_SIZE = SYNC_COMMITTEE_SIZE // SYNC_COMMITTEE_SUBNET_COUNT
ATTESTATION_PROPAGATION_SLOT_RANGE = 32
NODE_VERSION = "Nektar/devnet-0.1"

# A pool submission, once checked against the state: its signature sets, its slot, and the
# step that applies it after verification (returns a problem that rejects it, or None).
Apply = Callable[[], str | None]
Prepared = tuple[SignatureBatch, int, Apply]
Prepare = Callable[[Any], Prepared]
SubmittedItem = (
    SingleAttestation
    | SignedAggregateAndProof
    | SyncCommitteeMessage
    | c.SignedContributionAndProof
)


@dataclass
class StoredBlock:
    root: bytes
    signed: c.SignedBeaconBlock
    post_state: BeaconState | None  # pruned for old blocks

    @property
    def slot(self) -> int:
        return int(self.signed.message.slot)


class _Subscription:
    def __init__(self, node: DevnetBeaconNode, topics: frozenset[str]) -> None:
        self.node = node
        self.topics = topics
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue()

    def __aiter__(self) -> _Subscription:
        return self

    async def __anext__(self) -> Event:
        event = await self.queue.get()
        if event is None:
            raise StopAsyncIteration
        return event

    def deliver(self, event: Event | None) -> None:
        try:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, event)
        except RuntimeError:  # the subscriber's loop is closed
            self.node._unsubscribe(self)

    def close(self) -> None:
        self.node._unsubscribe(self)
        self.deliver(None)


def _status(record: ValidatorRecord, balance: int, epoch: int) -> ValidatorStatus:
    """The Beacon API status of a validator at `epoch` (beacon-APIs validator-flow)."""
    if record.activation_epoch > epoch:
        if record.activation_eligibility_epoch == FAR_FUTURE_EPOCH:
            return ValidatorStatus.PENDING_INITIALIZED
        return ValidatorStatus.PENDING_QUEUED
    if epoch < record.exit_epoch:
        if record.exit_epoch == FAR_FUTURE_EPOCH:
            return ValidatorStatus.ACTIVE_ONGOING
        return ValidatorStatus.ACTIVE_SLASHED if record.slashed else ValidatorStatus.ACTIVE_EXITING
    if epoch < record.withdrawable_epoch:
        return (
            ValidatorStatus.EXITED_SLASHED if record.slashed else ValidatorStatus.EXITED_UNSLASHED
        )
    return ValidatorStatus.WITHDRAWAL_POSSIBLE if balance > 0 else ValidatorStatus.WITHDRAWAL_DONE


def _by_subcommittee(positions: Sequence[int] | frozenset[int]) -> list[frozenset[int]]:
    """Split sync-committee positions by subcommittee: every pooled sync signature covers one
    subcommittee only, so contributions per subcommittee can be cut from the pool."""
    groups: dict[int, set[int]] = {}
    for p in positions:
        groups.setdefault(p // SUBCOMMITTEE_SIZE, set()).add(p)
    return [frozenset(g) for _, g in sorted(groups.items())]


@lru_cache(maxsize=8)
def sync_positions(committee: tuple[bytes, ...]) -> dict[bytes, tuple[int, ...]]:
    """Pubkey → its positions in a sync committee (a validator may hold several)."""
    positions: dict[bytes, list[int]] = {}
    for p, pubkey in enumerate(committee):
        positions.setdefault(pubkey, []).append(p)
    return {pk: tuple(ps) for pk, ps in positions.items()}


def _parse_root(value: str | bytes) -> bytes | None:
    if isinstance(value, bytes):
        return value if len(value) == 32 else None
    if value.startswith("0x") and len(value) == 66:
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            return None
    return None


class DevnetBeaconNode:
    """The embedded devnet beacon node (see module docstring and docs/beacon-chain.md)."""

    def __init__(
        self,
        genesis: BeaconState,
        *,
        managed_keys: Mapping[int, int] | None = None,
        deposits: DepositSource | None = None,
        withdrawals: WithdrawalSink | None = None,
    ) -> None:
        self.cfg: BeaconConfig = genesis.cfg
        self._lock = threading.RLock()
        # Serialises signature verification of submissions, which runs outside `_lock`.
        self._verify_lock = threading.Lock()
        self._seen = SeenItems()
        self._proposer_duties: dict[tuple[int, bytes], Duties[ProposerDuty]] = {}
        self._managed = dict(managed_keys or {})
        self._deposit_source = deposits
        self._withdrawal_sink = withdrawals
        self._deposit_requests: list[c.DepositRequest] = []
        self._el_cursor: dict[bytes, int] = {}
        genesis_block = c.BeaconBlock(state_root=genesis.hash_tree_root())
        root = bytes(genesis_block.hash_tree_root())
        signed = c.SignedBeaconBlock(message=genesis_block, signature=INFINITY_SIGNATURE)
        self._genesis_state = genesis.copy()
        self._blocks: dict[bytes, StoredBlock] = {root: StoredBlock(root, signed, genesis.copy())}
        self._canonical: dict[int, bytes] = {0: root}
        self._state_roots: dict[bytes, bytes] = {bytes(genesis_block.state_root): root}
        self._el_cursor[root] = 0
        self._genesis_root = root
        self._head = root
        self._slot = 0
        self._attested: set[int] = set()
        self._advanced: dict[tuple[bytes, int], BeaconState] = {}
        self._attestations = AttestationPool()
        self._sync = SyncPool()
        self._detector = SlashingDetector()
        self._proposer_slashings: dict[int, c.ProposerSlashing] = {}
        self._attester_slashings: dict[bytes, c.AttesterSlashing] = {}
        self._exits: dict[int, c.SignedVoluntaryExit] = {}
        self._subs: list[_Subscription] = []
        self._finalized_epoch = 0
        # The most recent withdrawals paid out (for tests and the devnet summary).
        self.paid_withdrawals: deque[c.Withdrawal] = deque(maxlen=PAID_WITHDRAWALS_KEPT)

    # ------------------------------------------------------------------ slot driving
    def advance_slots(self, count: int = 1) -> int:
        """Leave the current slot (managed attestations happen) and start the next `count`
        slots one by one, without waiting for wall time. Returns the new slot."""
        if count < 0:
            raise InvalidRequest("cannot advance by a negative number of slots")
        with self._lock:
            for _ in range(count):
                self.attestation_deadline(self._slot)
                self.start_slot(self._slot + 1)
            return self._slot

    def start_slot(self, slot: int) -> None:
        """Enter `slot`: poll deposits, prune pools, let a managed proposer propose."""
        with self._lock:
            if slot <= self._slot:
                return
            for missed in range(self._slot, slot):
                self.attestation_deadline(missed)
            self._slot = slot
            try:
                self._poll_deposits()
            except ChainError as exc:  # the EVM is unreachable: retry next slot, keep going
                log.warning("could not read deposits at slot %d: %s", slot, exc)
            keep = max(0, slot - ATTESTATION_PROPAGATION_SLOT_RANGE)
            self._attestations.prune(keep)
            self._sync.prune(slot - 2)
            self._seen.prune(keep)
            self._advanced = {k: v for k, v in self._advanced.items() if k[1] >= slot - 1}
            proposer = self._state_at_slot(slot).proposer_index
            if proposer in self._managed:
                try:
                    self._managed_propose(slot, proposer)
                except InvalidRequest as exc:  # never stop the clock: the slot stays empty
                    log.error(
                        "managed validator %d missed its proposal at slot %d: %s",
                        proposer,
                        slot,
                        exc,
                    )

    def attestation_deadline(self, slot: int) -> None:
        """Managed validators attest (and sign sync messages) for `slot`, once."""
        with self._lock:
            if slot in self._attested or slot == 0 or not self._managed:
                self._attested.add(slot)
                return
            self._attested.add(slot)
            self._attested = {s for s in self._attested if s >= slot - 4}
            self._managed_attest(slot)
            self._managed_sync(slot)

    def current_slot(self) -> int:
        return self._slot

    # ------------------------------------------------------------------ managed validators
    def _sign_sum(self, indices: Sequence[int], root: bytes) -> bytes:
        """One signature equal to the aggregate of each index's signature over `root`: the sum
        of their secret keys signs (BLS is linear), so managed committees cost one signing."""
        secret = sum(self._managed[i] for i in indices) % bls.CURVE_ORDER
        return bls.sign(secret, root) if secret else INFINITY_SIGNATURE

    def _managed_propose(self, slot: int, proposer: int) -> None:
        state = self._state_at_slot(slot)
        epoch_root = signing_root(
            Epoch(state.current_epoch).hash_tree_root(), state.domain(DOMAIN_RANDAO)
        )
        randao = bls.sign(self._managed[proposer], epoch_root)
        block = self.produce_block(slot, randao, b"nektar managed").block
        signature = bls.sign(
            self._managed[proposer],
            signing_root(block.hash_tree_root(), state.domain(DOMAIN_BEACON_PROPOSER)),
        )
        self.submit_block(c.SignedBeaconBlock(message=block, signature=signature))

    def _managed_attest(self, slot: int) -> None:
        state = self._state_at_slot(slot)
        data = self._attestation_data(slot)
        root = signing_root(
            data.hash_tree_root(), state.domain(DOMAIN_BEACON_ATTESTER, int(data.target.epoch))
        )
        for index in range(state.committee_count_per_slot(state.current_epoch)):
            committee = state.beacon_committee(slot, index)
            positions = [p for p, v in enumerate(committee) if v in self._managed]
            if positions:
                sig = bls.decode_signature(self._sign_sum([committee[p] for p in positions], root))
                self._attestations.add_aggregate(
                    data, index, len(committee), frozenset(positions), sig
                )

    def _managed_sync(self, slot: int) -> None:
        state = self._state_at_slot(slot)
        committee = self._signing_sync_committee(state, slot)
        positions = [p for p, pk in enumerate(committee) if state.pubkey_index[pk] in self._managed]
        if not positions:
            return
        head = self._block_root_at_or_before(slot)
        root = signing_root(Root(head).hash_tree_root(), state.domain(DOMAIN_SYNC_COMMITTEE))
        for part in _by_subcommittee(positions):
            members = [state.pubkey_index[committee[p]] for p in part]
            self._sync.add(slot, head, part, bls.decode_signature(self._sign_sum(members, root)))

    # ------------------------------------------------------------------ deposits / withdrawals
    def _poll_deposits(self) -> None:
        if self._deposit_source is None:
            return
        for request in self._deposit_source.poll():
            if int(request.index) != len(self._deposit_requests):
                raise TransitionError(
                    f"deposit index {int(request.index)} out of order "
                    f"(expected {len(self._deposit_requests)})"
                )
            self._deposit_requests.append(request)

    def _next_deposit_requests(self, parent_root: bytes) -> list[c.DepositRequest]:
        cursor = self._el_cursor[parent_root]
        return self._deposit_requests[cursor : cursor + c.MAX_DEPOSIT_REQUESTS_PER_PAYLOAD]

    # ------------------------------------------------------------------ states
    def _stored(self, root: bytes) -> StoredBlock:
        stored = self._blocks.get(root)
        if stored is None:
            raise NotFound(f"block 0x{root.hex()} not found")
        return stored

    def _post_state(self, root: bytes) -> BeaconState:
        state = self._stored(root).post_state
        if state is None:
            raise NotFound(f"state of block 0x{root.hex()} was pruned (the node keeps recent ones)")
        return state

    def _state_at_slot(self, slot: int) -> BeaconState:
        """The canonical state at `slot`: the head (or latest block ≤ slot) advanced to it."""
        root = self._block_root_at_or_before(slot)
        key = (root, slot)
        state = self._advanced.get(key)
        if state is None:
            base = self._post_state(root)
            if base.slot == slot:
                return base
            state = base.copy()
            process_slots(state, slot)
            self._advanced[key] = state
        return state

    def _block_root_at_or_before(self, slot: int) -> bytes:
        head = self._blocks[self._head]
        if slot >= head.slot:
            return self._head
        for s in range(slot, -1, -1):
            root = self._canonical.get(s)
            if root is not None:
                return root
        return self._genesis_root

    def _resolve_state(self, state_id: StateId) -> tuple[BeaconState, bytes]:
        """(state, block root) for a Beacon API state id."""
        if isinstance(state_id, str) and state_id.isascii() and state_id.isdigit():
            state_id = int(state_id)
        if isinstance(state_id, int):
            if state_id < 0 or state_id > self._slot:
                raise NotFound(f"no state at slot {state_id} (current slot {self._slot})")
            root = self._block_root_at_or_before(state_id)
            if self._blocks[root].slot == state_id:
                return self._post_state(root), root
            try:
                return self._state_at_slot(state_id), root
            except NotFound:
                raise
        if state_id == "head":
            return self._post_state(self._head), self._head
        if state_id == "genesis":
            return self._genesis_state, self._genesis_root
        head_state = self._post_state(self._head)
        if state_id in ("finalized", "justified"):
            cp = (
                head_state.finalized_checkpoint
                if state_id == "finalized"
                else head_state.current_justified_checkpoint
            )
            root = cp.root if cp.epoch > 0 else self._genesis_root
            return self._post_state(root), root
        root = _parse_root(state_id)
        if root is None:
            raise InvalidRequest(f"invalid state id {state_id!r}")
        block_root = self._state_roots.get(root)
        if block_root is None:
            raise NotFound(f"state 0x{root.hex()} not found")
        return self._post_state(block_root), block_root

    def _ref(self, state: BeaconState, block_root: bytes) -> StateRef:
        stored = self._blocks[block_root]
        state_root = (
            bytes(stored.signed.message.state_root)
            if stored.slot == state.slot
            else state.hash_tree_root()
        )
        return StateRef(
            slot=state.slot,
            state_root=state_root,
            block_root=block_root,
            finalized=state.slot <= self._finalized_epoch * self.cfg.slots_per_epoch,
        )

    # ------------------------------------------------------------------ node / config
    def identity(self) -> NodeIdentity:
        with self._lock:
            return NodeIdentity(version=NODE_VERSION, head_slot=self._blocks[self._head].slot)

    def genesis(self) -> Genesis:
        return Genesis(
            genesis_time=self._genesis_state.genesis_time,
            genesis_validators_root=self._genesis_state.genesis_validators_root,
            genesis_fork_version=self.cfg.chain.genesis_fork_version,
        )

    def spec(self) -> dict[str, str]:
        return self.cfg.spec_dict()

    def fork_schedule(self) -> list[ForkInfo]:
        forks = self.cfg.chain.forks
        return [
            ForkInfo(forks[max(i - 1, 0)].version, fork.version, fork.epoch)
            for i, fork in enumerate(forks)
        ]

    def deposit_contract(self) -> tuple[int, str]:
        chain = self.cfg.chain
        return chain.deposit_chain_id, chain.deposit_contract_address or "0x" + "00" * 20

    # ------------------------------------------------------------------ state queries
    def state_ref(self, state_id: StateId) -> StateRef:
        with self._lock:
            return self._ref(*self._resolve_state(state_id))

    def state_fork(self, state_id: StateId) -> ForkInfo:
        with self._lock:
            state, _ = self._resolve_state(state_id)
            return ForkInfo(*state.fork)

    def finality_checkpoints(self, state_id: StateId) -> FinalityCheckpoints:
        with self._lock:
            state, root = self._resolve_state(state_id)
            return FinalityCheckpoints(
                previous_justified=state.previous_justified_checkpoint.ssz(),
                current_justified=state.current_justified_checkpoint.ssz(),
                finalized=state.finalized_checkpoint.ssz(),
                ref=self._ref(state, root),
            )

    def _select(self, state: BeaconState, ids: Sequence[int | bytes]) -> list[int]:
        if not ids:
            return list(range(len(state.validators)))
        out = []
        for vid in ids:
            if isinstance(vid, bytes | bytearray):
                if len(vid) != 48:
                    raise InvalidRequest("a validator pubkey is 48 bytes")
                index = state.index_of(bytes(vid))
            elif isinstance(vid, int) and vid >= 0:
                index = vid if vid < len(state.validators) else None
            else:
                raise InvalidRequest(f"invalid validator id {vid!r}")
            if index is not None:
                out.append(index)
        return out

    def _info(self, state: BeaconState, index: int) -> ValidatorInfo:
        record = state.validators[index]
        balance = state.balances[index]
        return ValidatorInfo(
            index, balance, _status(record, balance, state.current_epoch), record.ssz()
        )

    def validators(
        self, state_id: StateId, ids: Sequence[int | bytes] = (), statuses: Sequence[str] = ()
    ) -> ValidatorsResult:
        wanted = set(statuses)
        known = {s.value for s in ValidatorStatus} | {s.coarse for s in ValidatorStatus}
        if not wanted <= known:
            raise InvalidRequest(f"unknown validator status {sorted(wanted - known)}")
        with self._lock:
            state, root = self._resolve_state(state_id)
            infos = [self._info(state, i) for i in self._select(state, ids)]
            if wanted:
                infos = [i for i in infos if i.status.value in wanted or i.status.coarse in wanted]
            return ValidatorsResult(infos, self._ref(state, root))

    def validator(self, state_id: StateId, validator_id: int | bytes) -> ValidatorInfo:
        with self._lock:
            state, _ = self._resolve_state(state_id)
            found = self._select(state, [validator_id])
            if not found:
                raise NotFound(f"validator {validator_id!r} not found")
            return self._info(state, found[0])

    def balances(self, state_id: StateId, ids: Sequence[int | bytes] = ()) -> BalancesResult:
        with self._lock:
            state, root = self._resolve_state(state_id)
            data = [BalanceInfo(i, state.balances[i]) for i in self._select(state, ids)]
            return BalancesResult(data, self._ref(state, root))

    # ------------------------------------------------------------------ blocks
    def block_root(self, block_id: BlockId) -> bytes:
        with self._lock:
            if isinstance(block_id, str) and block_id.isascii() and block_id.isdigit():
                block_id = int(block_id)
            if isinstance(block_id, int):
                root = self._canonical.get(block_id)
                if root is None:
                    raise NotFound(f"no block at slot {block_id}")
                return root
            if block_id == "head":
                return self._head
            if block_id == "genesis":
                return self._genesis_root
            if block_id in ("finalized", "justified"):
                state = self._post_state(self._head)
                cp = (
                    state.finalized_checkpoint
                    if block_id == "finalized"
                    else state.current_justified_checkpoint
                )
                return cp.root if cp.epoch > 0 else self._genesis_root
            root = _parse_root(block_id)
            if root is None:
                raise InvalidRequest(f"invalid block id {block_id!r}")
            self._stored(root)
            return root

    def _finalized_block(self, stored: StoredBlock) -> bool:
        return stored.slot <= self._finalized_epoch * self.cfg.slots_per_epoch

    def block(self, block_id: BlockId) -> BlockInfo:
        with self._lock:
            stored = self._stored(self.block_root(block_id))
            return BlockInfo(stored.root, stored.signed, self._finalized_block(stored))

    def _header_info(self, stored: StoredBlock) -> HeaderInfo:
        header = c.SignedBeaconBlockHeader(
            message=c.block_header(stored.signed.message), signature=stored.signed.signature
        )
        return HeaderInfo(stored.root, True, header, self._finalized_block(stored))

    def header(self, block_id: BlockId) -> HeaderInfo:
        with self._lock:
            return self._header_info(self._stored(self.block_root(block_id)))

    def headers(
        self, slot: int | None = None, parent_root: bytes | None = None
    ) -> list[HeaderInfo]:
        with self._lock:
            if slot is None and parent_root is None:
                return [self._header_info(self._blocks[self._head])]
            found = [
                self._blocks[root]
                for s, root in sorted(self._canonical.items())
                if slot is None or s == slot
            ]
            if parent_root is not None:
                found = [b for b in found if bytes(b.signed.message.parent_root) == parent_root]
            return [self._header_info(b) for b in found]

    # ------------------------------------------------------------------ duties
    def _duty_state(self, epoch: int) -> BeaconState:
        current = self._slot // self.cfg.slots_per_epoch
        if epoch > current + 1:
            raise InvalidRequest(f"duties of epoch {epoch} are not known yet (current {current})")
        if epoch < current - 1:
            raise InvalidRequest(f"epoch {epoch} is too old for duties (current {current})")
        return self._state_at_slot(max(self._slot, self._blocks[self._head].slot))

    def _dependent_root(self, slot: int) -> bytes:
        return self._genesis_root if slot < 0 else self._block_root_at_or_before(slot)

    def attester_duties(self, epoch: int, indices: Sequence[int]) -> Duties[AttesterDuty]:
        """O(validators asked): looked up in the epoch's cached assignments."""
        with self._lock:
            state = self._duty_state(epoch)
            per_slot = state.committee_count_per_slot(epoch)
            assignments = state.attester_assignments(epoch)
            found = sorted(
                (assignments[v], v)
                for v in set(indices)
                if 0 <= v < len(state.validators) and v in assignments
            )
            duties = [
                AttesterDuty(state.validators[v].pubkey, v, ci, size, per_slot, pos, slot)
                for (slot, ci, pos, size), v in found
            ]
            spe = self.cfg.slots_per_epoch
            return Duties(self._dependent_root(epoch * spe - spe - 1), duties)

    def proposer_duties(self, epoch: int) -> Duties[ProposerDuty]:
        """Computed once per (epoch, dependent root): the next epoch's proposers need the
        state advanced through epoch processing, which is not paid again for every caller."""
        with self._lock:
            state = self._duty_state(epoch)
            spe = self.cfg.slots_per_epoch
            dependent_root = self._dependent_root(epoch * spe - 1)
            key = (epoch, dependent_root)
            cached = self._proposer_duties.get(key)
            if cached is not None:
                return cached
            if state.current_epoch < epoch:
                state = state.copy()
                process_slots(state, epoch * spe)
            duties = []
            for slot in range(epoch * spe, (epoch + 1) * spe):
                if slot == 0:
                    continue
                index = state.proposer_index_at(slot)
                duties.append(ProposerDuty(state.validators[index].pubkey, index, slot))
            if len(self._proposer_duties) >= 8:
                self._proposer_duties.clear()
            self._proposer_duties[key] = Duties(dependent_root, duties)
            return self._proposer_duties[key]

    def _sync_committee_for(self, state: BeaconState, epoch: int) -> tuple[bytes, ...]:
        period = self.cfg.epochs_per_sync_committee_period
        current_period = state.current_epoch // period
        if epoch // period == current_period:
            return state.current_sync_committee
        if epoch // period == current_period + 1:
            return state.next_sync_committee
        raise InvalidRequest(f"sync committee of epoch {epoch} is not known")

    def _signing_sync_committee(self, state: BeaconState, slot: int) -> tuple[bytes, ...]:
        """Who signs at `slot`: the committee of slot + 1, whose block carries the aggregate
        (altair validator guide: membership starts one slot before the period)."""
        return self._sync_committee_for(state, (slot + 1) // self.cfg.slots_per_epoch)

    def sync_duties(self, epoch: int, indices: Sequence[int]) -> Duties[SyncDuty]:
        with self._lock:
            state = self._state_at_slot(self._slot)
            positions = sync_positions(self._sync_committee_for(state, epoch))
            duties = []
            for index in sorted(set(indices)):
                if not 0 <= index < len(state.validators):
                    continue
                pk = state.validators[index].pubkey
                if pk in positions:
                    duties.append(SyncDuty(pk, index, list(positions[pk])))
            return Duties(self._dependent_root(-1), duties)

    # ------------------------------------------------------------------ production
    def _attestation_data(self, slot: int) -> AttestationData:
        state = self._state_at_slot(slot)
        head = self._block_root_at_or_before(slot)
        epoch = state.current_epoch
        start = state.epoch_start_slot(epoch)
        # The target is the epoch's boundary block: the head itself if it is not later.
        target_root = head if self._blocks[head].slot <= start else state.block_root_at_slot(start)
        return AttestationData(
            slot=slot,
            index=0,
            beacon_block_root=head,
            source=state.current_justified_checkpoint.ssz(),
            target=Checkpoint(epoch=epoch, root=target_root),
        )

    def attestation_data(self, slot: int, committee_index: int) -> AttestationData:
        with self._lock:
            if slot > self._slot or slot + ATTESTATION_PROPAGATION_SLOT_RANGE < self._slot:
                raise InvalidRequest(f"slot {slot} is outside the attestable range")
            state = self._state_at_slot(slot)
            if not 0 <= committee_index < state.committee_count_per_slot(state.current_epoch):
                raise InvalidRequest(f"committee index {committee_index} does not exist")
            return self._attestation_data(slot)

    def produce_block(
        self, slot: int, randao_reveal: bytes, graffiti: bytes = b""
    ) -> ProducedBlock:
        with self._lock:
            if slot <= self._blocks[self._head].slot or slot > self._slot:
                raise InvalidRequest(
                    f"cannot produce a block for slot {slot} (head {self._blocks[self._head].slot},"
                    f" current {self._slot})"
                )
            if len(graffiti) > 32:
                raise InvalidRequest("graffiti is at most 32 bytes")
            pre = self._state_at_slot(slot)
            proposer = pre.proposer_index
            reveal_root = signing_root(
                Epoch(pre.current_epoch).hash_tree_root(), pre.domain(DOMAIN_RANDAO)
            )
            if not bls.verify(pre.validators[proposer].pubkey, reveal_root, randao_reveal):
                raise InvalidRequest("invalid randao reveal for the proposer of this slot")
            requests = c.ExecutionRequests(deposits=self._next_deposit_requests(self._head))
            scratch = pre.copy()
            body = c.BeaconBlockBody(
                randao_reveal=randao_reveal,
                eth1_data=pre.eth1_data,
                graffiti=graffiti.ljust(32, b"\x00"),
                proposer_slashings=self._pick(
                    scratch, list(self._proposer_slashings.values()), 16, process_proposer_slashing
                ),
                attester_slashings=self._pick(
                    scratch, list(self._attester_slashings.values()), 1, process_attester_slashing
                ),
                voluntary_exits=self._pick(
                    scratch, list(self._exits.values()), 16, process_voluntary_exit
                ),
                attestations=self._pack_attestations(pre),
                sync_aggregate=self._sync_aggregate(pre),
                execution_payload=expected_payload(pre, expected_withdrawals(pre), requests),
                execution_requests=requests,
            )
            block = c.BeaconBlock(
                slot=slot,
                proposer_index=proposer,
                parent_root=self._head,
                body=body,
            )
            post = pre.copy()
            try:
                process_block(post, block, requests, SignatureBatch())
            except TransitionError as exc:  # pool content went stale: an internal fault
                raise InvalidRequest(f"could not build a valid block: {exc}") from exc
            block.state_root = post.hash_tree_root()
            return ProducedBlock(block=block)

    @staticmethod
    def _pick(scratch: BeaconState, items: list, limit: int, apply) -> list:  # type: ignore[no-untyped-def]
        """Operations still valid on `scratch` (applied to it in order), up to `limit`."""
        chosen = []
        for item in items:
            if len(chosen) == limit:
                break
            trial = scratch.copy()
            batch = SignatureBatch()
            try:
                apply(trial, item, batch)
                batch.verify()
            except (TransitionError, SignatureError, ValueError):
                continue
            apply(scratch, item, SignatureBatch())
            chosen.append(item)
        return chosen

    def _pack_attestations(self, state: BeaconState) -> list[Attestation]:
        candidates: list[tuple[int, Attestation]] = []
        for _root, entries in self._attestations.by_data(state.slot - 1).items():
            data = entries[0].data
            parts = [(e, best) for e in entries if (best := e.best()) is not None]
            if not parts:
                continue
            attestation = electra_attestation(data, parts)
            try:
                validate_attestation_shape(state, attestation)
                flags = participation_flag_indices(state, data, state.slot - int(data.slot))
            except (TransitionError, ValueError):
                continue
            participation = (
                state.current_epoch_participation
                if int(data.target.epoch) == state.current_epoch
                else state.previous_epoch_participation
            )
            new = sum(
                1
                for v in attesting_indices(state, attestation)
                if any(not participation[v] & (1 << f) for f in flags)
            )
            if new:
                candidates.append((new, attestation))
        candidates.sort(key=lambda item: -item[0])
        return [a for _, a in candidates[: c.MAX_ATTESTATIONS_ELECTRA]]

    def _sync_aggregate(self, state: BeaconState) -> c.SyncAggregate:
        previous = max(state.slot, 1) - 1
        best = self._sync.best(previous, state.block_root_at_slot(previous))
        if best is None:
            return c.SyncAggregate(sync_committee_signature=INFINITY_SIGNATURE)
        positions, signature = best
        bits = [p in positions for p in range(SYNC_COMMITTEE_SIZE)]
        return c.SyncAggregate(
            sync_committee_bits=bits, sync_committee_signature=compress(signature)
        )

    def aggregate_attestation(
        self, slot: int, attestation_data_root: bytes, committee_index: int
    ) -> Attestation:
        with self._lock:
            found = self._attestations.committee_aggregate(attestation_data_root, committee_index)
            if found is None or int(found.data.slot) != slot:
                raise NotFound("no attestation for that slot, data root and committee")
            return found

    def sync_committee_contribution(
        self, slot: int, subcommittee_index: int, beacon_block_root: bytes
    ) -> SyncCommitteeContribution:
        if not 0 <= subcommittee_index < SYNC_COMMITTEE_SUBNET_COUNT:
            raise InvalidRequest(f"subcommittee index {subcommittee_index} does not exist")
        with self._lock:
            start = subcommittee_index * SUBCOMMITTEE_SIZE
            within = frozenset(range(start, start + SUBCOMMITTEE_SIZE))
            best = self._sync.best(slot, beacon_block_root, within)
            if best is None:
                raise NotFound("no sync committee messages for that slot, root and subcommittee")
            positions, signature = best
            return SyncCommitteeContribution(
                slot=slot,
                beacon_block_root=beacon_block_root,
                subcommittee_index=subcommittee_index,
                aggregation_bits=[start + i in positions for i in range(SUBCOMMITTEE_SIZE)],
                signature=compress(signature),
            )

    def beacon_committee_selections(
        self, selections: Sequence[BeaconCommitteeSelection]
    ) -> list[BeaconCommitteeSelection]:
        """A plain beacon node has no threshold keys: it returns the selections unchanged (the
        DVT middleware in front of it replaces partial proofs by combined ones)."""
        return list(selections)

    def sync_committee_selections(
        self, selections: Sequence[SyncCommitteeSelection]
    ) -> list[SyncCommitteeSelection]:
        return list(selections)

    # ------------------------------------------------------------------ block import
    def submit_block(self, signed_block: c.SignedBeaconBlock) -> bytes:
        with self._lock:
            block = signed_block.message
            root = bytes(block.hash_tree_root())
            if root in self._blocks:
                return root
            slot = int(block.slot)
            if slot > self._slot:
                raise InvalidRequest(f"block slot {slot} is in the future (current {self._slot})")
            header = c.SignedBeaconBlockHeader(
                message=c.block_header(block), signature=signed_block.signature
            )
            parent = bytes(block.parent_root)
            if parent != self._head:
                if self._header_signature_valid(header):
                    self._check_equivocation(header)
                raise InvalidRequest(
                    "block does not build on the head (the devnet keeps one chain)"
                )
            cursor = self._el_cursor[parent]
            requests = c.ExecutionRequests(
                deposits=self._deposit_requests[
                    cursor : cursor + len(block.body.execution_requests.deposits)
                ]
            )
            state = self._post_state(parent).copy()
            try:
                state_transition(state, signed_block, requests)
            except (TransitionError, SignatureError, ValueError) as exc:
                raise InvalidRequest(f"invalid block: {exc}") from None
            self._check_equivocation(header)
            self._import(root, signed_block, state, cursor + len(requests.deposits))
            return root

    def _header_signature_valid(self, header: c.SignedBeaconBlockHeader) -> bool:
        """Only signed headers can be slashing evidence: check before remembering one."""
        state = self._state_at_slot(self._slot)
        index = int(header.message.proposer_index)
        if index >= len(state.validators):
            return False
        epoch = int(header.message.slot) // self.cfg.slots_per_epoch
        root = signing_root(
            header.message.hash_tree_root(), state.domain(DOMAIN_BEACON_PROPOSER, epoch)
        )
        return bls.verify(state.validators[index].pubkey, root, bytes(header.signature))

    def _check_equivocation(self, header: c.SignedBeaconBlockHeader) -> None:
        slashing = self._detector.check_proposal(header)
        if slashing is not None:
            index = int(header.message.proposer_index)
            self._proposer_slashings.setdefault(index, slashing)
            raise InvalidRequest(
                f"double proposal by validator {index} at slot {int(header.message.slot)}: "
                "proposer slashing queued"
            )

    def _import(
        self, root: bytes, signed: c.SignedBeaconBlock, state: BeaconState, cursor: int
    ) -> None:
        old_head = self._head
        old_state = self._post_state(old_head)
        slot = int(signed.message.slot)
        self._blocks[root] = StoredBlock(root, signed, state)
        self._canonical[slot] = root
        self._state_roots[bytes(signed.message.state_root)] = root
        self._el_cursor[root] = cursor
        self._head = root
        self._advanced.clear()
        # Events first: validators may attest as soon as they see the slot's block (the
        # validator guide), so `head` must not wait for withdrawal payments on the EVM.
        spe = self.cfg.slots_per_epoch
        epoch = slot // spe
        self._emit(BlockEvent(slot=slot, block=root))
        self._emit(
            HeadEvent(
                slot=slot,
                block=root,
                state=bytes(signed.message.state_root),
                epoch_transition=old_state.current_epoch != state.current_epoch,
                previous_duty_dependent_root=self._dependent_root(epoch * spe - spe - 1),
                current_duty_dependent_root=self._dependent_root(epoch * spe - 1),
            )
        )
        for withdrawal in signed.message.body.execution_payload.withdrawals:
            self.paid_withdrawals.append(withdrawal)
            if self._withdrawal_sink is not None:
                self._withdrawal_sink.pay(bytes(withdrawal.address), int(withdrawal.amount))
        self._prune_states(slot)
        self._prune_ops(state)
        self._detector.prune(slot - 2 * self.cfg.slots_per_epoch)
        finalized = state.finalized_checkpoint
        if finalized.epoch > self._finalized_epoch:
            self._finalized_epoch = finalized.epoch
            stored = self._blocks.get(finalized.root)
            self._emit(
                FinalizedCheckpointEvent(
                    block=finalized.root,
                    state=bytes(stored.signed.message.state_root) if stored else b"\x00" * 32,
                    epoch=finalized.epoch,
                )
            )

    def _prune_states(self, slot: int) -> None:
        head_state = self._blocks[self._head].post_state
        keep = {self._genesis_root, self._head}
        if head_state is not None:
            keep |= {
                head_state.finalized_checkpoint.root,
                head_state.current_justified_checkpoint.root,
            }
        for root, stored in self._blocks.items():
            if (
                stored.post_state is not None
                and stored.slot < slot - STATE_HISTORY
                and root not in keep
            ):
                stored.post_state = None

    def _prune_ops(self, state: BeaconState) -> None:
        epoch = state.current_epoch
        self._proposer_slashings = {
            i: s
            for i, s in self._proposer_slashings.items()
            if state.validators[i].is_slashable(epoch)
        }
        self._exits = {
            i: e
            for i, e in self._exits.items()
            if state.validators[i].exit_epoch == FAR_FUTURE_EPOCH
        }
        self._attester_slashings = {
            k: s
            for k, s in self._attester_slashings.items()
            if any(
                state.validators[int(i)].is_slashable(epoch)
                for i in set(s.attestation_1.attesting_indices)
                & set(s.attestation_2.attesting_indices)
            )
        }

    # ------------------------------------------------------------------ pool submissions
    def _submit(self, items: Sequence[SubmittedItem], prepare: Prepare) -> None:
        """The common path of pool submissions, in three steps so that signature checks never
        hold the node lock (duties, attestation data and block production go on meanwhile):

        1. under the lock (taken per item, so queries interleave with a large batch), every
           item not accepted before is checked against the state by `prepare`, which returns
           its signature sets, its slot and the step applying it;
        2. without the lock, the sets of all items are verified as one batch;
        3. under the lock (per item), the valid items are applied and their roots remembered.

        Copies of an accepted item (every member of a DVT cluster broadcasts the same
        combined message) are recognised by their root and answered at once: no state
        check, no verification. Submissions verify one at a time (`_verify_lock`), so a copy
        arriving while the first is being verified waits for it and is then recognised.
        """
        errors: list[ItemError] = []
        with self._verify_lock:
            checks: list[tuple[int, SignatureBatch]] = []
            steps: dict[int, tuple[bytes, int, Apply]] = {}
            for n, item in enumerate(items):
                root = bytes(item.hash_tree_root())
                with self._lock:  # per item: queries interleave with a large batch
                    if root in self._seen:
                        continue
                    try:
                        batch, slot, apply = prepare(item)
                    except (InvalidRequest, TransitionError, SignatureError, ValueError) as exc:
                        errors.append(ItemError(n, str(exc)))
                        continue
                checks.append((n, batch))
                steps[n] = (root, slot, apply)
            valid = self._run_batch(checks, errors)
            for n in sorted(valid):
                root, slot, apply = steps[n]
                with self._lock:
                    problem = apply()
                    if problem is not None:
                        errors.append(ItemError(n, problem))
                        continue
                    self._seen.add(root, slot)
        self._raise(errors)

    def _run_batch(
        self, checks: list[tuple[int, SignatureBatch]], errors: list[ItemError]
    ) -> set[int]:
        """Verify the signature sets of several items at once; returns the valid item numbers."""
        combined = SignatureBatch()
        owners: list[int] = []
        for item, batch in checks:
            combined.items.extend(batch.items)
            owners.extend([item] * len(batch.items))
        bad_items = {owners[i] for i in combined.failures()}
        for item in sorted(bad_items):
            errors.append(ItemError(item, "invalid signature"))
        return {item for item, _ in checks} - bad_items

    def _raise(self, errors: list[ItemError]) -> None:
        if errors:
            raise SubmissionFailed(sorted(errors, key=lambda e: e.index))

    def _note_votes(self, vote: Vote) -> str | None:
        found = self._detector.check_votes(vote)
        for slashing in found:
            self._attester_slashings.setdefault(bytes(slashing.hash_tree_root()), slashing)
        if found:
            return "slashable attestation (double or surround vote): attester slashing queued"
        return None

    def _check_attestation_data(self, state: BeaconState, data: AttestationData) -> None:
        slot = int(data.slot)
        if slot > self._slot or slot + ATTESTATION_PROPAGATION_SLOT_RANGE < self._slot:
            raise InvalidRequest(f"attestation slot {slot} outside the propagation range")
        if int(data.target.epoch) != slot // self.cfg.slots_per_epoch:
            raise InvalidRequest("target epoch is not the epoch of the slot")
        if int(data.index) != 0:
            raise InvalidRequest("Electra attestation data carries index 0")
        if bytes(data.beacon_block_root) not in self._blocks:
            raise InvalidRequest("attestation votes for an unknown block")

    def submit_attestations(self, attestations: Sequence[SingleAttestation]) -> None:
        # Per AttestationData (shared by a whole slot): state, signing root, vote template.
        by_data: dict[bytes, tuple[BeaconState, bytes, Vote] | Exception] = {}

        def prepare(att: SingleAttestation) -> Prepared:
            # Each field is read once: a field read of a remerkleable view walks its tree.
            data, ci, attester = att.data, int(att.committee_index), int(att.attester_index)
            data_root = bytes(data.hash_tree_root())
            known = by_data.get(data_root)
            if known is None:
                try:
                    state = self._state_at_slot(int(data.slot))
                    self._check_attestation_data(state, data)
                    domain = state.domain(DOMAIN_BEACON_ATTESTER, int(data.target.epoch))
                    known = (state, signing_root(data_root, domain), Vote.of((), data, b""))
                except (InvalidRequest, TransitionError, ValueError) as exc:
                    known = exc
                by_data[data_root] = known
            if isinstance(known, Exception):
                raise known
            state, root, template = known
            slot = state.slot
            if ci >= state.committee_count_per_slot(state.current_epoch):
                raise InvalidRequest(f"committee index {ci} does not exist")
            position = state.committee_position(slot, ci, attester)
            if position is None:
                raise InvalidRequest(f"validator {attester} is not in committee {ci}")
            size = state.attester_assignments(state.current_epoch)[attester][3]
            signature = bytes(att.signature)
            batch = SignatureBatch()
            batch.add("attestation", state.validators[attester].pubkey, root, signature)
            vote = template.for_others([attester], signature)

            def apply() -> str | None:
                problem = self._note_votes(vote)
                if problem is None:
                    point = batch.signature_point(0)
                    self._attestations.add_single(data, ci, size, position, point)
                    self._emit(AttestationEvent(att))
                return problem

            return batch, slot, apply

        self._submit(attestations, prepare)

    def submit_aggregates(self, aggregates: Sequence[SignedAggregateAndProof]) -> None:
        def prepare(signed: SignedAggregateAndProof) -> Prepared:
            message = signed.message
            aggregate = message.aggregate
            data = aggregate.data
            slot = int(data.slot)
            state = self._state_at_slot(slot)
            self._check_attestation_data(state, data)
            chosen = [i for i, bit in enumerate(aggregate.committee_bits) if bit]
            if len(chosen) != 1:
                raise InvalidRequest("an aggregate names exactly one committee")
            ci = chosen[0]
            validate_attestation_shape(state, aggregate)
            committee = state.beacon_committee(slot, ci)
            aggregator = int(message.aggregator_index)
            if state.committee_position(slot, ci, aggregator) is None:
                raise InvalidRequest(f"aggregator {aggregator} is not in committee {ci}")
            modulo = max(1, len(committee) // self.cfg.target_aggregators_per_committee)
            proof = bytes(message.selection_proof)
            if int.from_bytes(sha256(proof)[:8], "little") % modulo != 0:
                raise InvalidRequest(f"validator {aggregator} is not an aggregator")
            indices = sorted(attesting_indices(state, aggregate))
            pk = state.validators[aggregator].pubkey
            epoch = slot // self.cfg.slots_per_epoch
            batch = SignatureBatch()
            batch.add(
                "selection proof",
                pk,
                signing_root(
                    Slot(slot).hash_tree_root(), state.domain(DOMAIN_SELECTION_PROOF, epoch)
                ),
                proof,
            )
            batch.add(
                "aggregate and proof",
                pk,
                signing_root(
                    message.hash_tree_root(), state.domain(DOMAIN_AGGREGATE_AND_PROOF, epoch)
                ),
                bytes(signed.signature),
            )
            signature = bytes(aggregate.signature)
            add_attestation_signature(state, indices, data, signature, batch, "aggregate")
            members = set(indices)
            positions = frozenset(p for p, v in enumerate(committee) if v in members)
            vote = Vote.of(indices, data, signature)

            def apply() -> str | None:
                problem = self._note_votes(vote)
                if problem is None:
                    point = batch.signature_point(2)  # the aggregate's own signature
                    self._attestations.add_aggregate(data, ci, len(committee), positions, point)
                    self._emit(AttestationEvent(aggregate))
                return problem

            return batch, slot, apply

        self._submit(aggregates, prepare)

    def _current_sync_slot(self, slot: int, what: str) -> None:
        if slot > self._slot or slot + 1 < self._slot:
            raise InvalidRequest(f"{what} slot {slot} is not current")

    def submit_sync_messages(self, messages: Sequence[SyncCommitteeMessage]) -> None:
        roots: dict[bytes, bytes] = {}  # block root → signing root (one per slot, mostly)

        def prepare(msg: SyncCommitteeMessage) -> Prepared:
            slot = int(msg.slot)
            self._current_sync_slot(slot, "sync message")
            state = self._state_at_slot(slot)
            index = int(msg.validator_index)
            if index >= len(state.validators):
                raise InvalidRequest(f"unknown validator {index}")
            pk = state.validators[index].pubkey
            positions = sync_positions(self._signing_sync_committee(state, slot)).get(pk)
            if not positions:
                raise InvalidRequest(f"validator {index} is not in the sync committee")
            block_root = bytes(msg.beacon_block_root)
            root = roots.get(block_root)
            if root is None:
                root = signing_root(block_root, state.domain(DOMAIN_SYNC_COMMITTEE))
                roots[block_root] = root
            batch = SignatureBatch()
            batch.add("sync committee message", pk, root, bytes(msg.signature))

            def apply() -> None:
                point = batch.signature_point(0)
                for part in _by_subcommittee(positions):
                    signature = sum_signatures([point] * len(part))
                    self._sync.add(slot, block_root, part, signature)

            return batch, slot, apply

        self._submit(messages, prepare)

    def submit_contributions(self, contributions: Sequence[c.SignedContributionAndProof]) -> None:
        def prepare(signed: c.SignedContributionAndProof) -> Prepared:
            message = signed.message
            contribution = message.contribution
            slot = int(contribution.slot)
            self._current_sync_slot(slot, "contribution")
            sub = int(contribution.subcommittee_index)
            if sub >= SYNC_COMMITTEE_SUBNET_COUNT:
                raise InvalidRequest(f"subcommittee {sub} does not exist")
            state = self._state_at_slot(slot)
            committee = self._signing_sync_committee(state, slot)
            start = sub * SUBCOMMITTEE_SIZE
            members = committee[start : start + SUBCOMMITTEE_SIZE]
            aggregator = int(message.aggregator_index)
            if aggregator >= len(state.validators):
                raise InvalidRequest(f"unknown validator {aggregator}")
            pk = state.validators[aggregator].pubkey
            if pk not in members:
                raise InvalidRequest(f"aggregator {aggregator} is not in subcommittee {sub}")
            proof = bytes(message.selection_proof)
            modulo = max(1, SUBCOMMITTEE_SIZE // self.cfg.target_aggregators_per_sync_subcommittee)
            if int.from_bytes(sha256(proof)[:8], "little") % modulo != 0:
                raise InvalidRequest(f"validator {aggregator} is not a sync aggregator")
            bits = list(contribution.aggregation_bits)
            participants = [members[i] for i, bit in enumerate(bits) if bit]
            if not participants:
                raise InvalidRequest("contribution has no participants")
            batch = SignatureBatch()
            selection = SyncAggregatorSelectionData(slot=slot, subcommittee_index=sub)
            batch.add(
                "sync selection proof",
                pk,
                signing_root(
                    selection.hash_tree_root(),
                    state.domain(DOMAIN_SYNC_COMMITTEE_SELECTION_PROOF),
                ),
                proof,
            )
            batch.add(
                "contribution and proof",
                pk,
                signing_root(message.hash_tree_root(), state.domain(DOMAIN_CONTRIBUTION_AND_PROOF)),
                bytes(signed.signature),
            )
            block_root = bytes(contribution.beacon_block_root)
            batch.add_aggregate(
                "contribution",
                participants,
                signing_root(block_root, state.domain(DOMAIN_SYNC_COMMITTEE)),
                bytes(contribution.signature),
            )
            positions = frozenset(start + i for i, bit in enumerate(bits) if bit)

            def apply() -> None:
                self._sync.add(slot, block_root, positions, batch.signature_point(2))

            return batch, slot, apply

        self._submit(contributions, prepare)

    def _validate_op(self, apply, item) -> None:  # type: ignore[no-untyped-def]
        state = self._state_at_slot(self._slot).copy()
        batch = SignatureBatch()
        try:
            apply(state, item, batch)
            batch.verify()
        except (TransitionError, SignatureError, ValueError) as exc:
            raise InvalidRequest(str(exc)) from None

    def submit_voluntary_exit(self, exit_message: c.SignedVoluntaryExit) -> None:
        with self._lock:
            self._validate_op(process_voluntary_exit, exit_message)
            self._exits[int(exit_message.message.validator_index)] = exit_message

    def submit_proposer_slashing(self, slashing: c.ProposerSlashing) -> None:
        with self._lock:
            self._validate_op(process_proposer_slashing, slashing)
            index = int(slashing.signed_header_1.message.proposer_index)
            self._proposer_slashings[index] = slashing

    def submit_attester_slashing(self, slashing: c.AttesterSlashing) -> None:
        with self._lock:
            self._validate_op(process_attester_slashing, slashing)
            self._attester_slashings[bytes(slashing.hash_tree_root())] = slashing

    def pool_attestations(
        self, slot: int | None = None, committee_index: int | None = None
    ) -> list[Attestation]:
        with self._lock:
            out = []
            for (root, ci), entry in self._attestations.entries.items():
                if slot is not None and int(entry.data.slot) != slot:
                    continue
                if committee_index is not None and ci != committee_index:
                    continue
                found = self._attestations.committee_aggregate(root, ci)
                if found is not None:
                    out.append(found)
            return out

    def pool_voluntary_exits(self) -> list[c.SignedVoluntaryExit]:
        with self._lock:
            return list(self._exits.values())

    def pool_proposer_slashings(self) -> list[c.ProposerSlashing]:
        with self._lock:
            return list(self._proposer_slashings.values())

    def pool_attester_slashings(self) -> list[c.AttesterSlashing]:
        with self._lock:
            return list(self._attester_slashings.values())

    # ------------------------------------------------------------------ events
    def subscribe(self, topics: Sequence[str]) -> _Subscription:
        known = set(EVENT_TOPICS.values())
        unknown = set(topics) - known
        if unknown or not topics:
            raise InvalidRequest(f"unknown event topics {sorted(unknown)}; known: {sorted(known)}")
        subscription = _Subscription(self, frozenset(topics))
        with self._lock:
            self._subs.append(subscription)
        return subscription

    def _unsubscribe(self, subscription: _Subscription) -> None:
        with self._lock:
            if subscription in self._subs:
                self._subs.remove(subscription)

    def _emit(self, event: Event) -> None:
        topic = EVENT_TOPICS[type(event)]
        for subscription in list(self._subs):
            if topic in subscription.topics:
                subscription.deliver(event)

    # ------------------------------------------------------------------ helpers for callers
    def head_state(self) -> BeaconState:
        """The head block's post-state (read-only by convention)."""
        with self._lock:
            return self._post_state(self._head)

    def signing_state(self, slot: int | None = None) -> BeaconState:
        """The canonical state at `slot` (default: now), for computing domains and duties."""
        with self._lock:
            return self._state_at_slot(self._slot if slot is None else slot)
