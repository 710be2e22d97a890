"""One authenticated, encrypted connection to a peer: sequencing, replay check and I/O."""

from __future__ import annotations

import asyncio
import time
from collections import deque
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
        link_delay: float = 0.0,
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
        self._link_delay = link_delay
        self._delayed: deque[tuple[float, bytes]] = deque()
        self._flusher: asyncio.Task[None] | None = None
        self._after_flush: Callable[[], None] | None = None

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
        if self._link_delay > 0:
            self._delayed.append((time.monotonic() + self._link_delay, frame))
            if self._flusher is None:
                self._flusher = asyncio.ensure_future(self._flush_delayed())
        else:
            self.writer.write(frame)
        return len(frame)

    async def _flush_delayed(self) -> None:
        """Emulated link latency (`HostConfig.link_delay`): each frame leaves `link_delay`
        seconds after it was sent, in order."""
        while self._delayed:
            due, frame = self._delayed[0]
            if (wait := due - time.monotonic()) > 0:
                await asyncio.sleep(wait)
            self._delayed.popleft()
            if self.writer.is_closing():
                self._delayed.clear()
            else:
                self.writer.write(frame)
        self._flusher = None
        if self._after_flush is not None:
            self._after_flush()

    def _when_flushed(self, action: Callable[[], None]) -> None:
        if self._flusher is None:
            action()
        else:
            self._after_flush = action

    def start_ping(self, request_id: int) -> None:
        """Remember when ping `request_id` left (wall clock, monotonic)."""
        if len(self._pings) >= _MAX_OUTSTANDING_PINGS:
            self._pings.pop(next(iter(self._pings)))
        self._pings[request_id] = (self._clock(), time.monotonic_ns())

    def finish_ping(self, request_id: int) -> tuple[int, int] | None:
        return self._pings.pop(request_id, None)

    def close(self) -> None:
        """Close after flushing what is already queued."""
        self._when_flushed(self.writer.close)
        self.closed.set()

    def abort(self) -> None:
        """Close at once, discarding anything unsent."""
        if self._flusher is not None:
            self._flusher.cancel()
        self.writer.transport.abort()
        self.closed.set()

    def retire(self) -> None:
        """Graceful close of a duplicate connection: send nothing more, half-close, and let
        the reader drain what the peer already sent until it closes its side too."""
        self.retiring = True
        if self.writer.can_write_eof() and not self.writer.is_closing():
            self._when_flushed(self.writer.write_eof)
