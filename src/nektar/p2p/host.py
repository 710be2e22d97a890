"""`Host`: the cluster network used by the DKG engine and the duty workflow.

A host listens on TCP, dials every allowed peer whose address it knows, keeps one
authenticated connection per peer, and carries opaque payloads per protocol id: one-way
`send`, `broadcast` to the cluster and `request`/response. See docs/p2p.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import count

from prometheus_client import CollectorRegistry

from nektar.crypto.node_key import NodeKey
from nektar.p2p.clock import PeerClock, ntp_sample
from nektar.p2p.codec import (
    Envelope,
    Kind,
    check_protocol_id,
    decode_envelope,
    decode_pong,
    encode_pong,
    envelope_size,
)
from nektar.p2p.connection import Connection
from nektar.p2p.errors import (
    CodecError,
    DropReason,
    FrameError,
    HandshakeError,
    MessageTooLargeError,
    PeerUnavailableError,
    RemoteError,
    RequestTimeoutError,
)
from nektar.p2p.ratelimit import TokenBucket
from nektar.p2p.secure import StaticKey, handshake, sealed_size
from nektar.p2p.stats import Stats

log = logging.getLogger("nektar.p2p")

Handler = Callable[[bytes, bytes], Awaitable[bytes | None]]
"""`async handler(peer_address, payload) -> reply`; the reply is used only for requests."""

_READ_CHUNK = 1 << 16
_MAX_ERROR_TEXT = 256


@dataclass(frozen=True)
class HostConfig:
    """Tunables; the defaults suit a cluster on a LAN or the internet."""

    max_frame_size: int = 1 << 20
    handshake_timeout: float = 5.0
    max_pending_handshakes: int = 64
    ping_interval: float = 1.0
    idle_timeout: float = 5.0
    rate_limit: float = 10_000.0
    rate_burst: float = 20_000.0
    backoff_initial: float = 0.05
    backoff_max: float = 5.0
    stable_after: float = 2.0
    request_timeout: float = 5.0
    send_timeout: float = 10.0
    """A peer that accepts no bytes for this long (full TCP buffers) is disconnected."""
    retire_timeout: float = 2.0
    link_delay: float = 0.0
    """Seconds added to every outbound frame: emulates WAN latency in tests and benchmarks."""


class Host:
    """One node's endpoint in its clusters' network, identified by its node key's address.

    Peers are 20-byte node addresses. Only addresses in the allow-list (`set_allowed`) may
    connect or be dialled; the node fills it from the chain's cluster definitions and may
    change it at any time (removed peers are disconnected). `set_peer_address` tells the host
    where to dial a peer; both sides dial and simultaneous connections are reduced to one.
    """

    def __init__(
        self,
        node_key: NodeKey,
        *,
        allowed: Iterable[bytes] = (),
        peer_addresses: Mapping[bytes, tuple[str, int]] | None = None,
        listen_host: str = "127.0.0.1",
        listen_port: int = 0,
        config: HostConfig | None = None,
        clock: Callable[[], int] = time.time_ns,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.node_key = node_key
        self.address = node_key.address
        self.config = config or HostConfig()
        self.stats = Stats(registry)
        self._clock = clock
        self._listen = (listen_host, listen_port)
        self._allowed: frozenset[bytes] = frozenset(allowed) - {self.address}
        self._addresses: dict[bytes, tuple[str, int]] = dict(peer_addresses or {})
        self._handlers: dict[str, Handler] = {}
        self._conns: dict[bytes, Connection] = {}
        self._clocks: dict[bytes, PeerClock] = {}
        self._buckets: dict[bytes, TokenBucket] = {}
        self._pending: dict[int, tuple[bytes, asyncio.Future[bytes]]] = {}
        self._request_ids = count(1)
        self._dialers: dict[bytes, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._handshaking = 0
        self._server: asyncio.Server | None = None
        self._static: StaticKey | None = None
        self._boot_id = 0
        self._state_changed = asyncio.Event()

    # ----------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        """Listen and start dialling the known allowed peers."""
        if self._server is not None:
            raise RuntimeError("host already started")
        self._static = StaticKey(self.node_key)
        self._boot_id = time.time_ns()
        self._server = await asyncio.start_server(self._on_inbound, *self._listen)
        self._sync_dialers()

    async def stop(self) -> None:
        """Close every connection and task; pending requests fail with PeerUnavailableError."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        dialers = list(self._dialers.values())
        self._dialers.clear()
        for task in dialers:
            task.cancel()
        await asyncio.gather(*dialers, return_exceptions=True)
        for conn in list(self._conns.values()):
            conn.abort()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for _, future in self._pending.values():
            if not future.done():
                future.set_exception(PeerUnavailableError("host stopped"))
        self._pending.clear()
        await server.wait_closed()

    async def __aenter__(self) -> Host:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def listen_address(self) -> tuple[str, int]:
        """(host, port) actually bound; the port is known only after `start`."""
        if self._server is None:
            raise RuntimeError("host not started")
        return self._server.sockets[0].getsockname()[:2]

    # ----------------------------------------------------------------- membership
    @property
    def allowed(self) -> frozenset[bytes]:
        return self._allowed

    def set_allowed(self, addresses: Iterable[bytes]) -> None:
        """Replace the allow-list; connections to peers no longer in it are closed."""
        self._allowed = frozenset(addresses) - {self.address}
        for peer, conn in list(self._conns.items()):
            if peer not in self._allowed:
                conn.abort()
        self._sync_dialers()

    def set_peer_address(self, peer: bytes, host: str, port: int) -> None:
        """Where to dial `peer`; a new address makes a disconnected peer's dialer retry now."""
        changed = self._addresses.get(peer) != (host, port)
        self._addresses[peer] = (host, port)
        if changed and peer not in self._conns and peer in self._dialers:
            self._dialers.pop(peer).cancel()
        self._sync_dialers()

    def peers(self) -> list[bytes]:
        """Addresses of the peers connected now."""
        return sorted(self._conns)

    def is_connected(self, peer: bytes) -> bool:
        return peer in self._conns

    async def wait_for_peers(
        self, peers: Iterable[bytes] | None = None, timeout: float = 10.0
    ) -> None:
        """Wait until every given peer (default: the allow-list) is connected."""
        wanted = set(self._allowed if peers is None else peers)
        async with asyncio.timeout(timeout):
            while not wanted <= self._conns.keys():
                await self._state_changed.wait()

    def rtt(self, peer: bytes) -> float | None:
        """Median round-trip time to `peer` in seconds, None before the first pong."""
        clock = self._clocks.get(peer)
        return clock.rtt if clock else None

    def clock_offset(self, peer: bytes) -> float | None:
        """How far `peer`'s wall clock is ahead of ours, in seconds (NTP-style estimate)."""
        clock = self._clocks.get(peer)
        return clock.offset if clock else None

    # ----------------------------------------------------------------- messaging
    def register(self, protocol_id: str, handler: Handler) -> None:
        """Route messages and requests of `protocol_id` to `handler` (replaces an old one)."""
        check_protocol_id(protocol_id)
        self._handlers[protocol_id] = handler

    def unregister(self, protocol_id: str) -> None:
        """Stop handling `protocol_id`; later messages for it count as unknown_protocol."""
        self._handlers.pop(protocol_id, None)

    async def send(self, peer: bytes, protocol_id: str, payload: bytes) -> None:
        """Deliver `payload` to `peer`'s handler for `protocol_id` (no reply, no retry).

        Raises PeerUnavailableError when not connected and MessageTooLargeError when the
        message exceeds the maximum frame size.
        """
        check_protocol_id(protocol_id)
        await self._send(peer, Kind.SEND, protocol_id, 0, payload)

    async def broadcast(
        self, protocol_id: str, payload: bytes, peers: Iterable[bytes] | None = None
    ) -> list[bytes]:
        """Send to every connected peer of `peers` (default: the allow-list), never to self.

        Returns the peers the message was handed to; unconnected ones are skipped, since
        cluster protocols tolerate f missing members and retransmit on their own terms.
        """
        check_protocol_id(protocol_id)
        targets = sorted(set(self._allowed if peers is None else peers) - {self.address})
        results = await asyncio.gather(
            *(self._send(p, Kind.SEND, protocol_id, 0, payload) for p in targets),
            return_exceptions=True,
        )
        reached = []
        for peer, result in zip(targets, results, strict=True):
            if isinstance(result, MessageTooLargeError):
                raise result
            if isinstance(result, BaseException):
                log.debug("broadcast to %s skipped: %s", peer.hex(), result)
            else:
                reached.append(peer)
        return reached

    async def request(
        self, peer: bytes, protocol_id: str, payload: bytes, timeout: float | None = None
    ) -> bytes:
        """Ask `peer`'s handler for `protocol_id` and return its reply.

        Raises RequestTimeoutError, RemoteError (the handler failed or is missing) or
        PeerUnavailableError.
        """
        check_protocol_id(protocol_id)
        request_id = next(self._request_ids)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = (peer, future)
        try:
            await self._send(peer, Kind.REQUEST, protocol_id, request_id, payload)
            async with asyncio.timeout(timeout or self.config.request_timeout):
                return await future
        except TimeoutError:
            raise RequestTimeoutError(
                f"{protocol_id} request {request_id} to {peer.hex()} timed out"
            ) from None
        finally:
            self._pending.pop(request_id, None)

    async def _send(
        self, peer: bytes, kind: Kind, protocol_id: str, request_id: int, payload: bytes
    ) -> None:
        conn = self._conns.get(peer)
        if conn is None:
            raise PeerUnavailableError(f"not connected to {peer.hex()}")
        self._write(conn, kind, protocol_id, request_id, payload)
        if not conn.writer.transport.get_write_buffer_size():
            return  # all handed to the kernel: drain() would not wait, skip its timer
        try:
            async with asyncio.timeout(self.config.send_timeout):
                await conn.writer.drain()
        except ConnectionError as exc:
            raise PeerUnavailableError(f"connection to {peer.hex()} lost: {exc}") from exc
        except TimeoutError:
            conn.abort()
            raise PeerUnavailableError(f"{peer.hex()} stopped reading; disconnected") from None

    def _write(
        self, conn: Connection, kind: Kind, protocol_id: str, request_id: int, payload: bytes
    ) -> None:
        if sealed_size(envelope_size(protocol_id, len(payload))) > self.config.max_frame_size:
            raise MessageTooLargeError(
                f"message of {len(payload)} bytes exceeds the {self.config.max_frame_size}-byte"
                " frame limit"
            )
        written = conn.write(conn.encode(kind, protocol_id, request_id, payload))
        self.stats.count("frames_sent")
        self.stats.count("bytes_sent", written)

    # ----------------------------------------------------------------- connections
    def _spawn(self, coro: Awaitable[None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _notify(self) -> None:
        self._state_changed.set()
        self._state_changed = asyncio.Event()

    def _sync_dialers(self) -> None:
        if self._server is None:
            return
        for peer in list(self._dialers):
            if peer not in self._allowed:
                self._dialers.pop(peer).cancel()
        for peer in self._allowed:
            if peer in self._addresses and peer not in self._dialers:
                self._dialers[peer] = asyncio.ensure_future(self._dial_loop(peer))

    def _backoff(self, failures: int) -> float:
        """Exponential backoff with "equal jitter": a random delay in [d/2, d]."""
        delay = min(self.config.backoff_max, self.config.backoff_initial * 2 ** (failures - 1))
        return random.uniform(delay / 2, delay)

    async def _dial_loop(self, peer: bytes) -> None:
        failures = 0
        while True:
            conn = self._conns.get(peer)
            if conn is None:
                try:
                    await self._dial(peer)
                except (OSError, TimeoutError, HandshakeError) as exc:
                    self.stats.count("dials_failed")
                    log.debug("dial %s failed: %s", peer.hex(), exc)
                conn = self._conns.get(peer)
            if conn is None:
                failures += 1
                await asyncio.sleep(self._backoff(failures))
                continue
            since = time.monotonic()
            await conn.closed.wait()
            if time.monotonic() - since >= self.config.stable_after:
                failures = 0
            elif self._conns.get(peer) in (None, conn):
                # Lost quickly, or closed but not yet detached by its reader: back off (and
                # yield) rather than wait again on an event that is already set, which spins.
                failures += 1
                await asyncio.sleep(self._backoff(failures))

    async def _dial(self, peer: bytes) -> None:
        host, port = self._addresses[peer]
        async with asyncio.timeout(self.config.handshake_timeout):
            reader, writer = await asyncio.open_connection(host, port)
        try:
            await self._secure(reader, writer, initiator=True, expected=peer)
        except BaseException:
            writer.transport.abort()
            raise

    async def _on_inbound(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if self._handshaking >= self.config.max_pending_handshakes:
            self.stats.drop(DropReason.RATE_LIMITED)
            writer.transport.abort()
            return
        try:
            await self._secure(reader, writer, initiator=False, expected=None)
        except (HandshakeError, TimeoutError, OSError) as exc:
            log.debug("inbound handshake refused: %s", exc)
            writer.transport.abort()

    async def _secure(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        initiator: bool,
        expected: bytes | None,
    ) -> None:
        """Handshake, then hand the connection to `_attach`; counts failures by reason."""
        assert self._static is not None

        def authorize(peer: bytes) -> bool:
            return peer in self._allowed and (expected is None or peer == expected)

        self._handshaking += 1
        try:
            async with asyncio.timeout(self.config.handshake_timeout):
                session = await handshake(
                    reader,
                    writer,
                    self._static,
                    self._boot_id,
                    initiator=initiator,
                    authorize=authorize,
                )
        except HandshakeError as exc:
            self.stats.drop(exc.reason)
            self.stats.count("handshakes_failed")
            raise
        except (TimeoutError, OSError):
            self.stats.count("handshakes_failed")
            raise
        finally:
            self._handshaking -= 1
        self.stats.count("handshakes_completed")
        session.decoder.max_body = self.config.max_frame_size
        conn = Connection(
            session,
            reader,
            writer,
            initiator=initiator,
            clock=self._clock,
            link_delay=self.config.link_delay,
        )
        self._attach(conn)

    def _prefer(self, new: Connection, old: Connection) -> bool:
        """Which of two connections to one peer survives; both ends decide alike.

        A newer incarnation of the peer (higher boot id) wins; otherwise the connection
        dialled by the lower address; otherwise (same dialler) the newer connection.
        """
        if new.peer_boot_id != old.peer_boot_id:
            return new.peer_boot_id > old.peer_boot_id
        dialler_new = self.address if new.initiator else new.peer
        dialler_old = self.address if old.initiator else old.peer
        if dialler_new != dialler_old:
            return dialler_new == min(self.address, new.peer)
        return True

    def _attach(self, conn: Connection) -> None:
        peer = conn.peer
        if peer not in self._allowed:  # the allow-list changed during the handshake
            conn.abort()
            return
        old = self._conns.get(peer)
        if old is None or self._prefer(conn, old):
            self._conns[peer] = conn
            if old is not None:
                self._retire(old)
            self._clocks.setdefault(peer, PeerClock())
            self._buckets.setdefault(
                peer, TokenBucket(self.config.rate_limit, self.config.rate_burst)
            )
            self._spawn(self._keepalive(conn))
            self._notify()
        else:
            self._retire(conn)
        self._spawn(self._serve(conn))

    def _retire(self, conn: Connection) -> None:
        conn.retire()

        async def deadline() -> None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.config.retire_timeout):
                    await conn.closed.wait()
            conn.abort()

        self._spawn(deadline())

    def _detach(self, conn: Connection, graceful: bool) -> None:
        if graceful:
            conn.close()
        else:
            conn.abort()
        self.stats.count("connections_closed")
        if self._conns.get(conn.peer) is conn:
            del self._conns[conn.peer]
            self._notify()

    async def _serve(self, conn: Connection) -> None:
        """Read frames until the peer closes or the stream is unusable."""
        graceful = False
        try:
            while True:
                while (body := conn.decoder.pop()) is not None:
                    self._on_frame(conn, body, self._clock())
                data = await conn.reader.read(_READ_CHUNK)
                if not data:
                    graceful = True  # the peer closed: flush what we queued, then close
                    break
                conn.decoder.push(data)
                self.stats.count("bytes_received", len(data))
        except (FrameError, HandshakeError) as exc:
            log.info("closing connection to %s: %s", conn.peer.hex(), exc)
            self.stats.drop(exc.reason)
        except (ConnectionError, OSError) as exc:
            log.debug("connection to %s lost: %s", conn.peer.hex(), exc)
        finally:
            self._detach(conn, graceful)

    async def _keepalive(self, conn: Connection) -> None:
        """Ping at once and then every interval; close the connection when the peer is idle
        for longer than `idle_timeout` (a dead link that TCP has not noticed)."""
        ping_ids = count(1)
        while not conn.closed.is_set() and not conn.retiring:
            if time.monotonic() - conn.last_received > self.config.idle_timeout:
                log.info("peer %s idle, closing", conn.peer.hex())
                conn.abort()
                return
            request_id = next(ping_ids)
            conn.start_ping(request_id)
            try:
                self._write(conn, Kind.PING, "", request_id, b"")
            except PeerUnavailableError:
                return
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.config.ping_interval):
                    await conn.closed.wait()

    # ----------------------------------------------------------------- inbound dispatch
    def _on_frame(self, conn: Connection, body: bytes, received_ns: int) -> None:
        plaintext = conn.channel.open(body)
        self.stats.count("frames_received")
        if not self._buckets[conn.peer].allow():
            self.stats.drop(DropReason.RATE_LIMITED)
            return
        try:
            envelope = decode_envelope(plaintext)
        except CodecError as exc:
            log.debug("malformed envelope from %s: %s", conn.peer.hex(), exc)
            self.stats.drop(DropReason.MALFORMED)
            return
        if not conn.accept_sequence(envelope.sequence):
            self.stats.drop(DropReason.REPLAYED)
            return
        match envelope.kind:
            case Kind.PING:
                if not conn.retiring:
                    self._write(conn, Kind.PONG, "", envelope.request_id, encode_pong(received_ns))
            case Kind.PONG:
                self._on_pong(conn, envelope)
            case Kind.SEND | Kind.REQUEST:
                self._on_message(conn.peer, envelope)
            case Kind.RESPONSE | Kind.ERROR:
                self._on_response(conn.peer, envelope)

    def _on_pong(self, conn: Connection, envelope: Envelope) -> None:
        sent = conn.finish_ping(envelope.request_id)
        if sent is None:
            self.stats.drop(DropReason.UNSOLICITED)
            return
        try:
            t2 = decode_pong(envelope.payload)
        except CodecError:
            self.stats.drop(DropReason.MALFORMED)
            return
        t1, t1_mono = sent
        sample = ntp_sample(
            t1, t2, envelope.timestamp_ns, self._clock(), time.monotonic_ns() - t1_mono
        )
        self._clocks[conn.peer].add(sample)

    def _on_message(self, peer: bytes, envelope: Envelope) -> None:
        handler = self._handlers.get(envelope.protocol_id)
        if handler is None:
            self.stats.drop(DropReason.UNKNOWN_PROTOCOL)
            if envelope.kind is Kind.REQUEST:
                self._spawn(self._reply_error(peer, envelope, "unknown protocol"))
            return
        self._spawn(self._run_handler(handler, peer, envelope))

    async def _run_handler(self, handler: Handler, peer: bytes, envelope: Envelope) -> None:
        """Run a handler; its exception is logged and, for a request, answered as ERROR."""
        try:
            reply = await handler(peer, envelope.payload)
        except Exception as exc:  # a faulty handler must not take the connection down
            self.stats.count("handler_errors")
            log.exception("handler for %s failed", envelope.protocol_id)
            if envelope.kind is Kind.REQUEST:
                await self._reply_error(peer, envelope, f"{type(exc).__name__}: {exc}")
            return
        if envelope.kind is Kind.REQUEST:
            with contextlib.suppress(PeerUnavailableError):
                await self._send(
                    peer, Kind.RESPONSE, envelope.protocol_id, envelope.request_id, reply or b""
                )

    async def _reply_error(self, peer: bytes, envelope: Envelope, text: str) -> None:
        with contextlib.suppress(PeerUnavailableError):
            await self._send(
                peer,
                Kind.ERROR,
                envelope.protocol_id,
                envelope.request_id,
                text.encode()[:_MAX_ERROR_TEXT],
            )

    def _on_response(self, peer: bytes, envelope: Envelope) -> None:
        entry = self._pending.get(envelope.request_id)
        if entry is None or entry[0] != peer or entry[1].done():
            self.stats.drop(DropReason.UNSOLICITED)
            return
        future = entry[1]
        if envelope.kind is Kind.RESPONSE:
            future.set_result(envelope.payload)
        else:
            text = envelope.payload.decode(errors="replace")
            future.set_exception(RemoteError(f"{peer.hex()}: {text}"))
