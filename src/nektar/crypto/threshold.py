"""Threshold BLS: Shamir shares over the scalar field, Feldman commitments, Lagrange in G2.

A validator key is the constant term of a polynomial f of degree t−1 over F_r; member i
(indices 1..n) holds f(i). Feldman commitments C_k = a_k·G1 let anyone check a share
(f(i)·G1 == sum C_k·i^k) and compute every member's public share f(i)·G1 and the group key
C_0 = f(0)·G1 without learning f. A signature on m by member i is f(i)·H(m); any t of them
interpolate at 0 to f(0)·H(m), the group signature. t−1 shares reveal nothing about f(0):
for every candidate secret there is exactly one polynomial through them.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from math import gcd, lcm, prod
from typing import TypeVar

from nektar.crypto import bls

R = bls.CURVE_ORDER
_SMALL_SCALAR_BITS = 32
Point = TypeVar("Point", bls.G1Point, bls.G2Point)


class ThresholdError(ValueError):
    """Invalid threshold parameters, indices, shares or commitments."""


class PartialSignatureError(ThresholdError):
    """The combined signature did not verify; `bad_indices` names the partials at fault."""

    def __init__(self, bad_indices: Sequence[int], detail: str = "") -> None:
        self.bad_indices = tuple(sorted(bad_indices))
        names = ", ".join(str(i) for i in self.bad_indices) or "none identified"
        super().__init__(f"invalid partial signature(s) from member(s) {names}{detail}")


# --- polynomials and shares -------------------------------------------------------------------


def check_parameters(threshold: int, members: int) -> None:
    """1 ≤ t ≤ n; indices 1..n must stay below r (always true for real cluster sizes)."""
    if not (isinstance(threshold, int) and isinstance(members, int)):
        raise ThresholdError("threshold and member count are integers")
    if not 1 <= threshold <= members:
        raise ThresholdError(f"need 1 ≤ t ≤ n, got t={threshold}, n={members}")


def check_indices(indices: Sequence[int]) -> None:
    """Member indices are distinct integers in [1, r)."""
    for index in indices:
        if not isinstance(index, int) or not 0 < index < R:
            raise ThresholdError(f"member index {index!r} is not an integer in [1, r)")
    if len(set(indices)) != len(indices):
        raise ThresholdError(f"duplicate member indices in {sorted(indices)}")


def random_polynomial(secret: int, threshold: int) -> list[int]:
    """Coefficients a_0 = secret, a_1..a_{t−1} uniform in F_r."""
    if not 0 <= secret < R:
        raise ThresholdError("the secret is an element of F_r")
    return [secret] + [secrets.randbelow(R) for _ in range(threshold - 1)]


def eval_polynomial(coefficients: Sequence[int], x: int) -> int:
    """f(x) mod r by Horner's rule."""
    result = 0
    for coefficient in reversed(coefficients):
        result = (result * x + coefficient) % R
    return result


def split(secret: int, threshold: int, members: int) -> tuple[list[int], dict[int, int]]:
    """Deal `secret` into n shares, any t of which recover it: (coefficients, {index: share})."""
    check_parameters(threshold, members)
    coefficients = random_polynomial(secret, threshold)
    return coefficients, {i: eval_polynomial(coefficients, i) for i in range(1, members + 1)}


@lru_cache(maxsize=1024)
def lagrange_coefficients(indices: tuple[int, ...]) -> dict[int, int]:
    """λ_i = prod_{j≠i} j / (j − i) mod r: the weights that interpolate f(0) from f(i)."""
    check_indices(indices)
    coefficients = {}
    for i in indices:
        numerator, denominator = 1, 1
        for j in indices:
            if j != i:
                numerator = numerator * j % R
                denominator = denominator * (j - i) % R
        coefficients[i] = numerator * pow(denominator, -1, R) % R
    return coefficients


