"""Authenticated peer links between cluster members (DESIGN.md §2).

`Host` is the whole public surface most code needs; see docs/p2p.md.
"""

from nektar.p2p.errors import (
    CodecError,
    DropReason,
    FrameError,
    HandshakeError,
    MessageTooLargeError,
    P2PError,
    PeerUnavailableError,
    RemoteError,
    RequestTimeoutError,
)
from nektar.p2p.host import Handler, Host, HostConfig
from nektar.p2p.stats import Stats

__all__ = [
    "CodecError",
    "DropReason",
    "FrameError",
    "Handler",
    "HandshakeError",
    "Host",
    "HostConfig",
    "MessageTooLargeError",
    "P2PError",
    "PeerUnavailableError",
    "RemoteError",
    "RequestTimeoutError",
    "Stats",
]
