"""QBFT wire messages: SSZ layout, signing roots, signatures and their verification.

The SSZ containers (normative definitions in `nektar.consensus.schema`, remerkleable) are::

    Payload       {kind uint8, instance Bytes32, round uint64, value_hash Bytes32,
                   prepared_round uint64}                                        # 81 bytes
    SignedPayload {payload Payload, signature ByteVector[65]}                    # 146 bytes
    Message       {signed SignedPayload, value ByteList[MAX_VALUE_BYTES],
                   round_changes List[SignedPayload, MAX_JUSTIFICATION],
                   prepares List[SignedPayload, MAX_JUSTIFICATION],
                   commits List[SignedPayload, MAX_JUSTIFICATION]}

Only the small fixed-size `Payload` is signed; values travel beside it and are bound to it by
`value_hash = sha256(value)`. Justifications are lists of other members' signed payloads, so any
receiver can check them. The codec here is hand-written because remerkleable costs ~0.2 ms per
message (too slow for 1,000 instances per slot); property tests prove it byte-identical to the
remerkleable containers, hash_tree_root included.
"""

from __future__ import annotations

import hashlib
import itertools
import struct
from dataclasses import dataclass
from enum import IntEnum

import coincurve

from nektar.crypto.node_key import NodeKey, NodeKeyError, public_key_to_address, recover_public_key

MAX_VALUE_BYTES = 1 << 22
MAX_JUSTIFICATION = 32
PAYLOAD_SIZE = 81
SIGNATURE_SIZE = 65
SIGNED_SIZE = PAYLOAD_SIZE + SIGNATURE_SIZE
_FIXED_SIZE = SIGNED_SIZE + 4 * 4  # signed payload + four offsets of the variable-size fields
_MAX_UINT64 = (1 << 64) - 1
ZERO_HASH = bytes(32)
# Signing domain of QBFT payloads: the digest signed is hash_tree_root(SigningData(root, domain)).
QBFT_DOMAIN = b"NEKTAR_QBFT_V1".ljust(32, b"\x00")

_ZERO_PAIR = hashlib.sha256(bytes(64)).digest()
_PAYLOAD = struct.Struct("<B32sQ32sQ")
_OFFSETS = struct.Struct("<4I")


class MessageError(ValueError):
    """Bytes or fields that do not form a well-formed QBFT message."""


class MessageKind(IntEnum):
    """QBFT message types (PROPOSAL is the paper's PRE-PREPARE; DECIDED carries a commit QC)."""

    PROPOSAL = 1
    PREPARE = 2
    COMMIT = 3
    ROUND_CHANGE = 4
    DECIDED = 5


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def value_hash(value: bytes) -> bytes:
    """The digest that stands for an opaque value inside signed payloads."""
    return hashlib.sha256(value).digest()


def merkleize(chunks: list[bytes]) -> bytes:
    """SSZ merkleization of 32-byte chunks (padded with zero chunks to a power of two)."""
    width = 1
    while width < len(chunks):
        width *= 2
    layer = chunks + [ZERO_HASH] * (width - len(chunks))
    while len(layer) > 1:
        layer = [sha256(layer[i] + layer[i + 1]) for i in range(0, len(layer), 2)]
    return layer[0]


def uint_chunk(value: int, size: int) -> bytes:
    """The SSZ chunk of an unsigned integer of `size` bytes."""
    return value.to_bytes(size, "little").ljust(32, b"\x00")


def instance_id(duty_type: int, slot: int, cluster_id: bytes) -> bytes:
    """Identity of one consensus instance: hash_tree_root(InstanceKey{duty_type uint8,
    slot uint64, cluster_id Bytes32}), so each (duty, slot, cluster) agrees on its own value."""
    if not 0 <= duty_type <= 255 or not 0 <= slot <= _MAX_UINT64 or len(cluster_id) != 32:
        raise MessageError(
            "instance key needs duty_type uint8, slot uint64 and a 32-byte cluster id"
        )
    return merkleize([uint_chunk(duty_type, 1), uint_chunk(slot, 8), cluster_id])


