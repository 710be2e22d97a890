"""BLS wrapper: reference vectors, cross-checks with py_ecc, rejection of bad points, batching."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from py_ecc.bls import G2ProofOfPossession as reference

from nektar.crypto import bls
from nektar.crypto.conformance.bls import run_cases

P = int(
    "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab",
    16,
)


def test_reference_vectors_all_pass(vectors_dir):
    results = list(run_cases(vectors_dir / "bls"))
    assert len(results) > 0
    assert [r for r in results if not r.ok] == []


def test_conformance_reports_a_wrong_expected_output(tmp_path):
    (tmp_path / "verify").mkdir()
    sk = 7
    case = (
        f"input:\n  pubkey: '0x{bls.sk_to_pk(sk).hex()}'\n  message: '0x{'00' * 32}'\n"
        f"  signature: '0x{bls.sign(sk, b'x').hex()}'\noutput: true\n"
    )
    (tmp_path / "verify" / "wrong.yaml").write_text(case)
    (tmp_path / "nosuch").mkdir()
    (tmp_path / "nosuch" / "a.yaml").write_text("input: 1\noutput: 1\n")
    results = {r.name: r for r in run_cases(tmp_path)}
    assert not results["verify/wrong.yaml"].ok
    assert "unknown BLS handler" in results["nosuch/a.yaml"].detail


def test_keygen_matches_py_ecc():
    ikm = bytes(range(32))
    assert bls.keygen(ikm) == reference.KeyGen(ikm)
    assert bls.keygen(ikm, b"info") == reference.KeyGen(ikm, b"info")
    with pytest.raises(bls.BLSError, match="at least 32 bytes"):
        bls.keygen(b"short")


def test_sign_and_pubkey_match_py_ecc():
    sk = bls.keygen(b"\x42" * 32)
    msg = b"\x11" * 32
    assert bls.sk_to_pk(sk) == reference.SkToPk(sk)
    assert bls.sign(sk, msg) == reference.Sign(sk, msg)


@pytest.mark.parametrize("sk", [0, -1, bls.CURVE_ORDER, "1"])
def test_bad_secret_keys_are_rejected(sk):
    with pytest.raises(bls.BLSError):
        bls.sign(sk, b"m")
    with pytest.raises(bls.BLSError):
        bls.sk_to_pk(sk)


def _non_subgroup_g1() -> bytes:
    """A point on E(Fp) outside the r-order subgroup (the cofactor of G1 is not 1)."""
    x = 1
    while pow((x**3 + 4) % P, (P - 1) // 2, P) != 1:
        x += 1
    encoded = bytearray(x.to_bytes(48, "big"))
    encoded[0] |= 0x80
    return bytes(encoded)


def test_key_validate_rejects_infinity_and_non_subgroup_points():
    assert not bls.key_validate(bls.INFINITY_PUBKEY)
    assert not bls.key_validate(_non_subgroup_g1())
    assert not bls.key_validate(b"\x00" * 48)
    assert bls.key_validate(bls.sk_to_pk(5))
    with pytest.raises(bls.BLSError, match="infinity"):
        bls.decode_pubkey(bls.INFINITY_PUBKEY)
    with pytest.raises(bls.BLSError, match="subgroup"):
        bls.decode_pubkey(_non_subgroup_g1())


def test_sign_verify_and_aggregates():
    sks = [3, 5, 11]
    pks = [bls.sk_to_pk(sk) for sk in sks]
    msg = b"same"
    sig = bls.aggregate([bls.sign(sk, msg) for sk in sks])
    assert bls.fast_aggregate_verify(pks, msg, sig)
    assert not bls.fast_aggregate_verify(pks[:2], msg, sig)
    assert bls.verify(bls.eth_aggregate_pubkeys(pks), msg, sig)
    msgs = [b"a", b"b", b"a"]
    sig2 = bls.aggregate([bls.sign(sk, m) for sk, m in zip(sks, msgs, strict=True)])
    assert bls.aggregate_verify(pks, msgs, sig2)
    assert not bls.aggregate_verify(pks, [b"a", b"b", b"c"], sig2)
    assert not bls.aggregate_verify(pks, msgs[:2], sig2)
    assert not bls.verify(pks[0], msg, b"\x01" * 96)
    with pytest.raises(bls.BLSError, match="empty"):
        bls.aggregate([])
    with pytest.raises(bls.BLSError, match="empty"):
        bls.eth_aggregate_pubkeys([])


def test_eth_fast_aggregate_verify_empty_set_with_infinity_signature():
    assert bls.eth_fast_aggregate_verify([], b"m", bls.INFINITY_SIGNATURE)
    assert not bls.fast_aggregate_verify([], b"m", bls.INFINITY_SIGNATURE)
    assert not bls.eth_fast_aggregate_verify([], b"m", bls.sign(1, b"m"))


def test_batch_verify_accepts_valid_and_rejects_any_bad_signature():
    triples = [
        (bls.sk_to_pk(sk), bytes([sk % 3]), bls.sign(sk, bytes([sk % 3]))) for sk in range(1, 9)
    ]
    assert bls.batch_verify(triples)
    assert bls.batch_verify([])
    swapped = list(triples)
    swapped[2], swapped[3] = (
        (triples[2][0], triples[2][1], triples[3][2]),
        (triples[3][0], triples[3][1], triples[2][2]),
    )
    # Two wrong signatures whose sum is right must not cancel out thanks to random weights.
    assert not bls.batch_verify(swapped)
    broken = [*triples[:-1], (triples[-1][0], triples[-1][1], b"\x00" * 96)]
    assert not bls.batch_verify(broken)


@settings(max_examples=200)
@given(st.binary(min_size=0, max_size=100))
def test_decoders_raise_only_bls_errors(data):
    for decode in (bls.decode_pubkey, bls.decode_signature):
        with contextlib.suppress(bls.BLSError):
            decode(data)
    assert bls.verify(data[:48], b"m", data) in (True, False)


@given(st.binary(min_size=96, max_size=96))
def test_random_signature_bytes_never_verify(data):
    assert not bls.verify(bls.sk_to_pk(9), b"m", data)


@settings(max_examples=20)
@given(st.lists(st.integers(0, 2**64), min_size=1, max_size=40))
def test_msm_matches_plain_multiplications(scalars):
    g1 = [bls.G1_GENERATOR.scalar_mul(k + 2) for k in range(len(scalars))]
    g2 = [bls.hash_to_g2(bytes([k])) for k in range(len(scalars))]
    assert bls.msm(g1, scalars) == bls.g1_lincomb(g1, scalars)
    assert bls.msm(g2, scalars) == bls.g2_lincomb(g2, scalars)
