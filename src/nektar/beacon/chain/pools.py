"""Operation pools of the node: attestations, sync-committee messages, and slashing evidence.

Pools hold verified messages only; the node verifies before adding. Aggregation follows what
production clients do: signatures over the same data with disjoint participants are summed,
and the block producer packs, per AttestationData, every committee into one Electra
attestation (EIP-7549), best-covered first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from remerkleable.bitfields import Bitlist, Bitvector

from nektar.beacon.chain import containers as c
from nektar.beacon.chain.signatures import compress, sum_signatures
from nektar.crypto import bls
from nektar.crypto.signing import (
    MAX_COMMITTEES_PER_SLOT,
    MAX_VALIDATORS_PER_COMMITTEE,
    Attestation,
    AttestationData,
)

# Participant positions and their aggregate signature, kept decoded (a G2 point): pooled
# signatures are summed many times and compressed only when a message is built.
Signed = tuple[frozenset[int], bls.G2Point]


def merge_disjoint(parts: Iterable[Signed]) -> Signed | None:
    """Greedy union of signed participant sets: largest first, then every disjoint one."""
    ordered = sorted(parts, key=lambda p: -len(p[0]))
    if not ordered:
        return None
    covered: set[int] = set()
    signatures: list[bls.G2Point] = []
    for positions, signature in ordered:
        if positions and covered.isdisjoint(positions):
            covered |= positions
            signatures.append(signature)
    return frozenset(covered), sum_signatures(signatures)


@dataclass
class CommitteeVotes:
    """Votes of one committee for one AttestationData."""

    data: AttestationData
    committee_index: int
    committee_size: int
    singles: dict[int, bls.G2Point] = field(default_factory=dict)
    aggregates: list[Signed] = field(default_factory=list)
    _best: Signed | None = None

    def best(self) -> Signed | None:
        """The widest aggregate of the committee's votes (cached until the next vote)."""
        if self._best is None:
            singles = [(frozenset([pos]), sig) for pos, sig in self.singles.items()]
            self._best = merge_disjoint([*self.aggregates, *singles])
        return self._best


class AttestationPool:
    def __init__(self) -> None:
        self.entries: dict[tuple[bytes, int], CommitteeVotes] = {}

    def _entry(self, data: AttestationData, committee_index: int, size: int) -> CommitteeVotes:
        key = (bytes(data.hash_tree_root()), committee_index)
        entry = self.entries.get(key)
        if entry is None:
            entry = self.entries[key] = CommitteeVotes(data, committee_index, size)
        return entry

    def add_single(
        self, data: AttestationData, committee_index: int, size: int, pos: int, sig: bls.G2Point
    ) -> None:
        entry = self._entry(data, committee_index, size)
        entry.singles[pos] = sig
        entry._best = None

    def add_aggregate(
        self,
        data: AttestationData,
        committee_index: int,
        size: int,
        positions: frozenset[int],
        sig: bls.G2Point,
    ) -> None:
        entry = self._entry(data, committee_index, size)
        entry.aggregates.append((positions, sig))
        entry._best = None

    def committee_aggregate(self, data_root: bytes, committee_index: int) -> Attestation | None:
        entry = self.entries.get((data_root, committee_index))
        best = entry.best() if entry else None
        if entry is None or best is None:
            return None
        return electra_attestation(entry.data, [(entry, best)])

    def prune(self, min_slot: int) -> None:
        self.entries = {k: e for k, e in self.entries.items() if int(e.data.slot) >= min_slot}

    def by_data(self, max_slot: int) -> dict[bytes, list[CommitteeVotes]]:
        grouped: dict[bytes, list[CommitteeVotes]] = {}
        for (root, _), entry in sorted(self.entries.items(), key=lambda kv: kv[0][1]):
            if int(entry.data.slot) <= max_slot:
                grouped.setdefault(root, []).append(entry)
        return grouped


def electra_attestation(
    data: AttestationData, parts: list[tuple[CommitteeVotes, Signed]]
) -> Attestation:
    """One on-chain attestation from per-committee aggregates (committees in index order)."""
    parts = sorted(parts, key=lambda p: p[0].committee_index)
    bits: list[bool] = []
    committee_bits = [False] * MAX_COMMITTEES_PER_SLOT
    for entry, (positions, _) in parts:
        committee_bits[entry.committee_index] = True
        bits.extend(i in positions for i in range(entry.committee_size))
    return Attestation(
        aggregation_bits=Bitlist[MAX_VALIDATORS_PER_COMMITTEE * MAX_COMMITTEES_PER_SLOT](*bits),
        data=data,
        signature=compress(sum_signatures(sig for _, (_, sig) in parts)),
        committee_bits=Bitvector[MAX_COMMITTEES_PER_SLOT](*committee_bits),
    )


