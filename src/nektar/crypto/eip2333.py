"""EIP-2333 BLS12-381 key derivation (tree KDF) and EIP-2334 validator key paths.

Child keys come from a Lamport-style hardening of the parent key (so a child key never reveals
its parent); the final reduction to a BLS secret is the IETF KeyGen of `nektar.crypto.bls`
(HKDF_mod_r in EIP-2333's words).
"""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from nektar.crypto import bls

LAMPORT_CHUNKS = 255
MAX_INDEX = 2**32 - 1
EIP2334_PURPOSE = 12381
ETH_COIN_TYPE = 3600


class KeyDerivationError(ValueError):
    """A seed, parent key, index or path that EIP-2333/2334 does not allow."""


def ikm_to_lamport_sk(ikm: bytes, salt: bytes) -> list[bytes]:
    """255 32-byte Lamport secret chunks expanded from `ikm` with HKDF-SHA256."""
    okm = HKDF(algorithm=hashes.SHA256(), length=32 * LAMPORT_CHUNKS, salt=salt, info=b"").derive(
        ikm
    )
    return [okm[i : i + 32] for i in range(0, len(okm), 32)]


def parent_sk_to_lamport_pk(parent_sk: int, index: int) -> bytes:
    """The compressed Lamport public key of the parent for child `index` (32 bytes)."""
    _check_secret(parent_sk)
    _check_index(index)
    salt = index.to_bytes(4, "big")
    ikm = parent_sk.to_bytes(32, "big")
    not_ikm = bytes(b ^ 0xFF for b in ikm)
    chunks = ikm_to_lamport_sk(ikm, salt) + ikm_to_lamport_sk(not_ikm, salt)
    lamport_pk = b"".join(hashlib.sha256(chunk).digest() for chunk in chunks)
    return hashlib.sha256(lamport_pk).digest()


def derive_child_sk(parent_sk: int, index: int) -> int:
    """The child secret key at `index` (0 ≤ index < 2³²) below `parent_sk`."""
    return bls.keygen(parent_sk_to_lamport_pk(parent_sk, index))


def derive_master_sk(seed: bytes) -> int:
    """The root secret key of a tree from a seed of at least 32 bytes (e.g. a BIP-39 seed)."""
    if len(seed) < 32:
        raise KeyDerivationError(f"the seed must be at least 32 bytes, got {len(seed)}")
    return bls.keygen(seed)


def parse_path(path: str) -> list[int]:
    """Indices of an EIP-2334 path string such as "m/12381/3600/0/0/0"."""
    parts = path.strip().split("/")
    if parts[0] != "m":
        raise KeyDerivationError(f"a key path starts with 'm': {path!r}")
    indices = []
    for part in parts[1:]:
        if not part.isdigit() or not part.isascii():
            raise KeyDerivationError(f"path component {part!r} is not a decimal index: {path!r}")
        indices.append(_check_index(int(part)))
    return indices


def derive_path(seed: bytes, path: str) -> int:
    """The secret key at `path` in the tree of `seed`."""
    sk = derive_master_sk(seed)
    for index in parse_path(path):
        sk = derive_child_sk(sk, index)
    return sk


def signing_key_path(validator_index: int) -> str:
    """EIP-2334 signing key path of the i-th validator of a seed: m/12381/3600/i/0/0."""
    return f"m/{EIP2334_PURPOSE}/{ETH_COIN_TYPE}/{_check_index(validator_index)}/0/0"


def withdrawal_key_path(validator_index: int) -> str:
    """EIP-2334 withdrawal key path of the i-th validator: m/12381/3600/i/0."""
    return f"m/{EIP2334_PURPOSE}/{ETH_COIN_TYPE}/{_check_index(validator_index)}/0"


def _check_index(index: int) -> int:
    if not isinstance(index, int) or not 0 <= index <= MAX_INDEX:
        raise KeyDerivationError(f"a child index is in [0, 2^32), got {index!r}")
    return index


def _check_secret(sk: int) -> int:
    if not isinstance(sk, int) or not 0 <= sk < bls.CURVE_ORDER:
        raise KeyDerivationError("a parent secret key is an integer in [0, r)")
    return sk
