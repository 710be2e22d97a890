"""BLS signatures with the Ethereum ciphersuite (BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_).

Public keys are compressed G1 points (48 bytes), signatures compressed G2 points (96 bytes),
secret keys integers in [1, r). The group arithmetic is blst's (through `pyblst`), chosen after
measuring the compiled libraries on this machine (docs/crypto.md): it is the fastest at
hash-to-curve, scalar multiplication and pairings, and every point it decodes is checked to be
on the curve and in the prime-order subgroup.

Verification functions follow the IETF draft / consensus specs: anything invalid (malformed
bytes, infinity public key, point outside the subgroup) makes them return False. Functions
that *produce* a value (sign, aggregate, key derivation, decoding) raise `BLSError` instead.

The low-level helpers at the bottom (`decode_*`, `g1_*`, `g2_*`, `pairing_check`) are the
group operations the threshold and DKG modules are built on.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from functools import lru_cache
from typing import TypeVar

import pyblst

DST = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"
CURVE_ORDER = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001
PUBKEY_LENGTH = 48
SIGNATURE_LENGTH = 96
INFINITY_PUBKEY = b"\xc0" + b"\x00" * 47
INFINITY_SIGNATURE = b"\xc0" + b"\x00" * 95

G1Point = pyblst.BlstP1Element
G2Point = pyblst.BlstP2Element
Point = TypeVar("Point", G1Point, G2Point)
_G1_GENERATOR_BYTES = bytes.fromhex(
    "97f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb"
)
G1_GENERATOR = G1Point().uncompress(_G1_GENERATOR_BYTES)
_NEG_G1_GENERATOR = -G1_GENERATOR
_BATCH_SCALAR_BITS = 64
_GT_ONE = pyblst.miller_loop(G1Point(), G2Point())


class BLSError(ValueError):
    """Malformed BLS input: a bad secret key, point encoding, or empty aggregate."""


# --- keys -------------------------------------------------------------------------------------


def keygen(ikm: bytes, key_info: bytes = b"") -> int:
    """IETF BLS KeyGen (draft-04+): HKDF-SHA256 of the key material, retried until non-zero.

    Deterministic so that a seed always gives the same key; at least 32 bytes of IKM are
    required because the security of the key is that of its input.
    """
    if len(ikm) < 32:
        raise BLSError(f"key material must be at least 32 bytes, got {len(ikm)}")
    salt = b"BLS-SIG-KEYGEN-SALT-"
    length = 48  # ceil((3 * ceil(log2(r))) / 16)
    sk = 0
    while sk == 0:
        salt = hashlib.sha256(salt).digest()
        prk = hmac.new(salt, ikm + b"\x00", hashlib.sha256).digest()
        okm = _hkdf_expand(prk, key_info + length.to_bytes(2, "big"), length)
        sk = int.from_bytes(okm, "big") % CURVE_ORDER
    return sk


def _hkdf_expand(prk: bytes, info: bytes, length: int) -> bytes:
    output, block, counter = b"", b"", 1
    while len(output) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        output += block
        counter += 1
    return output[:length]


def _check_secret(sk: int) -> int:
    if not isinstance(sk, int) or not 0 < sk < CURVE_ORDER:
        raise BLSError("a secret key is an integer in [1, r)")
    return sk


def sk_to_pk(sk: int) -> bytes:
    """The compressed public key sk·G1."""
    return G1_GENERATOR.scalar_mul(_check_secret(sk)).compress()


def key_validate(pk: bytes) -> bool:
    """KeyValidate: a well-formed G1 point in the subgroup that is not the identity."""
    try:
        decode_pubkey(pk)
    except BLSError:
        return False
    return True


# --- signatures -------------------------------------------------------------------------------


def sign(sk: int, msg: bytes) -> bytes:
    """Sign `msg` (any bytes; in Ethereum a 32-byte signing root)."""
    return hash_to_g2(msg).scalar_mul(_check_secret(sk)).compress()


def verify(pk: bytes, msg: bytes, sig: bytes) -> bool:
    """CoreVerify with KeyValidate: e(pk, H(msg)) == e(G1, sig)."""
    try:
        point = decode_pubkey(pk)
        signature = decode_signature(sig)
    except BLSError:
        return False
    return pairing_check([(point, hash_to_g2(msg)), (_NEG_G1_GENERATOR, signature)])


def aggregate(sigs: Sequence[bytes]) -> bytes:
    """Sum of signatures; each must decode to a subgroup point, and there must be at least one."""
    if not sigs:
        raise BLSError("cannot aggregate an empty list of signatures")
    total = G2Point()
    for sig in sigs:
        total = total + decode_signature(sig)
    return total.compress()


def _aggregate_pubkey_points(pks: Sequence[bytes]) -> G1Point:
    if not pks:
        raise BLSError("cannot aggregate an empty list of public keys")
    total = G1Point()
    for pk in pks:
        total = total + decode_pubkey(pk)
    return total


def fast_aggregate_verify(pks: Sequence[bytes], msg: bytes, sig: bytes) -> bool:
    """FastAggregateVerify: every pk valid, all signed the same message."""
    try:
        total = _aggregate_pubkey_points(pks)
        signature = decode_signature(sig)
    except BLSError:
        return False
    return pairing_check([(total, hash_to_g2(msg)), (_NEG_G1_GENERATOR, signature)])


def aggregate_verify(pks: Sequence[bytes], msgs: Sequence[bytes], sig: bytes) -> bool:
    """AggregateVerify (proof-of-possession scheme: messages need not be distinct)."""
    if not pks or len(pks) != len(msgs):
        return False
    try:
        pairs = [(decode_pubkey(pk), hash_to_g2(msg)) for pk, msg in zip(pks, msgs, strict=True)]
        signature = decode_signature(sig)
    except BLSError:
        return False
    return pairing_check([*pairs, (_NEG_G1_GENERATOR, signature)])


def eth_aggregate_pubkeys(pks: Sequence[bytes]) -> bytes:
    """Sum of public keys (consensus specs, altair): every key must pass KeyValidate."""
    return _aggregate_pubkey_points(pks).compress()


def eth_fast_aggregate_verify(pks: Sequence[bytes], msg: bytes, sig: bytes) -> bool:
    """FastAggregateVerify, except that no keys with the infinity signature is valid (altair)."""
    if not pks and sig == INFINITY_SIGNATURE:
        return True
    return fast_aggregate_verify(pks, msg, sig)


def batch_verify(triples: Sequence[tuple[bytes, bytes, bytes]]) -> bool:
    """Verify many (pk, msg, sig) at once: True only if every one is valid (w.h.p.).

    Random 64-bit linear combination (so invalid signatures cannot cancel each other),
    one Miller loop per distinct message and a single final exponentiation:
    prod_m e(sum_{i: msg_i = m} r_i·pk_i, H(m)) == e(G1, sum_i r_i·sig_i).
    An empty batch is vacuously valid.
    """
    try:
        points = [(decode_pubkey(pk), msg, decode_signature(sig)) for pk, msg, sig in triples]
    except BLSError:
        return False
    return batch_verify_points(points)


def batch_verify_points(items: Sequence[tuple[G1Point, bytes, G2Point]]) -> bool:
    """`batch_verify` over already decoded (and therefore validated) points."""
    if not items:
        return True
    weights = [secrets.randbits(_BATCH_SCALAR_BITS) | 1 for _ in items]
    groups: dict[bytes, tuple[list[G1Point], list[int]]] = {}
    for (pk, msg, _), r in zip(items, weights, strict=True):
        keys, scalars = groups.setdefault(bytes(msg), ([], []))
        keys.append(pk)
        scalars.append(r)
    pairs = [(msm(keys, scalars), hash_to_g2(msg)) for msg, (keys, scalars) in groups.items()]
    sig_sum = msm([sig for _, _, sig in items], weights)
    return pairing_check([*pairs, (_NEG_G1_GENERATOR, sig_sum)])


_MSM_MIN_POINTS = 2


def msm(points: Sequence[Point], scalars: Sequence[int]) -> Point:
    """sum scalars[i]·points[i] for PUBLIC non-negative scalars (variable time).

    Pippenger's bucket method over blst point additions: for 1,000 64-bit scalars it costs
    about a fifth of 1,000 constant-time multiplications. Few points: plain multiplications.
    """
    if len(points) < _MSM_MIN_POINTS:
        total = type(points[0])()
        for point, scalar in zip(points, scalars, strict=True):
            total = total + point.scalar_mul(scalar)
        return total
    window = max(2, len(points).bit_length() - 2)
    mask = (1 << window) - 1
    top = max(scalars).bit_length()
    total: Point | None = None
    for shift in reversed(range(0, top, window)):
        if total is not None:
            for _ in range(window):
                total = total + total
        buckets: list[Point | None] = [None] * (mask + 1)
        for point, scalar in zip(points, scalars, strict=True):
            digit = (scalar >> shift) & mask
            if digit:
                bucket = buckets[digit]
                buckets[digit] = point if bucket is None else bucket + point
        running: Point | None = None
        window_sum: Point | None = None
        for bucket in reversed(buckets[1:]):
            if bucket is not None:
                running = bucket if running is None else running + bucket
            if running is not None:
                window_sum = running if window_sum is None else window_sum + running
        if window_sum is not None:
            total = window_sum if total is None else total + window_sum
    return total if total is not None else type(points[0])()


# --- group operations used by threshold signing and the DKG ------------------------------------


def decode_pubkey(pk: bytes) -> G1Point:
    """Decode a public key, enforcing KeyValidate (not infinity, in the subgroup)."""
    if not isinstance(pk, bytes | bytearray) or len(pk) != PUBKEY_LENGTH:
        raise BLSError(f"a public key is {PUBKEY_LENGTH} bytes")
    return _decode_pubkey_cached(bytes(pk))


@lru_cache(maxsize=4096)
def _decode_pubkey_cached(pk: bytes) -> G1Point:
    # Cached because validators' keys recur in every duty; a failure is not cached.
    if pk == INFINITY_PUBKEY:
        raise BLSError("public key is the point at infinity")
    try:
        return G1Point().uncompress(pk)
    except ValueError as exc:
        raise BLSError(f"public key is not a valid G1 point in the subgroup: {exc}") from None


def decode_signature(sig: bytes) -> G2Point:
    """Decode a signature: a compressed G2 point in the subgroup (infinity allowed)."""
    if not isinstance(sig, bytes | bytearray) or len(sig) != SIGNATURE_LENGTH:
        raise BLSError(f"a signature is {SIGNATURE_LENGTH} bytes")
    try:
        return G2Point().uncompress(bytes(sig))
    except ValueError as exc:
        raise BLSError(f"signature is not a valid G2 point in the subgroup: {exc}") from None


def hash_to_g2(msg: bytes) -> G2Point:
    """hash_to_curve with the ciphersuite's DST (SSWU, random oracle)."""
    return _hash_to_g2_cached(bytes(msg))