class SyncPool:
    """Sync-committee signatures per (slot, block root), as position sets of the committee.
    The node adds parts that each lie within one subcommittee."""

    def __init__(self) -> None:
        self.parts: dict[tuple[int, bytes], list[Signed]] = {}

    def add(self, slot: int, root: bytes, positions: frozenset[int], sig: bls.G2Point) -> None:
        self.parts.setdefault((slot, root), []).append((positions, sig))

    def best(self, slot: int, root: bytes, within: frozenset[int] | None = None) -> Signed | None:
        parts = self.parts.get((slot, root), [])
        if within is not None:
            parts = [p for p in parts if p[0] <= within]
        return merge_disjoint(parts)

    def prune(self, min_slot: int) -> None:
        self.parts = {k: v for k, v in self.parts.items() if k[0] >= min_slot}


class SeenItems:
    """Roots of accepted submissions with their slots. Every member of a DVT cluster
    broadcasts the same combined message; the copies after the first are recognised here and
    answered without checking anything again (a gossiping node ignores them the same way)."""

    def __init__(self) -> None:
        self._slots: dict[bytes, int] = {}

    def __contains__(self, root: object) -> bool:
        return root in self._slots

    def add(self, root: bytes, slot: int) -> None:
        self._slots[root] = slot

    def prune(self, min_slot: int) -> None:
        """Forget items of slots before `min_slot` (too old to be accepted anyway)."""
        self._slots = {r: s for r, s in self._slots.items() if s >= min_slot}


@dataclass(frozen=True)
class Vote:
    """What a validator signed, kept cheaply; turned into an IndexedAttestation only when it
    is evidence in a slashing."""

    indices: tuple[int, ...]
    data: AttestationData
    data_root: bytes
    source_epoch: int
    target_epoch: int
    signature: bytes

    @classmethod
    def of(cls, indices: Iterable[int], data: AttestationData, signature: bytes) -> Vote:
        return cls(
            tuple(sorted(indices)),
            data,
            bytes(data.hash_tree_root()),
            int(data.source.epoch),
            int(data.target.epoch),
            signature,
        )

    def for_others(self, indices: Iterable[int], signature: bytes) -> Vote:
        """A vote on the same data by other validators (the data's fields are reused)."""
        return Vote(
            tuple(sorted(indices)),
            self.data,
            self.data_root,
            self.source_epoch,
            self.target_epoch,
            signature,
        )

    def surrounds(self, other: Vote) -> bool:
        return self.source_epoch < other.source_epoch and other.target_epoch < self.target_epoch

    def conflicts(self, other: Vote) -> bool:
        double = self.target_epoch == other.target_epoch and self.data_root != other.data_root
        return double or self.surrounds(other) or other.surrounds(self)

    def indexed(self) -> c.IndexedAttestation:
        return c.IndexedAttestation(
            attesting_indices=list(self.indices), data=self.data, signature=self.signature
        )


class SlashingDetector:
    """Remembers what each validator signed (through this node) and spots slashable pairs."""

    def __init__(self) -> None:
        self.proposals: dict[tuple[int, int], c.SignedBeaconBlockHeader] = {}
        self.votes: dict[int, list[Vote]] = {}

    def check_proposal(self, header: c.SignedBeaconBlockHeader) -> c.ProposerSlashing | None:
        key = (int(header.message.proposer_index), int(header.message.slot))
        seen = self.proposals.get(key)
        if seen is None:
            self.proposals[key] = header
            return None
        if seen.message.hash_tree_root() == header.message.hash_tree_root():
            return None
        return c.ProposerSlashing(signed_header_1=seen, signed_header_2=header)

    def prune(self, min_slot: int) -> None:
        """Forget proposals before `min_slot` (blocks that old can no longer be imported)."""
        self.proposals = {k: h for k, h in self.proposals.items() if k[1] >= min_slot}

    def check_votes(self, vote: Vote) -> list[c.AttesterSlashing]:
        found: dict[bytes, c.AttesterSlashing] = {}
        for index in vote.indices:
            history = self.votes.setdefault(index, [])
            for old in history:
                if old.conflicts(vote):
                    # attestation_1 must be the surrounding one (is_slashable_attestation_data).
                    first, second = (vote, old) if vote.surrounds(old) else (old, vote)
                    slashing = c.AttesterSlashing(
                        attestation_1=first.indexed(), attestation_2=second.indexed()
                    )
                    found.setdefault(bytes(slashing.hash_tree_root()), slashing)
                    break
            if all(old.data_root != vote.data_root for old in history):
                history.append(vote)
                del history[:-64]
        return list(found.values())
