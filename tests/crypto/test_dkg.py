"""DKG: honest and faulty ceremonies, agreement, exclusion of bad dealers, message parsing."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nektar.crypto import bls, dkg, threshold
from nektar.crypto.dkg import DKG, Deal, DKGMessageError, Justification, Phase, Review

SESSION = dkg.session_id(7, b"\x11" * 20, 1337)
MSG = b"\x42" * 32
BEHAVIOURS = ("absent", "garbage", "bad_share", "bad_reveal", "equivocate")


def _t(n: int) -> int:
    return -(-2 * n // 3)


def _tamper(faulty: dict[int, str], victims: Iterable[int]):
    """An intercept making members misbehave. Victims are the honest members they target."""
    targets = set(victims)

    def intercept(sender: int, recipient: int, data: bytes) -> bytes | None:
        behaviour = faulty.get(sender)
        if behaviour is None:
            return data
        if behaviour == "absent":
            return None
        if behaviour == "garbage":
            return secrets.token_bytes(len(data))
        message = dkg.decode(data)
        if isinstance(message, Deal) and recipient in targets:
            if behaviour in ("bad_share", "bad_reveal"):
                shares = tuple((s + 1) % bls.CURVE_ORDER for s in message.shares)
                return dkg.encode(dataclasses.replace(message, shares=shares))
            if behaviour == "equivocate":
                polys = [threshold.random_polynomial(5, message.header.threshold)]
                polys *= message.header.batch
                commitments = tuple(tuple(threshold.feldman_commitments(p)) for p in polys)
                shares = tuple(threshold.eval_polynomial(p, recipient) for p in polys)
                return dkg.encode(Deal(message.header, commitments, shares))
        if isinstance(message, Justification):
            if behaviour == "bad_reveal":
                reveals = tuple((j, tuple(s ^ 1 for s in sh)) for j, sh in message.reveals)
                return dkg.encode(dataclasses.replace(message, reveals=reveals))
            return None  # the other cheats never justify
        return data

    return intercept


def _run(n: int, faulty: dict[int, str], batch: int = 1, victims: Iterable[int] | None = None):
    t = _t(n)
    members = {
        i: DKG(SESSION, i, n, t, batch) for i in range(1, n + 1) if faulty.get(i) != "absent"
    }
    honest = [i for i in range(1, n + 1) if i not in faulty]
    dkg.run_in_memory(members, _tamper(faulty, honest if victims is None else victims))
    return t, {i: members[i] for i in honest}


def _check_agreement_and_keys(n: int, t: int, honest: dict[int, DKG], excluded: set[int]):
    outcomes = [m.outcome for m in honest.values()]
    assert all(o is not None for o in outcomes), {i: m.failure for i, m in honest.items()}
    first = outcomes[0]
    assert set(first.qualified) == set(range(1, n + 1)) - excluded
    assert set(honest) <= set(first.qualified)
    for o in outcomes:
        assert o.transcript_hash == first.transcript_hash
        assert o.qualified == first.qualified
        assert [k.group_pubkey for k in o.keys] == [k.group_pubkey for k in first.keys]
        assert [k.public_shares for k in o.keys] == [k.public_shares for k in first.keys]
    for v, key in enumerate(first.keys):
        for i, member in honest.items():
            share = member.outcome.keys[v].secret_share
            assert bls.sk_to_pk(share) == key.public_shares[i]
        signers = sorted(honest)[:t]
        partials = {
            i: threshold.partial_sign(honest[i].outcome.keys[v].secret_share, MSG) for i in signers
        }
        job = threshold.PartialSet(MSG, key.group_pubkey, key.public_shares, partials)
        assert bls.verify(key.group_pubkey, MSG, threshold.combine_and_verify(job, t))


@pytest.mark.parametrize("n", [4, 7, 10, 13, 16])
def test_honest_ceremony_gives_working_threshold_keys(n):
    t, honest = _run(n, {})
    _check_agreement_and_keys(n, t, honest, set())


@pytest.mark.parametrize("n", [4, 7, 10, 13, 16])
def test_ceremony_survives_n_minus_t_faulty_members(n):
    t = _t(n)
    faulty = {i: BEHAVIOURS[k % len(BEHAVIOURS)] for k, i in enumerate(range(t + 1, n + 1))}
    _, honest = _run(n, faulty)
    _check_agreement_and_keys(n, t, honest, set(faulty))
    for m in honest.values():
        assert set(m.disqualified) == set(faulty)


@settings(max_examples=8)
@given(st.sampled_from([4, 7]), st.data())
def test_any_mix_of_faults_up_to_n_minus_t(n, data):
    t = _t(n)
    culprits = data.draw(st.lists(st.integers(1, n), unique=True, max_size=n - t))
    faulty = {i: data.draw(st.sampled_from(BEHAVIOURS)) for i in culprits}
    _, honest = _run(n, faulty)
    _check_agreement_and_keys(n, t, honest, set(faulty))


@settings(max_examples=15)
@given(st.data())
def test_random_well_formed_messages_from_a_member_never_break_the_others(data):
    """Member 4 replaces each message by an arbitrary well-formed one (the same bytes to every
    recipient of a broadcast): honest members 1..3 still agree and get working keys."""
    n, t = 4, 3
    replaced: dict[bytes, bytes] = {}

    def intercept(sender: int, recipient: int, raw: bytes) -> bytes:
        if sender != 4:
            return raw
        if raw not in replaced:
            forged = data.draw(messages(batch=1, t=t))
            header = dataclasses.replace(
                forged.header,
                session_id=SESSION,
                sender=4,
                recipient=dkg.decode(raw).header.recipient,
            )
            replaced[raw] = dkg.encode(dataclasses.replace(forged, header=header))
        return replaced[raw]

    members = {i: DKG(SESSION, i, n, t) for i in range(1, n + 1)}
    dkg.run_in_memory(members, intercept)
    honest = {i: members[i] for i in (1, 2, 3)}
    outcomes = [m.outcome for m in honest.values()]
    assert all(o is not None for o in outcomes), {i: m.failure for i, m in honest.items()}
    excluded = set(range(1, n + 1)) - set(outcomes[0].qualified)
    assert excluded <= {4}
    _check_agreement_and_keys(n, t, honest, excluded)


def test_bad_share_answered_by_a_valid_reveal_keeps_the_dealer():
    n, t = 4, 3
    members = {i: DKG(SESSION, i, n, t) for i in range(1, n + 1)}

    def intercept(sender: int, recipient: int, data: bytes) -> bytes:
        message = dkg.decode(data)
        if sender == 2 and recipient == 3 and isinstance(message, Deal):
            return dkg.encode(dataclasses.replace(message, shares=(1,)))
        return data

    dkg.run_in_memory(members, intercept)
    _check_agreement_and_keys(n, t, members, set())
    assert members[3].outcome.keys[0].secret_share  # adopted the publicly revealed share


def test_batch_ceremony_gives_independent_keys():
    n, t = 4, 3
    _, honest = _run(n, {4: "bad_share"}, batch=3)
    _check_agreement_and_keys(n, t, honest, {4})
    keys = honest[1].outcome.keys
    assert len({k.group_pubkey for k in keys}) == 3


def test_too_many_faults_fail_cleanly():
    _, honest = _run(4, {3: "absent", 4: "garbage"})
    for m in honest.values():
        assert m.phase == Phase.FAILED and m.outcome is None
        assert "only 2 qualified dealers" in m.failure


def test_no_member_holds_the_group_secret():
    _, honest = _run(4, {})
    shares = {i: m.outcome.keys[0].secret_share for i, m in honest.items()}
    group_secret = threshold.recover_secret({i: shares[i] for i in (1, 2, 3)})
    assert bls.sk_to_pk(group_secret) == honest[1].outcome.keys[0].group_pubkey
    for member in honest.values():
        held = {member.outcome.keys[0].secret_share, *member._polynomials[0]}
        assert group_secret not in held


def test_phases_and_readiness():
    n, t = 4, 3
    members = {i: DKG(SESSION, i, n, t) for i in range(1, n + 1)}
    deals = {i: m.start() for i, m in members.items()}
    assert not members[1].ready
    for sender, messages in deals.items():
        for message in messages:
            members[message.header.recipient].receive(sender, dkg.encode(message))
    assert all(m.ready for m in members.values())
    reviews = {i: m.advance() for i, m in members.items()}
    for sender, (review,) in reviews.items():
        for j in members:
            if j != sender:
                members[j].receive(sender, dkg.encode(review))
    assert all(m.ready and m.phase == Phase.REVIEW for m in members.values())
    assert all(m.advance() == [] for m in members.values())  # nobody objected: no justification
    assert all(m.ready for m in members.values())
    for m in members.values():
        m.advance()
    assert len({m.outcome.transcript_hash for m in members.values()}) == 1


def test_receive_rejects_foreign_and_forged_messages():
    a, b = DKG(SESSION, 1, 4, 3), DKG(SESSION, 2, 4, 3)
    deal = next(m for m in a.start() if m.header.recipient == 2)
    data = dkg.encode(deal)
    with pytest.raises(DKGMessageError, match="claims sender 1 but came from 3"):
        b.receive(3, data)
    with pytest.raises(DKGMessageError, match="another DKG session"):
        DKG(b"\x00" * 32, 2, 4, 3).receive(1, data)
    with pytest.raises(DKGMessageError, match="another batch size or threshold"):
        DKG(SESSION, 2, 4, 2).receive(1, data)
    with pytest.raises(DKGMessageError, match="addressed to 2"):
        DKG(SESSION, 3, 4, 3).receive(1, data)
    assert b.receive(1, data) == []


scalars = st.integers(0, bls.CURVE_ORDER - 1)


@st.composite
def messages(draw, batch: int | None = None, t: int | None = None):
    batch = draw(st.integers(1, 3)) if batch is None else batch
    t = draw(st.integers(1, 4)) if t is None else t
    header = dkg.Header(
        draw(st.binary(min_size=32, max_size=32)),
        draw(st.integers(1, dkg.MAX_MEMBERS)),
        draw(st.integers(0, dkg.MAX_MEMBERS)),
        batch,
        t,
    )
    point = st.one_of(
        st.binary(min_size=48, max_size=48),
        st.integers(1, 20).map(bls.sk_to_pk),
        st.just(bls.INFINITY_PUBKEY),
    )
    commitments = tuple(tuple(draw(point) for _ in range(t)) for _ in range(batch))
    kind = draw(st.sampled_from(dkg.Kind))
    if kind == dkg.Kind.DEAL:
        return Deal(header, commitments, tuple(draw(scalars) for _ in range(batch)))
    if kind == dkg.Kind.REVIEW:
        entry = st.builds(
            dkg.ReviewEntry,
            st.integers(0, 8),
            st.sampled_from(dkg.Status),
            st.binary(min_size=32, max_size=32),
        )
        return Review(header, tuple(draw(st.lists(entry, max_size=5))))
    reveal = st.tuples(st.integers(0, 8), st.tuples(*[scalars] * batch))
    return Justification(header, commitments, tuple(draw(st.lists(reveal, max_size=4))))


@given(messages())
def test_messages_round_trip(message):
    assert dkg.decode(dkg.encode(message)) == message


@settings(max_examples=300)
@given(st.binary(max_size=400))
def test_random_bytes_raise_only_dkg_message_errors(data):
    try:
        dkg.decode(data)
    except DKGMessageError as exc:
        assert str(exc)


@given(messages(), st.data())
def test_truncated_or_extended_messages_are_rejected(message, data):
    encoded = dkg.encode(message)
    cut = data.draw(st.integers(0, len(encoded) - 1))
    with pytest.raises(DKGMessageError):
        dkg.decode(encoded[:cut])
    with pytest.raises(DKGMessageError, match="trailing"):
        dkg.decode(encoded + b"\x00")


def test_invalid_parameters_are_rejected():
    with pytest.raises(dkg.DKGError, match="32 bytes"):
        DKG(b"short", 1, 4, 3)
    with pytest.raises(dkg.DKGError, match=r"outside 1\.\.4"):
        DKG(SESSION, 5, 4, 3)
    with pytest.raises(threshold.ThresholdError):
        DKG(SESSION, 1, 4, 5)
    bad = bytearray(dkg.encode(DKG(SESSION, 1, 4, 3).start()[0]))
    bad[0] = 9
    with pytest.raises(DKGMessageError, match="version 9"):
        dkg.decode(bytes(bad))
