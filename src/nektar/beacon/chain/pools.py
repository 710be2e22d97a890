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
from nektar.beacon.chain.block import is_slashable_attestation_data
from nektar.crypto import bls
from nektar.crypto.signing import (
    MAX_COMMITTEES_PER_SLOT,
    MAX_VALIDATORS_PER_COMMITTEE,
    Attestation,
    AttestationData,
)

Signed = tuple[frozenset[int], bytes]


def merge_disjoint(parts: Iterable[Signed]) -> Signed | None:
    """Greedy union of signed participant sets: largest first, then every disjoint one."""
    ordered = sorted(parts, key=lambda p: -len(p[0]))
    if not ordered:
        return None
    covered: set[int] = set()
    signatures: list[bytes] = []
    for positions, signature in ordered:
        if positions and covered.isdisjoint(positions):
            covered |= positions
            signatures.append(signature)
    return frozenset(covered), bls.aggregate(signatures)


@dataclass
class CommitteeVotes:
    """Votes of one committee for one AttestationData."""

    data: AttestationData
    committee_index: int
    committee_size: int
    singles: dict[int, bytes] = field(default_factory=dict)
    aggregates: list[Signed] = field(default_factory=list)

    def best(self) -> Signed | None:
        singles = [(frozenset([pos]), sig) for pos, sig in self.singles.items()]
        return merge_disjoint([*self.aggregates, *singles])


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
        self, data: AttestationData, committee_index: int, size: int, pos: int, sig: bytes
    ) -> None:
        self._entry(data, committee_index, size).singles[pos] = sig

    def add_aggregate(
        self,
        data: AttestationData,
        committee_index: int,
        size: int,
        positions: frozenset[int],
        sig: bytes,
    ) -> None:
        self._entry(data, committee_index, size).aggregates.append((positions, sig))

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
        signature=bls.aggregate([sig for _, (_, sig) in parts]),
        committee_bits=Bitvector[MAX_COMMITTEES_PER_SLOT](*committee_bits),
    )


class SyncPool:
    """Sync-committee signatures per (slot, block root), as position sets of the committee."""

    def __init__(self) -> None:
        self.parts: dict[tuple[int, bytes], list[Signed]] = {}

    def add(self, slot: int, root: bytes, positions: frozenset[int], sig: bytes) -> None:
        self.parts.setdefault((slot, root), []).append((positions, sig))

    def best(self, slot: int, root: bytes, within: frozenset[int] | None = None) -> Signed | None:
        parts = self.parts.get((slot, root), [])
        if within is not None:
            parts = [p for p in parts if p[0] <= within]
        return merge_disjoint(parts)

    def prune(self, min_slot: int) -> None:
        self.parts = {k: v for k, v in self.parts.items() if k[0] >= min_slot}


class SlashingDetector:
    """Remembers what each validator signed (through this node) and spots slashable pairs."""

    def __init__(self) -> None:
        self.proposals: dict[tuple[int, int], c.SignedBeaconBlockHeader] = {}
        self.votes: dict[int, list[c.IndexedAttestation]] = {}

    def check_proposal(self, header: c.SignedBeaconBlockHeader) -> c.ProposerSlashing | None:
        key = (int(header.message.proposer_index), int(header.message.slot))
        seen = self.proposals.get(key)
        if seen is None:
            self.proposals[key] = header
            return None
        if seen.message.hash_tree_root() == header.message.hash_tree_root():
            return None
        return c.ProposerSlashing(signed_header_1=seen, signed_header_2=header)

    def check_votes(self, indexed: c.IndexedAttestation) -> list[c.AttesterSlashing]:
        found: list[c.AttesterSlashing] = []
        root = indexed.data.hash_tree_root()
        for index in (int(i) for i in indexed.attesting_indices):
            history = self.votes.setdefault(index, [])
            for old in history:
                if old.data.hash_tree_root() == root:
                    continue
                if is_slashable_attestation_data(old.data, indexed.data):
                    found.append(c.AttesterSlashing(attestation_1=old, attestation_2=indexed))
                elif is_slashable_attestation_data(indexed.data, old.data):
                    found.append(c.AttesterSlashing(attestation_1=indexed, attestation_2=old))
                else:
                    continue
                break
            if not any(o.data.hash_tree_root() == root for o in history):
                history.append(indexed)
                del history[:-64]
        return found
