"""Signature sets of a block or a batch of pool messages, verified in one batch.

Like production clients' block signature verifiers: every check of a block (proposer, RANDAO,
attestations, exits, slashings, sync aggregate) is collected as (pubkey, signing root,
signature) and verified by one batch (`bls.batch_verify_points`: random linear combination,
one pairing per distinct message). Only when the batch fails are the sets re-checked one by
one to name the culprit. Work is done on decoded points: validator pubkeys are decoded once
per process (the BLS module's own LRU cache is smaller than a 10,000-validator registry),
committee keys are summed as points, and each signature is decompressed once, so the pool
can aggregate the very points that were verified.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

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
class SignatureBatch:
    """(what, pubkey point, signing root, signature point or None if undecodable)."""

    items: list[tuple[str, bls.G1Point | None, bytes, bls.G2Point | None]] = field(
        default_factory=list
    )

    def add(self, what: str, pubkey: bytes, signing_root: bytes, signature: bytes) -> None:
        try:
            point = pubkey_point(bytes(pubkey))
        except bls.BLSError:
            point = None
        self._add_point(what, point, signing_root, signature)

    def add_aggregate(
        self, what: str, pubkeys: Iterable[bytes], signing_root: bytes, signature: bytes
    ) -> None:
        try:
            point = aggregate_pubkey_point(pubkeys)
        except bls.BLSError as exc:
            raise SignatureError(f"{what}: {exc}") from None
        self._add_point(what, point, signing_root, signature)

    def _add_point(
        self, what: str, pubkey: bls.G1Point | None, signing_root: bytes, signature: bytes
    ) -> None:
        try:
            sig = bls.decode_signature(bytes(signature))
        except bls.BLSError:
            sig = None
        self.items.append((what, pubkey, bytes(signing_root), sig))

    def signature_point(self, position: int) -> bls.G2Point:
        """The decoded signature of set `position` (valid only after `failures()` said so)."""
        point = self.items[position][3]
        if point is None:
            raise SignatureError(f"{self.items[position][0]}: undecodable signature")
        return point

    def failures(self) -> list[int]:
        """Positions of the sets that do not verify (empty if all do)."""
        undecodable = [
            i for i, (_, pk, _, sig) in enumerate(self.items) if pk is None or sig is None
        ]
        rest = [
            (i, (pk, msg, sig))
            for i, (_, pk, msg, sig) in enumerate(self.items)
            if pk is not None and sig is not None
        ]
        if bls.batch_verify_points([item for _, item in rest]):
            return undecodable
        bad = [i for i, item in rest if not bls.batch_verify_points([item])]
        return sorted(undecodable + bad)

    def verify(self) -> None:
        """Raise SignatureError naming the first invalid signature, if any."""
        bad = self.failures()
        if bad:
            raise SignatureError(f"invalid signature: {self.items[bad[0]][0]}")
