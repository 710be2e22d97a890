"""Hostile input over raw loopback sockets: dropped, counted, and the node keeps serving."""

from __future__ import annotations

import asyncio

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from nektar.crypto.node_key import NodeKey
from nektar.p2p import DropReason, Host, HostConfig, PeerUnavailableError
from nektar.p2p.codec import Envelope, Kind, decode_envelope
from nektar.p2p.errors import HandshakeError
from nektar.p2p.frame import encode_frame
from nektar.p2p.secure import Session, StaticKey, handshake

CONFIG = HostConfig(ping_interval=0.05, backoff_initial=0.01, handshake_timeout=1.0)


async def echo(peer: bytes, payload: bytes) -> bytes:
    return payload


class Cluster:
    """A host under attack plus one honest peer that must keep working throughout."""

    def __init__(self, config: HostConfig = CONFIG) -> None:
        self.keys = [NodeKey.generate() for _ in range(3)]  # target, honest, allowed "raw" peer
        allowed = [k.address for k in self.keys]
        self.target = Host(self.keys[0], allowed=allowed, config=config)
        self.honest = Host(self.keys[1], allowed=allowed, config=CONFIG)

    async def __aenter__(self) -> Cluster:
        await self.target.start()
        await self.honest.start()
        self.target.register("echo/1", echo)
        self.honest.set_peer_address(self.target.address, *self.target.listen_address)
        await self.honest.wait_for_peers([self.target.address], timeout=5)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.honest.stop()
        await self.target.stop()

    async def honest_still_served(self) -> None:
        reply = await self.honest.request(self.target.address, "echo/1", b"ok", timeout=2)
        assert reply == b"ok"

    async def raw(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(*self.target.listen_address)


async def closed_by_peer(reader: asyncio.StreamReader) -> bool:
    async with asyncio.timeout(3):
        try:
            while await reader.read(4096):
                pass
        except ConnectionError:
            pass
    return True


@pytest.mark.parametrize(
    ("junk", "reason"),
    [
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", DropReason.MALFORMED),
        (b"\x01\xff\xff\xff\xff" + bytes(range(64)), DropReason.OVERSIZED),
        (encode_frame(bytes(range(31))), DropReason.MALFORMED),  # too short for a Noise "e"
    ],
    ids=["http", "oversized-length", "short-noise-message"],
)
async def test_garbage_before_handshake(junk: bytes, reason: DropReason) -> None:
    async with Cluster() as c:
        reader, writer = await c.raw()
        writer.write(junk)
        assert await closed_by_peer(reader)
        writer.close()
        assert c.target.stats.dropped[reason] == 1
        assert c.target.stats.handshakes_failed == 1
        await c.honest_still_served()


async def _raw_handshake(
    c: Cluster, static: StaticKey
) -> tuple[Session, asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await c.raw()
    session = await handshake(
        reader, writer, static, 1, initiator=True, authorize=lambda peer: True
    )
    return session, reader, writer


async def test_key_not_in_allow_list_is_refused() -> None:
    async with Cluster() as c:
        _, reader, writer = await _raw_handshake(c, StaticKey(NodeKey.generate()))
        assert await closed_by_peer(reader)
        writer.close()
        assert c.target.stats.dropped[DropReason.UNAUTHENTICATED] == 1
        await c.honest_still_served()


async def test_binding_signature_of_another_static_key_is_refused() -> None:
    """An attacker who copied an allowed node's binding signature cannot reuse it."""
    async with Cluster() as c:
        stolen = StaticKey(c.keys[2])
        stolen.private_bytes = X25519PrivateKey.generate().private_bytes_raw()
        _, reader, writer = await _raw_handshake(c, stolen)
        assert await closed_by_peer(reader)
        writer.close()
        assert c.target.stats.dropped[DropReason.UNAUTHENTICATED] == 1
        await c.honest_still_served()


async def test_silent_client_times_out() -> None:
    async with Cluster() as c:
        reader, writer = await c.raw()
        assert await closed_by_peer(reader)  # handshake_timeout = 1 s
        writer.close()
        assert c.target.stats.handshakes_failed == 1
        await c.honest_still_served()


def _envelope(seq: int, kind: Kind = Kind.REQUEST, payload: bytes = b"p") -> bytes:
    return Envelope(kind, seq, seq, 0, "echo/1", payload).encode()


async def _responses(session: Session, reader: asyncio.StreamReader, count: int) -> list[int]:
    """Request ids of the next `count` RESPONSE envelopes (pings are skipped)."""
    ids: list[int] = []
    async with asyncio.timeout(3):
        while len(ids) < count:
            while (body := session.decoder.pop()) is not None:
                env = decode_envelope(session.channel.open(body))
                if env.kind is Kind.RESPONSE:
                    ids.append(env.request_id)
            if len(ids) < count:
                session.decoder.push(await reader.read(65536))
    return ids


async def test_replayed_and_malformed_envelopes_are_dropped_connection_survives() -> None:
    async with Cluster() as c:
        session, reader, writer = await _raw_handshake(c, StaticKey(c.keys[2]))
        session.decoder.max_body = 1 << 20
        seal = session.channel.seal
        writer.write(encode_frame(seal(_envelope(5))))
        writer.write(encode_frame(seal(_envelope(5))))  # replayed sequence number
        writer.write(encode_frame(seal(_envelope(3))))  # older sequence number
        writer.write(encode_frame(seal(b"\x01\x00junk")))  # authentic but not an envelope
        writer.write(encode_frame(seal(_envelope(6, Kind.RESPONSE))))  # nobody asked
        writer.write(encode_frame(seal(_envelope(7))))
        assert await _responses(session, reader, 2) == [5, 7]
        stats = c.target.stats.dropped
        assert stats[DropReason.REPLAYED] == 2
        assert stats[DropReason.MALFORMED] == 1
        assert stats[DropReason.UNSOLICITED] == 1
        # a tampered ciphertext breaks the session: counted and the connection is closed
        frame = bytearray(encode_frame(seal(_envelope(8))))
        frame[-1] ^= 1
        writer.write(bytes(frame))
        assert await closed_by_peer(reader)
        writer.close()
        assert stats[DropReason.UNAUTHENTICATED] == 1
        await c.honest_still_served()


async def test_oversized_frame_after_handshake_closes_cleanly() -> None:
    async with Cluster() as c:
        _, reader, writer = await _raw_handshake(c, StaticKey(c.keys[2]))
        writer.write(b"\x01" + (CONFIG.max_frame_size + 1).to_bytes(4, "big"))
        assert await closed_by_peer(reader)
        writer.close()
        assert c.target.stats.dropped[DropReason.OVERSIZED] == 1
        await c.honest_still_served()


async def test_peer_that_stops_reading_is_disconnected() -> None:
    async with Cluster(HostConfig(ping_interval=0.05, send_timeout=0.3)) as c:
        _, _reader, writer = await _raw_handshake(c, StaticKey(c.keys[2]))
        await c.target.wait_for_peers([c.keys[2].address], timeout=2)
        with pytest.raises(PeerUnavailableError, match="stopped reading"):
            for _ in range(200):  # never read: kernel buffers fill, then drain() stalls
                await c.target.send(c.keys[2].address, "echo/1", bytes(500_000))
        async with asyncio.timeout(2):
            while c.target.is_connected(c.keys[2].address):
                await asyncio.sleep(0.01)
        writer.close()
        await c.honest_still_served()


async def test_initiator_refuses_responder_not_in_allow_list() -> None:
    intruder = Host(NodeKey.generate(), allowed=[], config=CONFIG)
    dialer_key = NodeKey.generate()
    dialer = Host(dialer_key, allowed=[intruder.address], config=CONFIG)
    async with intruder, dialer:
        reader, writer = await asyncio.open_connection(*intruder.listen_address)
        with pytest.raises(HandshakeError, match="not allowed"):
            await handshake(
                reader,
                writer,
                StaticKey(dialer_key),
                1,
                initiator=True,
                authorize=lambda peer: peer == b"\x00" * 20,
            )
        writer.close()


FINAL = 2**63
_kinds = st.sampled_from(Kind)
_frames = st.lists(
    st.one_of(
        st.binary(max_size=80),  # authentic ciphertext of arbitrary plaintext
        st.builds(
            lambda kind, seq, rid, pid, payload: Envelope(kind, rid, seq, 0, pid, payload).encode(),
            _kinds,
            st.integers(0, 40),
            st.integers(0, 5),
            st.sampled_from(["echo/1", "nobody/1", ""]),
            st.binary(max_size=40),
        ),
    ),
    max_size=25,
)


async def _fuzz_session(plaintexts: list[bytes]) -> None:
    keys = [NodeKey.generate(), NodeKey.generate()]
    target = Host(keys[0], allowed=[keys[1].address], config=CONFIG)
    target.register("echo/1", echo)
    async with target:
        reader, writer = await asyncio.open_connection(*target.listen_address)
        session = await handshake(
            reader, writer, StaticKey(keys[1]), 1, initiator=True, authorize=lambda p: True
        )
        session.decoder.max_body = 1 << 20
        for plaintext in [
            *plaintexts,
            Envelope(Kind.REQUEST, FINAL, FINAL, 0, "echo/1", b"!").encode(),
        ]:
            writer.write(encode_frame(session.channel.seal(plaintext)))
        async with asyncio.timeout(3):
            answered = False
            while not answered:
                session.decoder.push(await reader.read(65536))
                while (body := session.decoder.pop()) is not None:
                    env = decode_envelope(session.channel.open(body))
                    answered |= env.kind is Kind.RESPONSE and env.request_id == FINAL
        assert target.stats.frames_received == len(plaintexts) + 1
        assert target.is_connected(keys[1].address)
        writer.close()


@given(_frames)
def test_fuzz_authenticated_stream_never_breaks_the_host(plaintexts: list[bytes]) -> None:
    """Any sequence of authentic frames (junk, replays, stray responses, pings, unknown
    protocols) is handled or dropped; the session survives and still answers a request."""
    asyncio.run(_fuzz_session(plaintexts))