@dataclass(frozen=True, slots=True)
class Payload:
    """The signed part of every QBFT message."""

    kind: MessageKind
    instance: bytes
    round: int
    value_hash: bytes = ZERO_HASH
    prepared_round: int = 0

    def __post_init__(self) -> None:
        if len(self.instance) != 32 or len(self.value_hash) != 32:
            raise MessageError("instance and value_hash are 32 bytes")
        if not 0 <= self.round <= _MAX_UINT64 or not 0 <= self.prepared_round <= _MAX_UINT64:
            raise MessageError("round and prepared_round are uint64")

    def encode(self) -> bytes:
        return _PAYLOAD.pack(
            self.kind, self.instance, self.round, self.value_hash, self.prepared_round
        )

    @classmethod
    def decode(cls, data: bytes) -> Payload:
        if len(data) != PAYLOAD_SIZE:
            raise MessageError(f"payload is {PAYLOAD_SIZE} bytes, got {len(data)}")
        kind, instance, round_, vhash, prepared = _PAYLOAD.unpack(data)
        try:
            kind = MessageKind(kind)
        except ValueError:
            raise MessageError(f"unknown message kind {kind}") from None
        return cls(kind, instance, round_, vhash, prepared)

    def root(self) -> bytes:
        """SSZ hash_tree_root of the payload container (5 fields: a depth-3 tree whose three
        right-most leaves are zero chunks, so their subtree hash is a constant)."""
        h = hashlib.sha256
        left = h(
            h(uint_chunk(self.kind, 1) + self.instance).digest()
            + h(uint_chunk(self.round, 8) + self.value_hash).digest()
        ).digest()
        right = h(h(uint_chunk(self.prepared_round, 8) + ZERO_HASH).digest() + _ZERO_PAIR).digest()
        return h(left + right).digest()

    def signing_digest(self) -> bytes:
        """What the node key signs: hash_tree_root(SigningData(root, QBFT_DOMAIN))."""
        return sha256(self.root() + QBFT_DOMAIN)


@dataclass(frozen=True, slots=True)
class SignedPayload:
    """A payload with its sender's 65-byte secp256k1 signature (the sender is recovered)."""

    payload: Payload
    signature: bytes

    def __post_init__(self) -> None:
        if len(self.signature) != SIGNATURE_SIZE:
            raise MessageError(f"signature is {SIGNATURE_SIZE} bytes")

    def encode(self) -> bytes:
        return self.payload.encode() + self.signature

    @classmethod
    def decode(cls, data: bytes) -> SignedPayload:
        if len(data) != SIGNED_SIZE:
            raise MessageError(f"signed payload is {SIGNED_SIZE} bytes, got {len(data)}")
        return cls(Payload.decode(data[:PAYLOAD_SIZE]), bytes(data[PAYLOAD_SIZE:]))


class Signer:
    """Signs payloads with the node key; keeps the parsed secp256k1 key because building it
    costs as much as the signature itself. Signatures equal `NodeKey.sign_hash` (RFC 6979)."""

    def __init__(self, key: NodeKey) -> None:
        self._private = coincurve.PrivateKey(key.secret)
        self.address = key.address

    def sign(self, payload: Payload) -> SignedPayload:
        sig = self._private.sign_recoverable(payload.signing_digest(), hasher=None)
        return SignedPayload(payload, sig[:64] + bytes([sig[64] + 27]))


