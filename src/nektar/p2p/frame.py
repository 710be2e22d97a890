"""Wire framing: a version byte and a 4-byte big-endian length before every frame body.

Each frame carries one Noise message (handshake) or one encrypted envelope (transport). The
length is checked against a bound *before* any body byte is buffered, so a peer cannot make the
node allocate more than `max_body` bytes per connection.
"""

from __future__ import annotations

import struct

from nektar.p2p.errors import DropReason, FrameError

FRAME_VERSION = 1
_HEADER = struct.Struct(">BI")
HEADER_SIZE = _HEADER.size


def encode_frame(body: bytes) -> bytes:
    """Prefix `body` with the frame header."""
    return _HEADER.pack(FRAME_VERSION, len(body)) + body


class FrameDecoder:
    """Incremental decoder for a byte stream of frames.

    After a `FrameError` the decoder refuses further input: a stream with a bad header cannot be
    resynchronised, so the connection must be closed.
    """

    def __init__(self, max_body: int) -> None:
        if max_body < 1:
            raise ValueError("max_body must be positive")
        self.max_body = max_body
        self._buffer = bytearray()
        self._failed: FrameError | None = None

    def push(self, data: bytes) -> None:
        """Append received bytes without parsing them."""
        self._buffer += data

    def pop(self) -> bytes | None:
        """The next complete frame body, or None when more bytes are needed."""
        if self._failed is not None:
            raise self._failed
        if len(self._buffer) < HEADER_SIZE:
            return None
        version, length = _HEADER.unpack_from(self._buffer)
        if version != FRAME_VERSION:
            self._failed = FrameError(DropReason.MALFORMED, f"unsupported frame version {version}")
            raise self._failed
        if length > self.max_body:
            self._failed = FrameError(
                DropReason.OVERSIZED, f"frame of {length} bytes exceeds {self.max_body}"
            )
            raise self._failed
        end = HEADER_SIZE + length
        if len(self._buffer) < end:
            return None
        body = bytes(self._buffer[HEADER_SIZE:end])
        del self._buffer[:end]
        return body

    def feed(self, data: bytes) -> list[bytes]:
        """Append received bytes and return every complete frame body now available."""
        self.push(data)
        bodies: list[bytes] = []
        while (body := self.pop()) is not None:
            bodies.append(body)
        return bodies