@lru_cache(maxsize=1024)
def integer_lagrange(indices: tuple[int, ...]) -> tuple[int, tuple[int, ...]] | None:
    """(D, (D·λ_i)_i) with D·λ_i small integers, or None when they are not small.

    λ_i = N_i / M_i with N_i = prod_{j≠i} j and M_i = prod_{j≠i} (j − i); D = lcm |M_i|
    reduced by the common factor. Interpolating with these integers (public, so double-and-add
    is fine) and multiplying once by D⁻¹ costs far less than t full multiplications.
    """
    numerators = [prod(j for j in indices if j != i) for i in indices]
    denominators = [prod(j - i for j in indices if j != i) for i in indices]
    common = lcm(*(abs(m) for m in denominators))
    integers = [n * (common // m) for n, m in zip(numerators, denominators, strict=True)]
    factor = gcd(common, *integers)
    common, integers = common // factor, [k // factor for k in integers]
    if max(abs(k) for k in integers).bit_length() > _SMALL_SCALAR_BITS:
        return None
    return common, tuple(integers)


def recover_secret(shares: Mapping[int, int]) -> int:
    """Interpolate f(0) from shares (tests and key-split tooling only: never in a node)."""
    weights = lagrange_coefficients(tuple(sorted(shares)))
    return sum(weights[i] * s for i, s in shares.items()) % R


# --- Feldman commitments and public shares ----------------------------------------------------


def feldman_commitments(coefficients: Sequence[int]) -> list[bytes]:
    """C_k = a_k·G1, compressed. C_0 is the public key of the shared secret."""
    return [bls.g1_mul(bls.G1_GENERATOR, a).compress() for a in coefficients]


def decode_commitments(commitments: Sequence[bytes]) -> list[bls.G1Point]:
    """Decode and subgroup-check commitments (C_k may be infinity only for k ≥ 1)."""
    if not commitments:
        raise ThresholdError("no commitments")
    points = []
    for k, commitment in enumerate(commitments):
        if k > 0 and commitment == bls.INFINITY_PUBKEY:
            points.append(bls.G1Point())
            continue
        try:
            points.append(bls.decode_pubkey(commitment))
        except bls.BLSError as exc:
            raise ThresholdError(f"commitment {k} is invalid: {exc}") from None
    return points


def _mul_public(point: Point, scalar: int) -> Point:
    """Variable-time double-and-add for small PUBLIC scalars (member indices, Lagrange
    numerators): ~10× faster than blst's constant-time multiplication for a few bits."""
    if scalar < 0:
        point, scalar = -point, -scalar
    if scalar == 0:
        return type(point)()
    result = point  # the leading bit
    for bit in bin(scalar)[3:]:
        result = result + result
        if bit == "1":
            result = result + point
    return result


def evaluate_commitments(points: Sequence[bls.G1Point], index: int) -> bls.G1Point:
    """sum C_k·index^k by Horner's rule: the public image f(index)·G1."""
    if index.bit_length() > _SMALL_SCALAR_BITS:
        return bls.g1_lincomb(points, [pow(index, k, R) for k in range(len(points))])
    result = bls.G1Point()
    for point in reversed(points):
        result = _mul_public(result, index) + point
    return result


def public_share(commitments: Sequence[bytes], index: int) -> bytes:
    """Member `index`'s public share f(index)·G1, from the commitments alone."""
    check_indices([index])
    return evaluate_commitments(decode_commitments(commitments), index).compress()


def group_pubkey(commitments: Sequence[bytes]) -> bytes:
    """The group public key f(0)·G1 = C_0."""
    decode_commitments(commitments[:1])
    return bytes(commitments[0])


def verify_share(commitments: Sequence[bytes], index: int, share: int) -> bool:
    """Feldman check: share·G1 == sum C_k·index^k."""
    if not 0 <= share < R:
        return False
    try:
        points = decode_commitments(commitments)
    except ThresholdError:
        return False
    return bls.g1_mul(bls.G1_GENERATOR, share) == evaluate_commitments(points, index)


def recover_group_pubkey(public_shares: Mapping[int, bytes]) -> bytes:
    """Interpolate f(0)·G1 from any t public shares."""
    indices = tuple(sorted(public_shares))
    weights = lagrange_coefficients(indices)
    points = [bls.decode_pubkey(public_shares[i]) for i in indices]
    return bls.g1_lincomb(points, [weights[i] for i in indices]).compress()


# --- partial signatures -----------------------------------------------------------------------


def partial_sign(share: int, msg: bytes) -> bytes:
    """Member's signature share f(i)·H(msg): an ordinary BLS signature under its share key."""
    return bls.sign(share, msg)


def verify_partial(public_share_bytes: bytes, msg: bytes, partial: bytes) -> bool:
    """A partial signature verifies under the member's public share like any BLS signature."""
    return bls.verify(public_share_bytes, msg, partial)


def combine(partials: Mapping[int, bytes], threshold: int) -> bytes:
    """Lagrange interpolation in G2 of the t lowest-indexed partials: the group signature.

    Does not verify: a wrong partial yields a wrong signature (see `combine_and_verify`).
    """
    return _combine_point(partials, threshold).compress()


def _combine_point(partials: Mapping[int, bytes], threshold: int) -> bls.G2Point:
    indices = tuple(sorted(partials))
    check_indices(indices)
    if len(indices) < threshold:
        raise ThresholdError(f"need {threshold} partial signatures, got {len(indices)}")
    chosen = indices[:threshold]
    points = []
    for i in chosen:
        try:
            points.append(bls.decode_signature(partials[i]))
        except bls.BLSError as exc:
            raise PartialSignatureError([i], f": {exc}") from None
    small = integer_lagrange(chosen)
    if small is None:
        weights = lagrange_coefficients(chosen)
        return bls.g2_lincomb(points, [weights[i] for i in chosen])
    denominator, integers = small
    total = bls.G2Point()
    for point, k in zip(points, integers, strict=True):
        total = total + _mul_public(point, k)
    return total if denominator == 1 else bls.g2_mul(total, pow(denominator, -1, R))


@dataclass(frozen=True)
class PartialSet:
    """Everything needed to finish one signature: the message, the keys and the partials."""

    message: bytes
    group_pubkey: bytes
    public_shares: Mapping[int, bytes]
    partials: Mapping[int, bytes]


def _blame(job: PartialSet) -> list[int]:
    """Indices whose partial does not verify under their own public share (or have none)."""
    shares, msg = job.public_shares, job.message
    return [
        i
        for i, partial in job.partials.items()
        if i not in shares or not verify_partial(shares[i], msg, partial)
    ]


def combine_and_verify(job: PartialSet, threshold: int) -> bytes:
    """Combine t partials and verify the result against the group key.

    On failure every partial is checked against its public share, and PartialSignatureError
    names the bad ones, so the caller can drop them and retry with others. The common path
    costs one interpolation and one verification, not t verifications.
    """
    try:
        signature = combine(job.partials, threshold)
    except PartialSignatureError:
        raise PartialSignatureError(_blame(job)) from None
    if bls.verify(job.group_pubkey, job.message, signature):
        return signature
    raise PartialSignatureError(_blame(job))


def combine_and_verify_many(
    jobs: Sequence[PartialSet], threshold: int
) -> list[bytes | PartialSignatureError]:
    """Combine many signatures (e.g. every validator's duty of a slot) and verify them with one
    batch verification; only if the batch fails is each checked on its own to find the bad one.

    Returns, per job, the group signature or the PartialSignatureError naming its bad partials.
    """
    results: list[bytes | PartialSignatureError] = []
    batch: list[tuple[bls.G1Point, bytes, bls.G2Point]] = []
    for job in jobs:
        try:
            point = _combine_point(job.partials, threshold)
            batch.append((bls.decode_pubkey(job.group_pubkey), job.message, point))
            results.append(point.compress())
        except PartialSignatureError:
            results.append(PartialSignatureError(_blame(job)))
        except bls.BLSError as exc:
            results.append(PartialSignatureError([], f" (group public key: {exc})"))
    if bls.batch_verify_points(batch):
        return results
    for n, (job, result) in enumerate(zip(jobs, results, strict=True)):
        if isinstance(result, bytes) and not bls.verify(job.group_pubkey, job.message, result):
            results[n] = PartialSignatureError(_blame(job))
    return results
