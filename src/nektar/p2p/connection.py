"""One authenticated, encrypted connection to a peer: sequencing, replay check and I/O."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from nektar.p2p.codec import Envelope, Kind
from nektar.p2p.errors import PeerUnavailableError
from nektar.p2p.frame import encode_frame
from nektar.p2p.secure import Session

_MAX_OUTSTANDING_PINGS = 16


class Connection:
    """State of one session. Sequence numbers start at 1 and grow by one per envelope sent;
    the receiver accepts only strictly increasing ones, so a replayed or duplicated
    application message inside a session is dropped even though Noise nonces already stop
    replays at the cipher layer."""

    def __init__(
        self,
        session: Session,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        initiator: bool,
        clock: Callable[[], int],
    ) -> None:
        self.peer = session.peer
        self.peer_boot_id = session.peer_boot_id
        self.channel = session.channel
        self.decoder = session.decoder
        self.reader = reader
        self.writer = writer
        self.initiator = initiator
        self.retiring = False
        self.closed = asyncio.Event()
        self.last_received = time.monotonic()
        self._clock = clock
        self._next_sequence = 1
        self._last_sequence_in = 0
        self._pings: dict[int, tuple[int, int]] = {}

    def accept_sequence(self, sequence: int) -> bool:
        """True (and remember it) when `sequence` is newer than every one seen so far."""
        if sequence <= self._last_sequence_in:
            return False
        self._last_sequence_in = sequence
        self.last_received = time.monotonic()
        return True

    def encode(self, kind: Kind, protocol_id: str, request_id: int, payload: bytes) -> bytes:
        """The envelope's SSZ bytes, numbered with this session's next sequence number."""
        envelope = Envelope(
            kind=kind,
            request_id=request_id,
            sequence=self._next_sequence,
            timestamp_ns=self._clock(),
            protocol_id=protocol_id,
            payload=payload,
        )
        data = envelope.encode()
        self._next_sequence += 1
        return data

    def write(self, plaintext: bytes) -> int:
        """Encrypt and queue one envelope; returns the bytes written. Encryption and write
        happen without a suspension point so that Noise nonces match the stream order."""
        if self.writer.is_closing():
            raise PeerUnavailableError(f"connection to {self.peer.hex()} is closing")
        frame = encode_frame(self.channel.seal(plaintext))
        self.writer.write(frame)
        return len(frame)

    def start_ping(self, request_id: int) -> None:
        """Remember when ping `request_id` left (wall clock, monotonic)."""
        if len(self._pings) >= _MAX_OUTSTANDING_PINGS:
            self._pings.pop(next(iter(self._pings)))
        self._pings[request_id] = (self._clock(), time.monotonic_ns())

    def finish_ping(self, request_id: int) -> tuple[int, int] | None:
        return self._pings.pop(request_id, None)

    def close(self) -> None:
        """Close after flushing what is already queued."""
        self.writer.close()
        self.closed.set()

    def abort(self) -> None:
        """Close at once, discarding anything unsent."""
        self.writer.transport.abort()
        self.closed.set()

    def retire(self) -> None:
        """Graceful close of a duplicate connection: send nothing more, half-close, and let
        the reader drain what the peer already sent until it closes its side too."""
        self.retiring = True
        if self.writer.can_write_eof() and not self.writer.is_closing():
            self.writer.write_eof()
