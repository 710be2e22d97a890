"""Typed messages carried inside the encrypted channel, in SSZ layout.

`Envelope` is the SSZ container

    class Envelope(Container):
        version: uint8
        kind: uint8
        request_id: uint64
        sequence: uint64
        timestamp_ns: uint64
        protocol_id: ByteList[64]
        payload: ByteList[MAX_PAYLOAD]

encoded here with `struct` rather than through remerkleable's tree types, which cost ~0.5 ms
per message; the tests check byte equality with the remerkleable definition. The fixed-size
handshake payload and pong body are SSZ containers of basic types in the same way.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache

from nektar.p2p.errors import CodecError

ENVELOPE_VERSION = 1
MAX_PROTOCOL_ID = 64
MAX_PAYLOAD = 1 << 24
_PROTOCOL_ID = re.compile(rb"[A-Za-z0-9][A-Za-z0-9/._-]{0,63}")

# version, kind, request_id, sequence, timestamp_ns, offset(protocol_id), offset(payload)
_ENVELOPE_FIXED = struct.Struct("<BBQQQII")


class Kind(IntEnum):
    """What an envelope is for; the request id ties REQUEST, RESPONSE and ERROR together."""

    SEND = 0
    REQUEST = 1
    RESPONSE = 2
    ERROR = 3
    PING = 4
    PONG = 5


@lru_cache(maxsize=1024)
def check_protocol_id(protocol_id: str) -> bytes:
    """ASCII bytes of a protocol id; ids are 1-64 chars of [A-Za-z0-9/._-], e.g. "qbft/1"."""
    raw = protocol_id.encode("ascii", errors="replace")
    if not _PROTOCOL_ID.fullmatch(raw):
        raise CodecError(f"invalid protocol id {protocol_id!r}: 1-64 chars of [A-Za-z0-9/._-]")
    return raw


@dataclass(frozen=True, slots=True)
class Envelope:
    """One application or control message, as the peer sent it."""

    kind: Kind
    request_id: int
    sequence: int
    timestamp_ns: int
    protocol_id: str
    payload: bytes
    version: int = ENVELOPE_VERSION

    def encode(self) -> bytes:
        """SSZ bytes of the envelope; raises `CodecError` for out-of-range fields."""
        pid = check_protocol_id(self.protocol_id) if self.protocol_id else b""
        if len(self.payload) > MAX_PAYLOAD:
            raise CodecError(f"payload of {len(self.payload)} bytes exceeds {MAX_PAYLOAD}")
        try:
            fixed = _ENVELOPE_FIXED.pack(
                self.version,
                self.kind,
                self.request_id,
                self.sequence,
                self.timestamp_ns,
                _ENVELOPE_FIXED.size,
                _ENVELOPE_FIXED.size + len(pid),
            )
        except struct.error as exc:
            raise CodecError(f"envelope field out of range: {exc}") from exc
        return fixed + pid + self.payload


def envelope_size(protocol_id: str, payload_len: int) -> int:
    """Encoded size of an envelope, to check limits before numbering it."""
    return _ENVELOPE_FIXED.size + len(protocol_id) + payload_len


def decode_envelope(data: bytes) -> Envelope:
    """Parse SSZ bytes into an `Envelope`; any defect raises `CodecError`."""
    if len(data) < _ENVELOPE_FIXED.size:
        raise CodecError(f"envelope of {len(data)} bytes is shorter than its fixed part")
    version, kind, request_id, sequence, timestamp_ns, off_pid, off_payload = (
        _ENVELOPE_FIXED.unpack_from(data)
    )
    if version != ENVELOPE_VERSION:
        raise CodecError(f"unsupported envelope version {version}")
    try:
        kind = Kind(kind)
    except ValueError:
        raise CodecError(f"unknown envelope kind {kind}") from None
    if off_pid != _ENVELOPE_FIXED.size:
        raise CodecError(f"first offset {off_pid} is not the fixed size {_ENVELOPE_FIXED.size}")
    if not off_pid <= off_payload <= len(data):
        raise CodecError(f"payload offset {off_payload} out of range")
    if off_payload - off_pid > MAX_PROTOCOL_ID:
        raise CodecError("protocol id longer than 64 bytes")
    if len(data) - off_payload > MAX_PAYLOAD:
        raise CodecError("payload longer than the maximum")
    raw_pid = bytes(data[off_pid:off_payload])
    if raw_pid and not _PROTOCOL_ID.fullmatch(raw_pid):
        raise CodecError(f"invalid protocol id {raw_pid!r}")
    return Envelope(
        kind=kind,
        request_id=request_id,
        sequence=sequence,
        timestamp_ns=timestamp_ns,
        protocol_id=raw_pid.decode("ascii"),
        payload=bytes(data[off_payload:]),
        version=version,
    )


# SSZ container HandshakePayload { version: uint8, boot_id: uint64, signature: Bytes65 }
_HANDSHAKE = struct.Struct("<BQ65s")
HANDSHAKE_VERSION = 1


@dataclass(frozen=True, slots=True)
class HandshakePayload:
    """What each side sends inside the Noise handshake to bind its static key to its node key.

    `boot_id` (the sender's start time in ns) lets both sides prefer the connection to the
    newest incarnation of a restarted peer when deduplicating connections.
    """

    boot_id: int
    signature: bytes

    def encode(self) -> bytes:
        if len(self.signature) != 65:
            raise CodecError("handshake signature must be 65 bytes")
        return _HANDSHAKE.pack(HANDSHAKE_VERSION, self.boot_id, self.signature)


def decode_handshake_payload(data: bytes) -> HandshakePayload:
    """Parse the handshake payload; any defect raises `CodecError`."""
    if len(data) != _HANDSHAKE.size:
        raise CodecError(f"handshake payload is {len(data)} bytes, expected {_HANDSHAKE.size}")
    version, boot_id, signature = _HANDSHAKE.unpack(data)
    if version != HANDSHAKE_VERSION:
        raise CodecError(f"unsupported handshake version {version}")
    return HandshakePayload(boot_id=boot_id, signature=signature)


# SSZ container Pong { received_ns: uint64 }: when the ping arrived, on the responder's clock.
_PONG = struct.Struct("<Q")


def encode_pong(received_ns: int) -> bytes:
    return _PONG.pack(received_ns)


def decode_pong(data: bytes) -> int:
    """The responder's receive timestamp of a ping; raises `CodecError` when malformed."""
    if len(data) != _PONG.size:
        raise CodecError(f"pong body is {len(data)} bytes, expected {_PONG.size}")
    return _PONG.unpack(data)[0]
