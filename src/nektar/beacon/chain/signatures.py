"""Signature sets of a block or a batch of pool messages, verified in one batch.

Like production clients' block signature verifiers: every check of a block (proposer, RANDAO,
attestations, exits, slashings, sync aggregate) is collected as (pubkey, signing root,
signature) and verified by one batch (`bls.batch_verify_points`: random linear combination,
one pairing per distinct message). Only when the batch fails is it bisected to name the
culprits. Work is done on decoded points: validator pubkeys are decoded once
per process (the BLS module's own LRU cache is smaller than a 10,000-validator registry),
committee keys are summed as points, and each signature is decompressed once, so the pool
can aggregate the very points that were verified. Decoding waits until verification, so
collecting the sets (under the node's lock) costs next to nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from nektar.beacon.chain.shuffling import sha256
from nektar.crypto import bls

_POINTS: dict[bytes, bls.G1Point] = {}


def pubkey_point(pubkey: bytes) -> bls.G1Point:
    """The decoded (KeyValidated) point of a pubkey, cached."""
    point = _POINTS.get(pubkey)
    if point is None:
        point = bls.decode_pubkey(pubkey)
        _POINTS[pubkey] = point
    return point


def aggregate_pubkey_point(pubkeys: Iterable[bytes]) -> bls.G1Point:
    """eth_aggregate_pubkeys, as a point, over cached points."""
    total = None
    for pk in pubkeys:
        point = pubkey_point(pk)
        total = point if total is None else total + point
    if total is None:
        raise bls.BLSError("cannot aggregate an empty list of public keys")
    return total


def signing_root(object_root: bytes, domain: bytes) -> bytes:
    """compute_signing_root from an object's root: SigningData has two 32-byte fields, so its
    root is sha256(object_root ‖ domain); building the SSZ container costs ~50x more."""
    return sha256(bytes(object_root) + bytes(domain))


def compress(point: bls.G2Point) -> bytes:
    return point.compress()


def sum_signatures(points: Iterable[bls.G2Point]) -> bls.G2Point:
    total = bls.G2Point()
    for point in points:
        total = total + point
    return total


class SignatureError(ValueError):
    """A signature in a set did not verify; the message says which one."""


@dataclass
class SignatureSet:
    """One check: the signature of `pubkeys` (one key, or several whose aggregate signs)
    over `signing_root`. Keys and the signature are decoded only when the set is verified,
    so that collecting sets is cheap (the node collects under its lock and verifies after)."""

    what: str
    pubkeys: tuple[bytes, ...]
    signing_root: bytes
    signature: bytes
    _points: tuple[bls.G1Point | None, bls.G2Point | None] | None = None

    def points(self) -> tuple[bls.G1Point | None, bls.G2Point | None]:
        """(aggregate pubkey point, signature point); None where decoding fails."""
        if self._points is None:
            try:
                key = (
                    pubkey_point(self.pubkeys[0])
                    if len(self.pubkeys) == 1
                    else aggregate_pubkey_point(self.pubkeys)
                )
            except bls.BLSError:
                key = None
            try:
                sig = bls.decode_signature(self.signature)
            except bls.BLSError:
                sig = None
            self._points = (key, sig)
        return self._points


@dataclass
class SignatureBatch:
    """Signature sets collected from a block or a batch of submissions, verified together."""

    items: list[SignatureSet] = field(default_factory=list)

    def add(self, what: str, pubkey: bytes, signing_root: bytes, signature: bytes) -> None:
        self.items.append(
            SignatureSet(what, (bytes(pubkey),), bytes(signing_root), bytes(signature))
        )

    def add_aggregate(
        self, what: str, pubkeys: Iterable[bytes], signing_root: bytes, signature: bytes
    ) -> None:
        keys = tuple(bytes(pk) for pk in pubkeys)
        if not keys:
            raise SignatureError(f"{what}: cannot aggregate an empty list of public keys")
        self.items.append(SignatureSet(what, keys, bytes(signing_root), bytes(signature)))

    def signature_point(self, position: int) -> bls.G2Point:
        """The decoded signature of set `position` (valid only after `failures()` said so)."""
        point = self.items[position].points()[1]
        if point is None:
            raise SignatureError(f"{self.items[position].what}: undecodable signature")
        return point

    def failures(self) -> list[int]:
        """Positions of the sets that do not verify (empty if all do)."""
        decoded = [item.points() for item in self.items]
        undecodable = [i for i, (pk, sig) in enumerate(decoded) if pk is None or sig is None]
        rest = [
            (i, (pk, self.items[i].signing_root, sig))
            for i, (pk, sig) in enumerate(decoded)
            if pk is not None and sig is not None
        ]
        return sorted(undecodable + _bad(rest))

    def verify(self) -> None:
        """Raise SignatureError naming the first invalid signature, if any."""
        bad = self.failures()
        if bad:
            raise SignatureError(f"invalid signature: {self.items[bad[0]].what}")


def _bad(
    sets: list[tuple[int, tuple[bls.G1Point, bytes, bls.G2Point]]],
) -> list[int]:
    """Positions of the invalid sets, by bisection: a batch that fails is split in halves
    until the culprits are isolated, so k bad sets among n cost O(k log n) batch checks
    instead of n single ones (one bad message in a slot's batch must not cost a pairing per
    attestation)."""
    if not sets or bls.batch_verify_points([item for _, item in sets]):
        return []
    if len(sets) == 1:
        return [sets[0][0]]
    half = len(sets) // 2
    return _bad(sets[:half]) + _bad(sets[half:])
