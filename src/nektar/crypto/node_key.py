"""The node's secp256k1 identity key.

One key serves three purposes, so that a peer is the operator the chain says it is:
the operator's on-chain registration names it, the P2P handshake proves possession of it,
and cluster members sign registrations (EIP-712) with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import coincurve
from eth_utils import keccak


class NodeKeyError(ValueError):
    """A node key, public key or signature that is malformed or does not verify."""


@dataclass(frozen=True)
class NodeKey:
    """A secp256k1 private key with the views of it the protocol needs."""

    secret: bytes

    def __post_init__(self) -> None:
        if len(self.secret) != 32:
            raise NodeKeyError("a secp256k1 secret is 32 bytes")
        try:
            coincurve.PrivateKey(self.secret)
        except ValueError as exc:
            raise NodeKeyError(f"invalid secp256k1 secret: {exc}") from exc

    @classmethod
    def generate(cls) -> NodeKey:
        return cls(coincurve.PrivateKey().secret)

    @property
    def public_key(self) -> bytes:
        """33-byte compressed public key (the node's P2P identity)."""
        return coincurve.PrivateKey(self.secret).public_key.format(compressed=True)

    @property
    def address(self) -> bytes:
        """The 20-byte Ethereum address of this key (what `ecrecover` yields on chain)."""
        return public_key_to_address(self.public_key)

    def sign_hash(self, digest: bytes) -> bytes:
        """65-byte recoverable signature r ‖ s ‖ v (v ∈ {27, 28}) over a 32-byte digest."""
        if len(digest) != 32:
            raise NodeKeyError("a digest to sign is 32 bytes")
        sig = coincurve.PrivateKey(self.secret).sign_recoverable(digest, hasher=None)
        return sig[:64] + bytes([sig[64] + 27])


def public_key_to_address(public_key: bytes) -> bytes:
    """Ethereum address of a compressed or uncompressed secp256k1 public key."""
    try:
        uncompressed = coincurve.PublicKey(public_key).format(compressed=False)
    except ValueError as exc:
        raise NodeKeyError(f"invalid secp256k1 public key: {exc}") from exc
    return keccak(uncompressed[1:])[12:]


def recover_public_key(digest: bytes, signature: bytes) -> bytes:
    """Compressed public key that produced a 65-byte r ‖ s ‖ v signature over `digest`."""
    if len(digest) != 32 or len(signature) != 65:
        raise NodeKeyError("need a 32-byte digest and a 65-byte signature")
    v = signature[64]
    if v in (27, 28):
        v -= 27
    if v not in (0, 1):
        raise NodeKeyError("signature recovery id must be 0, 1, 27 or 28")
    try:
        pub = coincurve.PublicKey.from_signature_and_message(
            signature[:64] + bytes([v]), digest, hasher=None
        )
    except ValueError as exc:
        raise NodeKeyError(f"signature does not recover: {exc}") from exc
    return pub.format(compressed=True)


def verify_hash(public_key: bytes, digest: bytes, signature: bytes) -> bool:
    """True when `signature` over `digest` was made by `public_key`."""
    try:
        return recover_public_key(digest, signature) == coincurve.PublicKey(public_key).format(
            compressed=True
        )
    except (NodeKeyError, ValueError):
        return False
