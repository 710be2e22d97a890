"""Threshold BLS: any t of n recover the group signature, t−1 are useless, bad partials named."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nektar.crypto import bls, threshold
from nektar.crypto.threshold import PartialSet, PartialSignatureError, ThresholdError

R = bls.CURVE_ORDER
MSG = b"\x5a" * 32


def _cluster(t: int, n: int, secret: int | None = None):
    secret = secret if secret is not None else bls.keygen(bytes([t, n]) * 16)
    coefficients, shares = threshold.split(secret, t, n)
    commitments = threshold.feldman_commitments(coefficients)
    public = {i: threshold.public_share(commitments, i) for i in shares}
    return secret, shares, commitments, public


@st.composite
def clusters_and_subsets(draw):
    n = draw(st.integers(1, 7))
    t = draw(st.integers(1, n))
    first = draw(st.permutations(range(1, n + 1)))[:t]
    second = draw(st.permutations(range(1, n + 1)))[:t]
    secret = draw(st.integers(1, R - 1))
    return t, n, secret, sorted(first), sorted(second)


@settings(max_examples=25)
@given(clusters_and_subsets())
def test_any_t_of_n_give_the_same_verifying_signature(case):
    t, n, secret, first, second = case
    _, shares, commitments, public = _cluster(t, n, secret)
    group_pk = threshold.group_pubkey(commitments)
    assert group_pk == bls.sk_to_pk(secret)
    partials = {i: threshold.partial_sign(shares[i], MSG) for i in set(first) | set(second)}
    sig_a = threshold.combine({i: partials[i] for i in first}, t)
    sig_b = threshold.combine({i: partials[i] for i in second}, t)
    assert sig_a == sig_b == bls.sign(secret, MSG)
    job = PartialSet(MSG, group_pk, public, {i: partials[i] for i in first})
    assert threshold.combine_and_verify(job, t) == sig_a
    assert threshold.recover_group_pubkey({i: public[i] for i in second}) == group_pk


@settings(max_examples=50)
@given(st.integers(2, 7).flatmap(lambda n: st.tuples(st.just(n), st.integers(2, n))), st.data())
def test_t_minus_one_shares_fit_every_candidate_secret(params, data):
    """Information-theoretic hiding: t−1 shares are consistent with any secret whatsoever."""
    n, t = params
    _, shares = threshold.split(data.draw(st.integers(0, R - 1)), t, n)
    known = dict(list(shares.items())[: t - 1])
    candidate = data.draw(st.integers(0, R - 1))
    # The unique degree-(t−1) polynomial through (0, candidate) and the known shares...
    points = {0: candidate, **known}
    xs = list(points)

    def interpolate(x: int) -> int:
        total = 0
        for i in xs:
            num, den = 1, 1
            for j in xs:
                if j != i:
                    num, den = num * (x - j) % R, den * (i - j) % R
            total += points[i] * num * pow(den, -1, R)
        return total % R

    # ...exists and reproduces them: the shares single out no secret.
    assert all(interpolate(i) == s for i, s in known.items())
    assert interpolate(0) == candidate


def test_t_minus_one_partials_give_nothing_usable():
    t, n = 3, 4
    secret, shares, commitments, _ = _cluster(t, n)
    partials = {i: threshold.partial_sign(shares[i], MSG) for i in (1, 2)}
    with pytest.raises(ThresholdError, match="need 3 partial signatures"):
        threshold.combine(partials, t)
    forged = threshold.combine(partials, t - 1)
    assert not bls.verify(threshold.group_pubkey(commitments), MSG, forged)
    assert forged != bls.sign(secret, MSG)


@settings(max_examples=20)
@given(st.integers(4, 7), st.data())
def test_a_wrong_partial_is_detected_and_named(n, data):
    t = -(-2 * n // 3)
    _, shares, commitments, public = _cluster(t, n)
    signers = sorted(data.draw(st.permutations(range(1, n + 1)))[:t])
    liar = data.draw(st.sampled_from(signers))
    partials = {i: threshold.partial_sign(shares[i], MSG) for i in signers}
    kind = data.draw(st.sampled_from(["other message", "other key", "garbage"]))
    if kind == "other message":
        partials[liar] = threshold.partial_sign(shares[liar], b"other")
    elif kind == "other key":
        partials[liar] = threshold.partial_sign((shares[liar] + 1) % R, MSG)
    else:
        partials[liar] = b"\x13" * 96
    job = PartialSet(MSG, threshold.group_pubkey(commitments), public, partials)
    with pytest.raises(PartialSignatureError) as error:
        threshold.combine_and_verify(job, t)
    assert error.value.bad_indices == (liar,)
    assert f"member(s) {liar}" in str(error.value)


def test_combine_many_batches_and_isolates_failures():
    t, n = 3, 4
    _, shares, commitments, public = _cluster(t, n)
    group_pk = threshold.group_pubkey(commitments)
    jobs = []
    for k in range(4):
        msg = bytes([k]) * 32
        partials = {i: threshold.partial_sign(shares[i], msg) for i in (1, 3, 4)}
        jobs.append(PartialSet(msg, group_pk, public, partials))
    results = threshold.combine_and_verify_many(jobs, t)
    assert all(bls.verify(group_pk, j.message, r) for j, r in zip(jobs, results, strict=True))
    bad = dict(jobs[2].partials)
    bad[3] = jobs[1].partials[3]
    jobs[2] = PartialSet(jobs[2].message, group_pk, public, bad)
    results = threshold.combine_and_verify_many(jobs, t)
    assert isinstance(results[2], PartialSignatureError) and results[2].bad_indices == (3,)
    assert all(isinstance(results[k], bytes) for k in (0, 1, 3))


def test_feldman_share_verification():
    t, n = 3, 5
    _, shares, commitments, public = _cluster(t, n)
    for i, share in shares.items():
        assert threshold.verify_share(commitments, i, share)
        assert public[i] == bls.sk_to_pk(share)
        assert not threshold.verify_share(commitments, i, (share + 1) % R)
    assert threshold.recover_secret({i: shares[i] for i in (2, 4, 5)}) == threshold.recover_secret(
        {i: shares[i] for i in (1, 2, 3)}
    )
    assert not threshold.verify_share([b"\x00" * 48] * 3, 1, 5)


def test_indices_and_parameters_are_validated():
    with pytest.raises(ThresholdError, match="duplicate"):
        threshold.lagrange_coefficients((1, 2, 2))
    with pytest.raises(ThresholdError, match="not an integer"):
        threshold.lagrange_coefficients((0, 1))
    with pytest.raises(ThresholdError, match="not an integer"):
        threshold.combine({-1: b"", 2: b""}, 2)
    with pytest.raises(ThresholdError, match="1 ≤ t ≤ n"):
        threshold.split(5, 5, 4)
    with pytest.raises(ThresholdError, match="commitment 0"):
        threshold.public_share([bls.INFINITY_PUBKEY], 1)


@settings(max_examples=30)
@given(st.lists(st.integers(1, 2**40), min_size=1, max_size=11, unique=True))
def test_integer_and_field_lagrange_agree(indices):
    indices = tuple(sorted(indices))
    weights = threshold.lagrange_coefficients(indices)
    small = threshold.integer_lagrange(indices)
    if small is not None:
        denominator, integers = small
        assert all(
            (k - denominator * weights[i]) % R == 0 for i, k in zip(indices, integers, strict=True)
        )
    secret = 0x1234567
    coefficients = threshold.random_polynomial(secret, len(indices))
    partials = {
        i: threshold.partial_sign(threshold.eval_polynomial(coefficients, i), MSG) for i in indices
    }
    assert threshold.combine(partials, len(indices)) == bls.sign(secret, MSG)
