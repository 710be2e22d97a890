"""Frame decoder and envelope codec: SSZ layout, bounds, and only typed errors on junk."""
# no `from __future__ import annotations`: remerkleable reads the field types at class creation

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from remerkleable.basic import uint8, uint64
from remerkleable.byte_arrays import ByteList, ByteVector
from remerkleable.complex import Container

from nektar.p2p.codec import (
    MAX_PAYLOAD,
    Envelope,
    HandshakePayload,
    Kind,
    decode_envelope,
    decode_handshake_payload,
    decode_pong,
    encode_pong,
)
from nektar.p2p.errors import CodecError, DropReason, FrameError
from nektar.p2p.frame import FrameDecoder, encode_frame


class SszEnvelope(Container):
    """The normative SSZ definition the hand-written codec must match byte for byte."""

    version: uint8
    kind: uint8
    request_id: uint64
    sequence: uint64
    timestamp_ns: uint64
    protocol_id: ByteList[64]
    payload: ByteList[MAX_PAYLOAD]


class SszHandshakePayload(Container):
    version: uint8
    boot_id: uint64
    signature: ByteVector[65]


protocol_ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9/._-]{0,63}", fullmatch=True)
envelopes = st.builds(
    Envelope,
    kind=st.sampled_from(Kind),
    request_id=st.integers(0, 2**64 - 1),
    sequence=st.integers(0, 2**64 - 1),
    timestamp_ns=st.integers(0, 2**64 - 1),
    protocol_id=protocol_ids,
    payload=st.binary(max_size=300),
)


@given(envelopes)
def test_envelope_matches_remerkleable_and_round_trips(env: Envelope) -> None:
    data = env.encode()
    reference = SszEnvelope(
        version=env.version,
        kind=int(env.kind),
        request_id=env.request_id,
        sequence=env.sequence,
        timestamp_ns=env.timestamp_ns,
        protocol_id=env.protocol_id.encode(),
        payload=env.payload,
    )
    assert data == reference.encode_bytes()
    assert decode_envelope(data) == env


@given(st.binary(max_size=200))
def test_envelope_decoder_raises_only_codec_error(data: bytes) -> None:
    try:
        env = decode_envelope(data)
    except CodecError:
        return
    assert env.encode() == data  # whatever is accepted is canonical


@given(envelopes, st.integers(0, 200), st.integers(0, 255))
def test_envelope_mutations_raise_only_codec_error(env: Envelope, pos: int, value: int) -> None:
    data = bytearray(env.encode())
    data[pos % len(data)] = value
    with contextlib.suppress(CodecError):
        decode_envelope(bytes(data))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: b"\x02" + d[1:], "version"),
        (lambda d: d[:1] + b"\x09" + d[2:], "kind"),
        (lambda d: d[:26] + (35).to_bytes(4, "little") + d[30:], "first offset"),
        (lambda d: d[:30] + (9999).to_bytes(4, "little") + d[34:], "payload offset"),
        (lambda d: d[:20], "shorter"),
    ],
)
def test_envelope_defects_are_named(mutate, message: str) -> None:
    data = Envelope(Kind.SEND, 0, 1, 2, "qbft/1", b"abc").encode()
    with pytest.raises(CodecError, match=message):
        decode_envelope(mutate(data))


@pytest.mark.parametrize("pid", ["", "/leading", "has space", "ü", "x" * 65])
def test_bad_protocol_ids_are_refused(pid: str) -> None:
    if pid == "":
        return  # empty is legal for control messages (ping/pong)
    with pytest.raises(CodecError, match="protocol id"):
        Envelope(Kind.SEND, 0, 1, 2, pid, b"").encode()


def test_field_out_of_range_is_refused() -> None:
    with pytest.raises(CodecError, match="out of range"):
        Envelope(Kind.SEND, 2**64, 1, 2, "a", b"").encode()


@given(st.integers(0, 2**64 - 1), st.binary(min_size=65, max_size=65))
def test_handshake_payload_matches_remerkleable(boot_id: int, sig: bytes) -> None:
    data = HandshakePayload(boot_id, sig).encode()
    ref = SszHandshakePayload(version=1, boot_id=boot_id, signature=sig)
    assert data == ref.encode_bytes()
    assert decode_handshake_payload(data) == HandshakePayload(boot_id, sig)


@given(st.binary(max_size=100))
def test_small_decoders_raise_only_codec_error(data: bytes) -> None:
    for decode in (decode_handshake_payload, decode_pong):
        with contextlib.suppress(CodecError):
            decode(data)


def test_pong_round_trip() -> None:
    assert decode_pong(encode_pong(123456789)) == 123456789


@given(st.lists(st.binary(max_size=100), max_size=8), st.lists(st.integers(1, 50)))
def test_frames_survive_any_split(bodies: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(encode_frame(b) for b in bodies)
    decoder = FrameDecoder(max_body=100)
    out, pos = [], 0
    for cut in [*cuts, len(stream)]:
        out += decoder.feed(stream[pos : pos + cut])
        pos += cut
    out += decoder.feed(stream[pos:])
    assert out == bodies


@given(st.binary(max_size=300), st.integers(1, 64))
def test_frame_decoder_raises_only_frame_error(data: bytes, max_body: int) -> None:
    decoder = FrameDecoder(max_body=max_body)
    try:
        for body in decoder.feed(data):
            assert len(body) <= max_body
    except FrameError as exc:
        assert exc.reason in (DropReason.MALFORMED, DropReason.OVERSIZED)
        with pytest.raises(FrameError):  # a broken stream stays broken
            decoder.feed(b"")


def test_oversized_length_is_refused_before_buffering() -> None:
    decoder = FrameDecoder(max_body=1024)
    with pytest.raises(FrameError, match="exceeds") as info:
        decoder.feed(b"\x01\xff\xff\xff\xff")
    assert info.value.reason is DropReason.OVERSIZED


def test_wrong_frame_version_is_malformed() -> None:
    with pytest.raises(FrameError, match="version") as info:
        FrameDecoder(max_body=10).feed(b"\x07\x00\x00\x00\x01x")
    assert info.value.reason is DropReason.MALFORMED