@lru_cache(maxsize=8192)
def _hash_to_g2_cached(msg: bytes) -> G2Point:
    # Cached: a node hashes each signing root when it signs its partial and again when it
    # verifies the combined signature moments later (points are immutable values).
    return G2Point().hash_to_group(msg, DST)


def clear_caches() -> None:
    """Forget cached decoded keys and message hashes (benchmarks measure cold paths)."""
    _decode_pubkey_cached.cache_clear()
    _hash_to_g2_cached.cache_clear()


def g1_mul(point: G1Point, scalar: int) -> G1Point:
    """scalar·point in G1, scalar reduced mod r."""
    return point.scalar_mul(scalar % CURVE_ORDER)


def g2_mul(point: G2Point, scalar: int) -> G2Point:
    """scalar·point in G2, scalar reduced mod r."""
    return point.scalar_mul(scalar % CURVE_ORDER)


def g1_lincomb(points: Sequence[G1Point], scalars: Sequence[int]) -> G1Point:
    """sum scalars[i]·points[i] in G1 with constant-time multiplications (secret scalars)."""
    total = G1Point()
    for point, scalar in zip(points, scalars, strict=True):
        total = total + point.scalar_mul(scalar % CURVE_ORDER)
    return total


def g2_lincomb(points: Sequence[G2Point], scalars: Sequence[int]) -> G2Point:
    """sum scalars[i]·points[i] in G2 with constant-time multiplications (secret scalars)."""
    total = G2Point()
    for point, scalar in zip(points, scalars, strict=True):
        total = total + point.scalar_mul(scalar % CURVE_ORDER)
    return total


def pairing_check(pairs: Sequence[tuple[G1Point, G2Point]]) -> bool:
    """True iff prod e(P_i, Q_i) == 1: one Miller loop per pair and one final exponentiation."""
    accumulated = pyblst.miller_loop(pairs[0][0], pairs[0][1])
    for p, q in pairs[1:]:
        accumulated = accumulated * pyblst.miller_loop(p, q)
    return pyblst.final_verify(accumulated, _GT_ONE)
