"""Wire format: the fast codec equals the remerkleable SSZ containers, and bad bytes raise
MessageError only."""

from __future__ import annotations

import contextlib
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from qbft_harness import node_keys

from nektar.consensus.messages import (
    MAX_JUSTIFICATION,
    QBFT_DOMAIN,
    MessageError,
    MessageKind,
    Payload,
    QbftMessage,
    SignatureVerifier,
    SignedPayload,
    Signer,
    instance_id,
)
from nektar.consensus.schema import (
    InstanceKeySSZ,
    MessageSSZ,
    PayloadSSZ,
    SigningDataSSZ,
    to_ssz,
)

KEY = node_keys(1)[0]

uint64s = st.integers(0, 2**64 - 1)
payloads = st.builds(
    Payload,
    kind=st.sampled_from(MessageKind),
    instance=st.binary(min_size=32, max_size=32),
    round=uint64s,
    value_hash=st.binary(min_size=32, max_size=32),
    prepared_round=uint64s,
)
signed_payloads = st.builds(
    SignedPayload, payload=payloads, signature=st.binary(min_size=65, max_size=65)
)
justifications = st.lists(signed_payloads, max_size=4).map(tuple)
messages = st.builds(
    QbftMessage,
    signed=signed_payloads,
    value=st.binary(max_size=300),
    round_changes=justifications,
    prepares=justifications,
    commits=justifications,
)


@given(messages)
def test_codec_equals_remerkleable_and_round_trips(message: QbftMessage) -> None:
    data = message.encode()
    assert data == to_ssz(message).encode_bytes()
    assert QbftMessage.decode(data) == message
    p = message.payload
    reference = PayloadSSZ(
        kind=int(p.kind),
        instance=p.instance,
        round=p.round,
        value_hash=p.value_hash,
        prepared_round=p.prepared_round,
    )
    assert p.root() == reference.hash_tree_root()
    signing = SigningDataSSZ(object_root=p.root(), domain=QBFT_DOMAIN)
    assert p.signing_digest() == signing.hash_tree_root()


@given(st.integers(0, 255), uint64s, st.binary(min_size=32, max_size=32))
def test_instance_id_is_hash_tree_root_of_instance_key(
    duty: int, slot: int, cluster: bytes
) -> None:
    key = InstanceKeySSZ(duty_type=duty, slot=slot, cluster_id=cluster)
    assert instance_id(duty, slot, cluster) == key.hash_tree_root()


def test_instance_id_rejects_bad_keys() -> None:
    with pytest.raises(MessageError, match="instance key"):
        instance_id(256, 1, bytes(32))
    with pytest.raises(MessageError, match="instance key"):
        instance_id(1, 1, bytes(31))


@given(st.binary(max_size=600))
def test_fuzz_random_bytes_raise_only_message_error(data: bytes) -> None:
    try:
        decoded = QbftMessage.decode(data)
    except MessageError:
        return
    assert decoded.encode() == data  # anything accepted is canonical


@given(messages, st.data())
def test_fuzz_corrupted_encodings_raise_only_message_error(message: QbftMessage, data) -> None:
    raw = bytearray(message.encode())
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    with contextlib.suppress(MessageError):
        QbftMessage.decode(bytes(raw[:cut]))


def test_remerkleable_bytes_decode() -> None:
    signer = Signer(KEY)
    signed = signer.sign(Payload(MessageKind.PREPARE, bytes(32), 3, bytes(32)))
    message = QbftMessage(signed, b"value", prepares=(signed, signed))
    assert QbftMessage.decode(MessageSSZ.decode_bytes(message.encode()).encode_bytes()) == message


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda b: b[:100], "shorter"),
        (lambda b: b[:146] + (999).to_bytes(4, "little") + b[150:], "offsets"),
        (lambda b: bytes([9]) + b[1:], "unknown message kind"),
        (lambda b: b + b"\x01", "multiple"),
    ],
)
def test_malformed_messages_name_the_problem(mutate, reason: str) -> None:
    signed = Signer(KEY).sign(Payload(MessageKind.COMMIT, bytes(32), 1, bytes(32)))
    data = QbftMessage(signed, commits=(signed,)).encode()
    with pytest.raises(MessageError, match=reason):
        QbftMessage.decode(mutate(data))


def test_oversized_justification_is_refused() -> None:
    signed = Signer(KEY).sign(Payload(MessageKind.COMMIT, bytes(32), 1, bytes(32)))
    with pytest.raises(MessageError, match="at most"):
        QbftMessage(signed, commits=(signed,) * (MAX_JUSTIFICATION + 1)).encode()


def test_bad_field_sizes_are_typed_errors() -> None:
    with pytest.raises(MessageError, match="32 bytes"):
        Payload(MessageKind.COMMIT, bytes(31), 1)
    with pytest.raises(MessageError, match="uint64"):
        Payload(MessageKind.COMMIT, bytes(32), -1)
    with pytest.raises(MessageError, match="65 bytes"):
        SignedPayload(Payload(MessageKind.COMMIT, bytes(32), 1), b"\x00" * 64)


def test_signer_matches_node_key_and_verifier_recovers_address() -> None:
    payload = Payload(MessageKind.PREPARE, hashlib.sha256(b"i").digest(), 2, bytes(32))
    signed = Signer(KEY).sign(payload)
    assert signed.signature == KEY.sign_hash(payload.signing_digest())
    verifier = SignatureVerifier()
    assert verifier.signer(signed) == KEY.address
    assert verifier.signer(signed) == KEY.address
    assert verifier.recoveries == 1  # cached the second time
    forged = SignedPayload(
        Payload(MessageKind.PREPARE, payload.instance, 3, bytes(32)), signed.signature
    )
    assert verifier.signer(forged) != KEY.address
    garbage = SignedPayload(payload, b"\x00" * 64 + b"\x05")
    assert verifier.signer(garbage) is None


def test_verifier_cache_is_bounded() -> None:
    verifier = SignatureVerifier(capacity=4)
    signer = Signer(KEY)
    for r in range(10):
        verifier.signer(signer.sign(Payload(MessageKind.COMMIT, bytes(32), r, bytes(32))))
    assert len(verifier._cache) == 4
