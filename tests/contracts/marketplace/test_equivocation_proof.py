"""The equivocation proof of contracts/marketplace/bls.vy, through BlsHarness.vy.

`verify_two` checks the aggregate e(pk, H(a) + H(b)) = e(g1, σa + σb) (no random linear
combination, docs/restaking-marketplace.md "Equivocation proofs"): it must accept exactly when
the submitted pair sums to sk·(H(a) + H(b)), which nobody can produce without the key
holder's signatures on both messages, and reject points outside G2.
"""

from __future__ import annotations

import boa
import pytest
from py_ecc.bls.g2_primitives import signature_to_G2
from py_ecc.bls.hash_to_curve import map_to_curve_G2
from py_ecc.optimized_bls12_381 import (
    FQ2,
    add,
    b2,
    curve_order,
    is_inf,
    is_on_curve,
    multiply,
    neg,
    normalize,
)

from nektar.chain.restaking import g1_uncompressed
from nektar.crypto import bls

from .conftest import ROOT

SK = bls.keygen(b"\x07" * 32)
TASK = b"\x0b" * 32
A, B, C = TASK + b"vote: yes", TASK + b"vote: no", TASK + b"vote: abstain"


@pytest.fixture(scope="module")
def harness():
    return boa.load(ROOT / "tests" / "contracts" / "marketplace" / "BlsHarness.vy")


def _g2(point) -> bytes:
    """Any G2-curve point (subgroup or not) in EIP-2537's 256-byte encoding."""
    if is_inf(point):
        return bytes(256)
    x, y = normalize(point)
    return b"".join(int(c).to_bytes(64, "big") for c in (*x.coeffs, *y.coeffs))


def _sig(message: bytes):
    return signature_to_G2(bls.sign(SK, message))


def test_proof_needs_signatures_on_both_messages(harness):
    """Valid signatures on A and on a third message C of the same task prove nothing about B."""
    pk = g1_uncompressed(bls.sk_to_pk(SK))
    assert not harness.verify_two(pk, A, _g2(_sig(A)), B, _g2(_sig(C)))


def test_proof_is_the_aggregate(harness):
    """Any split of sk·(H(A) + H(B)) is accepted: it carries the same knowledge (both
    signatures), so the contract does not spend two G2MSM on checking each one alone."""
    pk = g1_uncompressed(bls.sk_to_pk(SK))
    shift = multiply(_sig(C), 12345)  # any point of G2
    split_a, split_b = add(_sig(A), shift), add(_sig(B), neg(shift))
    assert harness.verify_two(pk, A, _g2(split_a), B, _g2(split_b))


def test_points_outside_g2_are_malformed(harness):
    """On the curve but outside the order-r subgroup: the pairing's subgroup check rejects it."""
    pk = g1_uncompressed(bls.sk_to_pk(SK))
    stray = map_to_curve_G2(FQ2([5, 7]))  # SSWU output before cofactor clearing
    assert is_on_curve(stray, b2) and not is_inf(multiply(stray, curve_order))
    with boa.reverts("malformed BLS point"):
        harness.verify_two(pk, A, _g2(stray), B, _g2(_sig(B)))
    off_curve = bytearray(_g2(_sig(A)))
    off_curve[255] ^= 1
    with boa.reverts("malformed BLS point"):
        harness.verify_two(pk, A, bytes(off_curve), B, _g2(_sig(B)))