@dataclass(frozen=True, slots=True)
class QbftMessage:
    """One QBFT message on the wire: signed payload, optional full value, justifications.

    PROPOSAL: value + round_changes (+ prepares of the highest prepared round) for round > 1.
    ROUND_CHANGE: prepared value + the prepare quorum that justifies it (when prepared).
    DECIDED: value + the quorum certificate of commits.
    """

    signed: SignedPayload
    value: bytes = b""
    round_changes: tuple[SignedPayload, ...] = ()
    prepares: tuple[SignedPayload, ...] = ()
    commits: tuple[SignedPayload, ...] = ()

    @property
    def payload(self) -> Payload:
        return self.signed.payload

    @property
    def kind(self) -> MessageKind:
        return self.signed.payload.kind

    @property
    def instance(self) -> bytes:
        return self.signed.payload.instance

    @property
    def round(self) -> int:
        return self.signed.payload.round

    def encode(self) -> bytes:
        if len(self.value) > MAX_VALUE_BYTES:
            raise MessageError(f"value exceeds {MAX_VALUE_BYTES} bytes")
        lists = (self.round_changes, self.prepares, self.commits)
        if any(len(items) > MAX_JUSTIFICATION for items in lists):
            raise MessageError(f"a justification holds at most {MAX_JUSTIFICATION} messages")
        parts = [self.value, *(b"".join(s.encode() for s in items) for items in lists)]
        offsets, at = [], _FIXED_SIZE
        for part in parts:
            offsets.append(at)
            at += len(part)
        return b"".join([self.signed.encode(), _OFFSETS.pack(*offsets), *parts])

    @classmethod
    def decode(cls, data: bytes) -> QbftMessage:
        """Parse wire bytes; any malformation raises MessageError (never another exception)."""
        data = bytes(data)
        if len(data) < _FIXED_SIZE:
            raise MessageError(f"message shorter than its {_FIXED_SIZE}-byte fixed part")
        offsets = [*_OFFSETS.unpack_from(data, SIGNED_SIZE), len(data)]
        if offsets[0] != _FIXED_SIZE or any(a > b for a, b in itertools.pairwise(offsets)):
            raise MessageError("invalid SSZ offsets")
        value = data[offsets[0] : offsets[1]]
        if len(value) > MAX_VALUE_BYTES:
            raise MessageError(f"value exceeds {MAX_VALUE_BYTES} bytes")
        lists = [_decode_list(data[offsets[i] : offsets[i + 1]]) for i in (1, 2, 3)]
        return cls(SignedPayload.decode(data[:SIGNED_SIZE]), value, *lists)


def _decode_list(data: bytes) -> tuple[SignedPayload, ...]:
    if len(data) % SIGNED_SIZE:
        raise MessageError("justification list length is not a multiple of a signed payload")
    count = len(data) // SIGNED_SIZE
    if count > MAX_JUSTIFICATION:
        raise MessageError(f"a justification holds at most {MAX_JUSTIFICATION} messages")
    return tuple(
        SignedPayload.decode(data[i * SIGNED_SIZE : (i + 1) * SIGNED_SIZE]) for i in range(count)
    )


class SignatureVerifier:
    """Recovers the node address that signed a payload, remembering results.

    A signed payload is verified once per node even though it arrives again inside
    round-change, proposal and decided justifications; the cache is bounded (FIFO eviction)
    and keyed by the full signed bytes, so a signature cannot be replayed on other content.
    """

    def __init__(self, capacity: int = 1 << 16) -> None:
        self._capacity = capacity
        self._cache: dict[bytes, bytes | None] = {}
        self._addresses: dict[bytes, bytes] = {}
        self.recoveries = 0

    def signer(self, signed: SignedPayload) -> bytes | None:
        """20-byte address of the signer, or None when the signature does not recover."""
        key = signed.encode()
        if key in self._cache:
            return self._cache[key]
        self.recoveries += 1
        try:
            public = recover_public_key(signed.payload.signing_digest(), signed.signature)
        except NodeKeyError:
            address = None
        else:
            address = self._addresses.get(public)
            if address is None:
                if len(self._addresses) >= 1024:  # garbage signatures recover to random keys
                    self._addresses.clear()
                address = self._addresses[public] = public_key_to_address(public)
        self.remember(signed, address)
        return address

    def remember(self, signed: SignedPayload, address: bytes | None) -> None:
        """Record a known signer (e.g. our own messages) so it is never recovered."""
        if len(self._cache) >= self._capacity:
            del self._cache[next(iter(self._cache))]
        self._cache[signed.encode()] = address
