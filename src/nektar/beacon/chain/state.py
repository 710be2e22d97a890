"""The beacon state in plain Python, with the spec's accessors (phase0 → electra).

Why not a remerkleable view for everything: reading a field through a view costs microseconds,
and epoch processing touches every validator several times. The state therefore keeps Python
lists, and `hash_tree_root()` rebuilds the Electra `BeaconState` container from them, keeping
remerkleable views of the two big lists (validators, balances) that are patched per changed
index, so a state root of 10,000 validators costs milliseconds, not seconds.

Every mutation of a validator goes through `set_validator` / the balance helpers so that the
caches (active sets, total balance, committees, pubkey index, SSZ views) stay right.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import NamedTuple

from remerkleable.basic import uint64, uint256
from remerkleable.bitfields import Bitvector
from remerkleable.byte_arrays import Bytes32
from remerkleable.complex import List, Vector
from remerkleable.tree import PairNode, RootNode, subtree_fill_to_contents

from nektar.beacon.chain import containers as c
from nektar.beacon.chain.config import (
    COMPOUNDING_WITHDRAWAL_PREFIX,
    ETH1_ADDRESS_WITHDRAWAL_PREFIX,
    FAR_FUTURE_EPOCH,
    BeaconConfig,
)
from nektar.beacon.chain.shuffling import (
    compute_shuffled_index,
    sha256,
    shuffled_indices,
    uint_to_bytes,
)
from nektar.crypto.signing import (
    DOMAIN_BEACON_ATTESTER,
    DOMAIN_BEACON_PROPOSER,
    MAX_COMMITTEES_PER_SLOT,
    BeaconBlockHeader,
    Checkpoint,
    compute_domain,
)


class CP(NamedTuple):
    """A checkpoint as plain values (the SSZ Checkpoint is built only where needed)."""

    epoch: int
    root: bytes

    def ssz(self) -> Checkpoint:
        return c.build(Checkpoint, epoch=self.epoch, root=self.root)

    @classmethod
    def of(cls, checkpoint: Checkpoint) -> CP:
        return cls(int(checkpoint.epoch), bytes(checkpoint.root))


ZERO_CHECKPOINT = CP(0, b"\x00" * 32)


@lru_cache(maxsize=256)
def cached_domain(domain_type: bytes, fork_version: bytes, genesis_validators_root: bytes) -> bytes:
    """compute_domain is pure and costs two SSZ roots: every message of a slot shares one."""
    return compute_domain(domain_type, fork_version, genesis_validators_root)


@dataclass(frozen=True, slots=True)
class ValidatorRecord:
    pubkey: bytes
    withdrawal_credentials: bytes
    effective_balance: int
    slashed: bool = False
    activation_eligibility_epoch: int = FAR_FUTURE_EPOCH
    activation_epoch: int = FAR_FUTURE_EPOCH
    exit_epoch: int = FAR_FUTURE_EPOCH
    withdrawable_epoch: int = FAR_FUTURE_EPOCH

    def is_active(self, epoch: int) -> bool:
        return self.activation_epoch <= epoch < self.exit_epoch

    def is_slashable(self, epoch: int) -> bool:
        return (not self.slashed) and self.activation_epoch <= epoch < self.withdrawable_epoch

    @property
    def has_execution_withdrawal_credential(self) -> bool:
        return self.withdrawal_credentials[:1] in (
            ETH1_ADDRESS_WITHDRAWAL_PREFIX,
            COMPOUNDING_WITHDRAWAL_PREFIX,
        )

    @property
    def execution_address(self) -> bytes:
        return self.withdrawal_credentials[12:]

    def ssz(self) -> c.Validator:
        """The SSZ Validator, assembled from its field chunks: every state root re-roots
        changed validators, and genesis all of them (typed construction costs ~0.8 ms each
        in remerkleable's Protocol checks, this ~20 µs)."""
        pk = self.pubkey
        left = PairNode(
            PairNode(
                PairNode(RootNode(pk[:32]), RootNode(pk[32:] + ZERO_CHUNK[16:])),
                RootNode(self.withdrawal_credentials),
            ),
            PairNode(
                _u64_chunk(self.effective_balance),
                RootNode(b"\x01" + ZERO_CHUNK[1:] if self.slashed else ZERO_CHUNK),
            ),
        )
        right = PairNode(
            PairNode(
                _u64_chunk(self.activation_eligibility_epoch), _u64_chunk(self.activation_epoch)
            ),
            PairNode(_u64_chunk(self.exit_epoch), _u64_chunk(self.withdrawable_epoch)),
        )
        return c.Validator.view_from_backing(PairNode(left, right))


ZERO_CHUNK = b"\x00" * 32


def _u64_chunk(value: int) -> RootNode:
    return RootNode(value.to_bytes(8, "little") + ZERO_CHUNK[8:])


class PendingDepositRecord(NamedTuple):
    pubkey: bytes
    withdrawal_credentials: bytes
    amount: int
    signature: bytes
    slot: int

    def ssz(self) -> c.PendingDeposit:
        return c.build(c.PendingDeposit, **self._asdict())


@dataclass
class BeaconState:
    cfg: BeaconConfig
    genesis_time: int
    genesis_validators_root: bytes
    slot: int
    fork: tuple[bytes, bytes, int]
    latest_block_header: BeaconBlockHeader
    block_roots: list[bytes]
    state_roots: list[bytes]
    randao_mixes: list[bytes]
    slashings: list[int]
    validators: list[ValidatorRecord] = field(default_factory=list)
    balances: list[int] = field(default_factory=list)
    previous_epoch_participation: bytearray = field(default_factory=bytearray)
    current_epoch_participation: bytearray = field(default_factory=bytearray)
    inactivity_scores: list[int] = field(default_factory=list)
    justification_bits: list[bool] = field(default_factory=lambda: [False] * 4)
    previous_justified_checkpoint: CP = ZERO_CHECKPOINT
    current_justified_checkpoint: CP = ZERO_CHECKPOINT
    finalized_checkpoint: CP = ZERO_CHECKPOINT
    current_sync_committee: tuple[bytes, ...] = ()
    next_sync_committee: tuple[bytes, ...] = ()
    eth1_data: c.Eth1Data = field(default_factory=c.Eth1Data)
    eth1_deposit_index: int = 0
    latest_execution_payload_header: c.ExecutionPayloadHeader = field(
        default_factory=c.ExecutionPayloadHeader
    )
    next_withdrawal_index: int = 0
    next_withdrawal_validator_index: int = 0
    deposit_requests_start_index: int = 2**64 - 1
    deposit_balance_to_consume: int = 0
    exit_balance_to_consume: int = 0
    earliest_exit_epoch: int = 0
    consolidation_balance_to_consume: int = 0
    earliest_consolidation_epoch: int = 0
    pending_deposits: list[PendingDepositRecord] = field(default_factory=list)
    # --- caches (not part of the SSZ state) ---
    pubkey_index: dict[bytes, int] = field(default_factory=dict)
    validators_version: int = 0
    _cache: dict[tuple, object] = field(default_factory=dict)
    _validators_view: object = None
    _dirty_validators: set[int] = field(default_factory=set)
    _packed: dict[str, tuple[bytes, object]] = field(default_factory=dict)

    # -- copying -------------------------------------------------------------------------------
    def copy(self) -> BeaconState:
        """An independent state (validator records are immutable, so lists copy shallowly)."""
        dup = replace(
            self,
            fork=self.fork,
            block_roots=list(self.block_roots),
            state_roots=list(self.state_roots),
            randao_mixes=list(self.randao_mixes),
            slashings=list(self.slashings),
            validators=list(self.validators),
            balances=list(self.balances),
            previous_epoch_participation=bytearray(self.previous_epoch_participation),
            current_epoch_participation=bytearray(self.current_epoch_participation),
            inactivity_scores=list(self.inactivity_scores),
            justification_bits=list(self.justification_bits),
            pending_deposits=list(self.pending_deposits),
            pubkey_index=dict(self.pubkey_index),
            _cache=dict(self._cache),
            _dirty_validators=set(self._dirty_validators),
            _packed=dict(self._packed),
        )
        dup._validators_view = (
            None if self._validators_view is None else self._validators_view.copy()
        )
        return dup

    # -- mutation helpers ----------------------------------------------------------------------
    def set_validator(self, index: int, record: ValidatorRecord) -> None:
        self.validators[index] = record
        self.validators_version += 1
        self._dirty_validators.add(index)

    def update_validator(self, index: int, **changes: object) -> ValidatorRecord:
        record = replace(self.validators[index], **changes)
        self.set_validator(index, record)
        return record

    def add_validator(self, record: ValidatorRecord, balance: int) -> int:
        index = len(self.validators)
        self.validators.append(record)
        self.balances.append(balance)
        self.previous_epoch_participation.append(0)
        self.current_epoch_participation.append(0)
        self.inactivity_scores.append(0)
        self.pubkey_index[record.pubkey] = index
        self.validators_version += 1
        return index

    def increase_balance(self, index: int, delta: int) -> None:
        self.balances[index] += delta

    def decrease_balance(self, index: int, delta: int) -> None:
        self.balances[index] = max(0, self.balances[index] - delta)

    # -- time ------------------------------------------------------------------------------------
    @property
    def current_epoch(self) -> int:
        return self.slot // self.cfg.slots_per_epoch

    @property
    def previous_epoch(self) -> int:
        return max(self.current_epoch - 1, 0)

    def epoch_start_slot(self, epoch: int) -> int:
        return epoch * self.cfg.slots_per_epoch

    def block_root_at_slot(self, slot: int) -> bytes:
        if not slot < self.slot <= slot + self.cfg.slots_per_historical_root:
            raise ValueError(f"block root of slot {slot} is not in the history of slot {self.slot}")
        return self.block_roots[slot % self.cfg.slots_per_historical_root]

    def block_root(self, epoch: int) -> bytes:
        return self.block_root_at_slot(self.epoch_start_slot(epoch))

    def randao_mix(self, epoch: int) -> bytes:
        return self.randao_mixes[epoch % self.cfg.epochs_per_historical_vector]

    def activation_exit_epoch(self, epoch: int) -> int:
        return epoch + 1 + self.cfg.max_seed_lookahead

    # -- domains -------------------------------------------------------------------------------
    def fork_version(self, epoch: int) -> bytes:
        previous, current, fork_epoch = self.fork
        return previous if epoch < fork_epoch else current

    def domain(self, domain_type: bytes, epoch: int | None = None) -> bytes:
        version = self.fork_version(self.current_epoch if epoch is None else epoch)
        return cached_domain(bytes(domain_type), version, self.genesis_validators_root)

    # -- validator sets ------------------------------------------------------------------------
    def _cached(self, key: tuple, compute):  # type: ignore[no-untyped-def]
        key = (*key, self.validators_version)
        if key not in self._cache:
            if len(self._cache) > 256:
                self._cache.clear()
            self._cache[key] = compute()
        return self._cache[key]

    def active_indices(self, epoch: int) -> list[int]:
        return self._cached(
            ("active", epoch),
            lambda: [i for i, v in enumerate(self.validators) if v.is_active(epoch)],
        )

    def total_balance(self, indices: object) -> int:
        inc = self.cfg.effective_balance_increment
        return max(inc, sum(self.validators[i].effective_balance for i in indices))  # type: ignore[attr-defined]

    def total_active_balance(self) -> int:
        epoch = self.current_epoch
        return self._cached(
            ("total_active", epoch), lambda: self.total_balance(self.active_indices(epoch))
        )

    def seed(self, epoch: int, domain_type: bytes) -> bytes:
        cfg = self.cfg
        mix = self.randao_mix(epoch + cfg.epochs_per_historical_vector - cfg.min_seed_lookahead - 1)
        return sha256(bytes(domain_type) + uint_to_bytes(epoch) + mix)

    def committee_count_per_slot(self, epoch: int) -> int:
        per_slot = len(self.active_indices(epoch)) // self.cfg.slots_per_epoch
        return max(1, min(MAX_COMMITTEES_PER_SLOT, per_slot // self.cfg.target_committee_size))

    def _shuffled_active(self, epoch: int) -> tuple[list[int], int]:
        def compute() -> tuple[list[int], int]:
            active = self.active_indices(epoch)
            seed = self.seed(epoch, DOMAIN_BEACON_ATTESTER)
            order = shuffled_indices(len(active), seed, self.cfg.shuffle_round_count)
            return [active[i] for i in order], self.committee_count_per_slot(epoch)

        return self._cached(("shuffled", epoch, self._seed_key(epoch)), compute)

    def _seed_key(self, epoch: int) -> bytes:
        cfg = self.cfg
        return self.randao_mix(
            epoch + cfg.epochs_per_historical_vector - cfg.min_seed_lookahead - 1
        )

    def beacon_committee(self, slot: int, index: int) -> list[int]:
        """get_beacon_committee: the validators of committee `index` at `slot`."""
        epoch = slot // self.cfg.slots_per_epoch
        shuffled, per_slot = self._shuffled_active(epoch)
        if not 0 <= index < per_slot:
            raise ValueError(f"committee index {index} ≥ committees per slot {per_slot}")
        count = per_slot * self.cfg.slots_per_epoch
        i = (slot % self.cfg.slots_per_epoch) * per_slot + index
        n = len(shuffled)
        return shuffled[n * i // count : n * (i + 1) // count]

    def attester_assignments(self, epoch: int) -> dict[int, tuple[int, int, int, int]]:
        """validator → (slot, committee index, position, committee size) in `epoch`: the
        spec's get_committee_assignment for every validator at once, cut from the epoch's
        shuffling in one pass and cached with it, so duties and submission checks cost
        O(validators asked) instead of a walk over every committee."""

        def compute() -> dict[int, tuple[int, int, int, int]]:
            shuffled, per_slot = self._shuffled_active(epoch)
            spe = self.cfg.slots_per_epoch
            count = per_slot * spe
            n = len(shuffled)
            out: dict[int, tuple[int, int, int, int]] = {}
            for i in range(count):
                members = shuffled[n * i // count : n * (i + 1) // count]
                slot, index = epoch * spe + i // per_slot, i % per_slot
                for position, validator in enumerate(members):
                    out[validator] = (slot, index, position, len(members))
            return out

        return self._cached(("assignments", epoch, self._seed_key(epoch)), compute)

    def committee_position(self, slot: int, index: int, validator: int) -> int | None:
        """The validator's position in committee `index` of `slot`, or None if not in it."""
        found = self.attester_assignments(slot // self.cfg.slots_per_epoch).get(validator)
        if found is None or found[0] != slot or found[1] != index:
            return None
        return found[2]

    def compute_proposer_index(self, indices: list[int], seed: bytes) -> int:
        """Electra compute_proposer_index: balance-weighted with 16-bit random values."""
        if not indices:
            raise ValueError("no active validators to propose")
        max_random = 2**16 - 1
        total = len(indices)
        rounds = self.cfg.shuffle_round_count
        # Per position, as the spec does: ~64 draws are expected with 32 ETH validators
        # (Electra weights by balance up to 2,048 ETH), far fewer than a whole-list shuffle
        # of thousands, and every slot has its own seed.
        shuffled: dict[int, int] = {}
        i = 0
        while True:
            position = i % total
            if position not in shuffled:
                shuffled[position] = compute_shuffled_index(position, total, seed, rounds)
            candidate = indices[shuffled[position]]
            random_bytes = sha256(seed + uint_to_bytes(i // 16))
            offset = i % 16 * 2
            value = int.from_bytes(random_bytes[offset : offset + 2], "little")
            effective = self.validators[candidate].effective_balance
            if effective * max_random >= self.cfg.max_effective_balance_electra * value:
                return candidate
            i += 1

    def proposer_index_at(self, slot: int) -> int:
        """get_beacon_proposer_index for `slot` (of the state's current epoch)."""
        epoch = slot // self.cfg.slots_per_epoch
        seed = sha256(self.seed(epoch, DOMAIN_BEACON_PROPOSER) + uint_to_bytes(slot))
        return self._cached(
            ("proposer", slot, seed),
            lambda: self.compute_proposer_index(self.active_indices(epoch), seed),
        )

    @property
    def proposer_index(self) -> int:
        return self.proposer_index_at(self.slot)

    def base_reward_per_increment(self) -> int:
        cfg = self.cfg
        return (
            cfg.effective_balance_increment
            * cfg.base_reward_factor
            // math.isqrt(self.total_active_balance())
        )

    def base_reward(self, index: int) -> int:
        increments = (
            self.validators[index].effective_balance // self.cfg.effective_balance_increment
        )
        return increments * self.base_reward_per_increment()

    def balance_churn_limit(self) -> int:
        cfg = self.cfg
        churn = max(
            cfg.min_per_epoch_churn_limit_electra,
            self.total_active_balance() // cfg.churn_limit_quotient,
        )
        return churn - churn % cfg.effective_balance_increment

    def activation_exit_churn_limit(self) -> int:
        return min(self.cfg.max_per_epoch_activation_exit_churn_limit, self.balance_churn_limit())

    def max_effective_balance(self, record: ValidatorRecord) -> int:
        if record.withdrawal_credentials[:1] == COMPOUNDING_WITHDRAWAL_PREFIX:
            return self.cfg.max_effective_balance_electra
        return self.cfg.min_activation_balance

    def index_of(self, pubkey: bytes) -> int | None:
        return self.pubkey_index.get(bytes(pubkey))

    # -- SSZ -----------------------------------------------------------------------------------
    def _validators_root_view(self):  # type: ignore[no-untyped-def]
        """The SSZ validators list, patched where validators changed and extended by new
        ones; built from the records' backing nodes the first time (the element-wise List
        constructor runs a slow Protocol isinstance check per validator)."""
        view_type = List[c.Validator, c.VALIDATOR_REGISTRY_LIMIT]
        view = self._validators_view
        if view is None or len(view) > len(self.validators):
            nodes = [v.ssz().get_backing() for v in self.validators]
            contents = subtree_fill_to_contents(nodes, view_type.contents_depth())
            view = view_type.view_from_backing(
                PairNode(contents, uint256(len(nodes)).get_backing())
            )
        else:
            for i in range(len(view), len(self.validators)):
                view.append(self.validators[i].ssz())
            for i in self._dirty_validators:
                if i < len(view):
                    view[i] = self.validators[i].ssz()
        self._validators_view = view
        self._dirty_validators = set()
        return view

    def ssz(self):  # type: ignore[no-untyped-def]
        """The Electra BeaconState container of this state."""
        cfg = self.cfg
        state_type = c.beacon_state_type(
            cfg.slots_per_historical_root,
            cfg.epochs_per_historical_vector,
            cfg.epochs_per_slashings_vector,
        )
        u8_list = List[c.uint8, c.VALIDATOR_REGISTRY_LIMIT]
        roots_type = Vector[Bytes32, cfg.slots_per_historical_root]
        u64_list = List[uint64, c.VALIDATOR_REGISTRY_LIMIT]
        return c.build(
            state_type,
            genesis_time=self.genesis_time,
            genesis_validators_root=self.genesis_validators_root,
            slot=self.slot,
            fork=c.build(
                c.Fork,
                previous_version=self.fork[0],
                current_version=self.fork[1],
                epoch=self.fork[2],
            ),
            latest_block_header=self.latest_block_header,
            block_roots=packed_vector(roots_type, b"".join(self.block_roots)),
            state_roots=packed_vector(roots_type, b"".join(self.state_roots)),
            eth1_data=self.eth1_data,
            eth1_deposit_index=self.eth1_deposit_index,
            validators=self._validators_root_view(),
            balances=self._packed_list("balances", u64_list, pack_u64(self.balances)),
            randao_mixes=packed_vector(
                Vector[Bytes32, cfg.epochs_per_historical_vector], b"".join(self.randao_mixes)
            ),
            slashings=packed_vector(
                Vector[uint64, cfg.epochs_per_slashings_vector], pack_u64(self.slashings)
            ),
            previous_epoch_participation=self._packed_list(
                "previous", u8_list, bytes(self.previous_epoch_participation), 1
            ),
            current_epoch_participation=self._packed_list(
                "current", u8_list, bytes(self.current_epoch_participation), 1
            ),
            justification_bits=Bitvector[4](*self.justification_bits),
            previous_justified_checkpoint=self.previous_justified_checkpoint.ssz(),
            current_justified_checkpoint=self.current_justified_checkpoint.ssz(),
            finalized_checkpoint=self.finalized_checkpoint.ssz(),
            inactivity_scores=self._packed_list(
                "inactivity", u64_list, pack_u64(self.inactivity_scores)
            ),
            current_sync_committee=self._sync_committee_ssz(self.current_sync_committee),
            next_sync_committee=self._sync_committee_ssz(self.next_sync_committee),
            latest_execution_payload_header=self.latest_execution_payload_header,
            next_withdrawal_index=self.next_withdrawal_index,
            next_withdrawal_validator_index=self.next_withdrawal_validator_index,
            deposit_requests_start_index=self.deposit_requests_start_index,
            deposit_balance_to_consume=self.deposit_balance_to_consume,
            exit_balance_to_consume=self.exit_balance_to_consume,
            earliest_exit_epoch=self.earliest_exit_epoch,
            consolidation_balance_to_consume=self.consolidation_balance_to_consume,
            earliest_consolidation_epoch=self.earliest_consolidation_epoch,
            pending_deposits=[d.ssz() for d in self.pending_deposits],
        )

    def _packed_list(self, name: str, list_type: type, packed: bytes, size: int = 8):  # type: ignore[no-untyped-def]
        """packed_list, reusing the last view of `name` when the content did not change."""
        cached = self._packed.get(name)
        if cached is not None and cached[0] == packed:
            return cached[1]
        view = packed_list(list_type, packed, len(packed) // size)
        self._packed[name] = (packed, view)
        return view

    def _sync_committee_ssz(self, pubkeys: tuple[bytes, ...]) -> c.SyncCommittee:
        return self._cached(("sync_ssz", pubkeys), lambda: sync_committee_ssz(pubkeys))

    def hash_tree_root(self) -> bytes:
        return bytes(self.ssz().hash_tree_root())


def pack_u64(values: list[int]) -> bytes:
    return b"".join(v.to_bytes(8, "little") for v in values)


def _chunks(packed: bytes) -> list[RootNode]:
    return [RootNode(packed[i : i + 32].ljust(32, b"\x00")) for i in range(0, len(packed), 32)]


def packed_vector(vector_type: type, packed: bytes):  # type: ignore[no-untyped-def]
    """A Vector view of basic values or roots from its packed bytes (see packed_list)."""
    depth = vector_type.tree_depth()
    return vector_type.view_from_backing(subtree_fill_to_contents(_chunks(packed), depth))


def packed_list(list_type: type, packed: bytes, length: int):  # type: ignore[no-untyped-def]
    """A List view of a basic type built straight from its packed bytes: remerkleable's
    element-wise constructor is ~100x slower, and balances are re-rooted every slot."""
    contents = subtree_fill_to_contents(_chunks(packed), list_type.contents_depth())
    return list_type.view_from_backing(PairNode(contents, uint256(length).get_backing()))


def sync_committee_ssz(pubkeys: tuple[bytes, ...]) -> c.SyncCommittee:
    from nektar.crypto import bls

    if not pubkeys:
        return c.SyncCommittee()
    return c.SyncCommittee(
        pubkeys=list(pubkeys), aggregate_pubkey=bls.eth_aggregate_pubkeys(pubkeys)
    )
