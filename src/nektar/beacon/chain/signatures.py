"""Signature sets of a block or a batch of pool messages, verified in one batch.

Like production clients' block signature verifiers: every check of a block (proposer, RANDAO,
attestations, exits, slashings, sync aggregate) is collected as (pubkey, signing root,
signature) and verified by one `bls.batch_verify`. Only when the batch fails are the sets
re-checked one by one to name the culprit. Aggregate public keys of committees are sums of
decoded points kept in a pubkey cache for the life of the process (validator keys recur every
epoch; the BLS module's own LRU cache is smaller than a 10,000-validator registry).
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


def aggregate_pubkey(pubkeys: Iterable[bytes]) -> bytes:
    """eth_aggregate_pubkeys over cached points."""
    total = None
    for pk in pubkeys:
        point = pubkey_point(pk)
        total = point if total is None else total + point
    if total is None:
        raise bls.BLSError("cannot aggregate an empty list of public keys")
    return total.compress()


class SignatureError(ValueError):
    """A signature in a set did not verify; the message says which one."""


@dataclass
class SignatureBatch:
    items: list[tuple[str, bytes, bytes, bytes]] = field(default_factory=list)

    def add(self, what: str, pubkey: bytes, signing_root: bytes, signature: bytes) -> None:
        self.items.append((what, bytes(pubkey), bytes(signing_root), bytes(signature)))

    def add_aggregate(
        self, what: str, pubkeys: Iterable[bytes], signing_root: bytes, signature: bytes
    ) -> None:
        try:
            pubkey = aggregate_pubkey(pubkeys)
        except bls.BLSError as exc:
            raise SignatureError(f"{what}: {exc}") from None
        self.add(what, pubkey, signing_root, signature)

    def failures(self) -> list[int]:
        """Positions of the sets that do not verify (empty if all do)."""
        if bls.batch_verify([item[1:] for item in self.items]):
            return []
        return [i for i, (_, pk, msg, sig) in enumerate(self.items) if not bls.verify(pk, msg, sig)]

    def verify(self) -> None:
        """Raise SignatureError naming the first invalid signature, if any."""
        bad = self.failures()
        if bad:
            raise SignatureError(f"invalid signature: {self.items[bad[0]][0]}")
