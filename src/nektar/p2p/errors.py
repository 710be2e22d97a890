"""Typed errors of the transport, and the reasons a received frame can be dropped."""

from __future__ import annotations

from enum import StrEnum


class DropReason(StrEnum):
    """Why an inbound frame or connection attempt was discarded (a label of the drop counter)."""

    MALFORMED = "malformed"
    OVERSIZED = "oversized"
    UNAUTHENTICATED = "unauthenticated"
    REPLAYED = "replayed"
    RATE_LIMITED = "rate_limited"
    UNKNOWN_PROTOCOL = "unknown_protocol"
    UNSOLICITED = "unsolicited"


class P2PError(Exception):
    """Base class of every error the transport raises."""


class FrameError(P2PError, ValueError):
    """A wire frame that cannot be accepted; the byte stream cannot be resynchronised after it."""

    def __init__(self, reason: DropReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class CodecError(P2PError, ValueError):
    """A decrypted message that is not a well-formed envelope (or envelope field)."""


class HandshakeError(P2PError):
    """The Noise handshake failed or the peer's identity was not accepted."""

    def __init__(self, reason: DropReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class PeerUnavailableError(P2PError):
    """No authenticated connection to the peer exists right now."""


class RequestTimeoutError(P2PError, TimeoutError):
    """The peer did not answer a request within its timeout."""


class RemoteError(P2PError):
    """The peer's handler failed (or had no handler) and answered with an error."""


class MessageTooLargeError(P2PError, ValueError):
    """An outbound message would exceed the negotiated maximum frame size."""
