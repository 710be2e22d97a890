"""Noise XX handshake bound to the node's secp256k1 identity, and the encrypted channel after it.

As in libp2p-noise, each side's Noise static key is fresh per process and is bound to the
long-lived node key by a signature carried in the (encrypted) handshake payload:
`sign(keccak256("nektar-noise-static-key:" ‖ noise_static_pubkey))`. The peer recovers the
secp256k1 public key from that signature, derives the 20-byte node address and accepts the
connection only when the caller's `authorize(address)` says so. XX gives mutual
authentication and hides both identities from passive observers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from eth_utils import keccak
from noise.connection import Keypair, NoiseConnection
from noise.exceptions import NoiseHandshakeError, NoiseInvalidMessage, NoiseValueError

from nektar.crypto.node_key import NodeKey, NodeKeyError, public_key_to_address, recover_public_key
from nektar.p2p.codec import HandshakePayload, decode_handshake_payload
from nektar.p2p.errors import CodecError, DropReason, FrameError, HandshakeError
from nektar.p2p.frame import FrameDecoder, encode_frame

NOISE_PROTOCOL = b"Noise_XX_25519_ChaChaPoly_SHA256"
PROLOGUE = b"nektar-p2p/1"
BINDING_PREFIX = b"nektar-noise-static-key:"
NOISE_MAX_MESSAGE = 65535
TAG_SIZE = 16
_CHUNK = NOISE_MAX_MESSAGE - TAG_SIZE
MAX_HANDSHAKE_FRAME = 1024
_NOISE_ERRORS = (InvalidTag, ValueError, NoiseValueError, NoiseInvalidMessage, NoiseHandshakeError)


def binding_digest(static_public: bytes) -> bytes:
    """The 32-byte digest a node signs to claim a Noise static public key."""
    return keccak(BINDING_PREFIX + static_public)


def sealed_size(plaintext_len: int) -> int:
    """Bytes on the wire for a plaintext of this length (one tag per 65,519-byte chunk)."""
    chunks = max(1, -(-plaintext_len // _CHUNK))
    return plaintext_len + chunks * TAG_SIZE


class SecureChannel:
    """The two Noise cipher states of an established session.

    A plaintext larger than one Noise message (65,535 bytes) is split into chunks that are
    encrypted in order and concatenated into one frame body; the receiver splits at the same
    boundaries, so large envelopes need no extra length fields.
    """

    def __init__(self, noise: NoiseConnection) -> None:
        self._noise = noise

    def seal(self, plaintext: bytes) -> bytes:
        if len(plaintext) <= _CHUNK:
            return self._noise.encrypt(plaintext)
        view = memoryview(plaintext)
        return b"".join(
            self._noise.encrypt(bytes(view[i : i + _CHUNK])) for i in range(0, len(view), _CHUNK)
        )

    def open(self, body: bytes) -> bytes:
        """Decrypt a frame body; a failure means the session is corrupt and must be closed."""
        try:
            if len(body) <= NOISE_MAX_MESSAGE:
                return self._noise.decrypt(body)
            return b"".join(
                self._noise.decrypt(body[i : i + NOISE_MAX_MESSAGE])
                for i in range(0, len(body), NOISE_MAX_MESSAGE)
            )
        except _NOISE_ERRORS as exc:
            raise HandshakeError(
                DropReason.UNAUTHENTICATED, f"frame failed authentication: {exc}"
            ) from exc


@dataclass(frozen=True)
class Session:
    """The outcome of a successful handshake."""

    channel: SecureChannel
    peer: bytes
    peer_boot_id: int
    decoder: FrameDecoder


class StaticKey:
    """A Noise static X25519 key pair and its binding signature by the node key."""

    def __init__(self, node_key: NodeKey) -> None:
        private = X25519PrivateKey.generate()
        self.private_bytes = private.private_bytes_raw()
        self.public_bytes = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.signature = node_key.sign_hash(binding_digest(self.public_bytes))


def _peer_address(static_public: bytes, payload: bytes) -> tuple[bytes, int]:
    try:
        hello = decode_handshake_payload(payload)
        public_key = recover_public_key(binding_digest(static_public), hello.signature)
    except (CodecError, NodeKeyError) as exc:
        raise HandshakeError(DropReason.UNAUTHENTICATED, f"bad identity proof: {exc}") from exc
    return public_key_to_address(public_key), hello.boot_id


async def _read_frame(reader: asyncio.StreamReader, decoder: FrameDecoder) -> bytes:
    """One handshake frame; bytes after it stay buffered in the decoder for the session."""
    try:
        while (body := decoder.pop()) is None:
            data = await reader.read(4096)
            if not data:
                raise ConnectionResetError("connection closed during handshake")
            decoder.push(data)
    except FrameError as exc:
        raise HandshakeError(exc.reason, str(exc)) from exc
    return body


async def handshake(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    static: StaticKey,
    boot_id: int,
    *,
    initiator: bool,
    authorize: Callable[[bytes], bool],
) -> Session:
    """Run Noise XX over the stream and authenticate the peer's node address.

    Raises `HandshakeError` (with the drop reason) on any failure; the caller closes the socket
    and applies its own timeout. Bytes that follow the last handshake frame stay in the
    returned decoder.
    """
    noise = NoiseConnection.from_name(NOISE_PROTOCOL)
    noise.set_prologue(PROLOGUE)
    noise.set_keypair_from_private_bytes(Keypair.STATIC, static.private_bytes)
    if initiator:
        noise.set_as_initiator()
    else:
        noise.set_as_responder()
    noise.start_handshake()
    state = noise.noise_protocol.handshake_state  # kept: noise drops it once the handshake ends
    hello = HandshakePayload(boot_id=boot_id, signature=static.signature).encode()
    decoder = FrameDecoder(MAX_HANDSHAKE_FRAME)

    async def receive() -> bytes:
        body = await _read_frame(reader, decoder)
        try:
            return bytes(noise.read_message(body))
        except _NOISE_ERRORS as exc:
            raise HandshakeError(DropReason.MALFORMED, f"bad handshake message: {exc}") from exc

    if initiator:
        writer.write(encode_frame(bytes(noise.write_message())))  # -> e
        payload = await receive()  # <- e, ee, s, es
        peer, peer_boot = _peer_address(state.rs.public_bytes, payload)
        if not authorize(peer):
            raise HandshakeError(DropReason.UNAUTHENTICATED, f"peer {peer.hex()} not allowed")
        writer.write(encode_frame(bytes(noise.write_message(hello))))  # -> s, se
    else:
        await receive()  # <- e
        writer.write(encode_frame(bytes(noise.write_message(hello))))  # -> e, ee, s, es
        payload = await receive()  # <- s, se
        peer, peer_boot = _peer_address(state.rs.public_bytes, payload)
        if not authorize(peer):
            raise HandshakeError(DropReason.UNAUTHENTICATED, f"peer {peer.hex()} not allowed")
    await writer.drain()
    if not noise.handshake_finished:
        raise HandshakeError(DropReason.MALFORMED, "handshake did not complete")
    return Session(SecureChannel(noise), peer, peer_boot, decoder)
