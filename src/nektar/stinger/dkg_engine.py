"""`DkgEngine`: turns a `ValidatorProposed` naming this node into a registered validator.

For each proposal whose member list holds this node's address the engine:

1. allow-lists the other members on the P2P host and sends `acknowledge` (so that, should the
   DKG time out, the re-proposal keeps this member);
2. runs `nektar.crypto.dkg` over protocol `nektar/dkg/1`: the sender index of a message is the
   member index of the transport-authenticated node address, never the index it claims.
   Phases close when nothing more is expected (`DKG.ready`) or on a schedule every member
   derives from the proposal: attempt k starts at `anchor + k × attempt_seconds`, phase p
   closes `(p + 1) × phase_seconds` later. The anchor is the proposal block's timestamp
   (`deadline − dkg_timeout`), or the moment this node first saw the event if the chain's
   clock is ahead of ours (in-process EVM), so members agree to within one poll interval;
3. exchanges partial signatures of the 1 ETH DepositMessage over `nektar/dkg-sign/1`, with
   the credentials the ValidatorRegistry gives for THAT validator
   (`withdrawal_credentials(id)`: `0x01‖0…‖WithdrawalVault` for a pool validator,
   `0x01‖0…‖pod` for a NativePod's; the contract checks the deposit root against them),
   combines t of them (bad partials are named and dropped), then exchanges every member's
   EIP-712 `ValidatorRegistration` signature; a signature counts only if it recovers to that
   member's node address, so members whose DKG views differ never complete;
4. submits `register` from the member with the lowest index first; member i waits
   `(i − 1) × submit_stagger` and checks on chain before paying, so one transaction lands;
5. once the chain shows the validator REGISTERED with this group key, writes the share
   (EIP-2335) and the cluster definition through `ClusterStore.add`, which the running node
   serves from the next slot (no restart needed).

A failed attempt (DKG failure, missing partials or signatures) is retried with a fresh session
while the contract still says PROPOSED, the chain's deadline has not passed and attempts
remain; then the ceremony is abandoned: its sessions are dropped, nothing is written, and
once the chain's deadline has passed a member calls `fail` (staggered, checked first) so the
contract re-proposes without the members that never acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from eth_account import Account
from eth_account.signers.local import LocalAccount

from nektar.chain.diva_ops import PRE_DEPOSIT_GWEI, ProposedValidator, ValidatorRegistry
from nektar.chain.errors import ChainError, TransactionReverted
from nektar.crypto import dkg, eip712, threshold
from nektar.crypto.deposit import DepositDataEntry, combine_deposit, partial_deposit_signature
from nektar.crypto.node_key import NodeKey
from nektar.p2p import Host
from nektar.stinger.datadir import ClusterDefinition, ClusterStore, Member

log = logging.getLogger("nektar.stinger.dkg")

PROTOCOL_DKG = "nektar/dkg/1"
PROTOCOL_SIGN = "nektar/dkg-sign/1"
PROPOSED, REGISTERED = 1, 2
_PARTIAL, _REGISTRATION = 1, 2
_SESSION = slice(2, 34)  # the DKG header: version, kind, 32-byte session id, ...
_MAX_EARLY_SESSIONS = 64
_MAX_EARLY_MESSAGES = 256


@dataclass(frozen=True)
class DkgSchedule:
    """Timing of a ceremony (seconds, wall clock)."""

    phase_seconds: float = 3.0  # each DKG phase at most
    collect_seconds: float = 6.0  # partial + registration signatures at most
    submit_stagger: float = 2.0  # member i submits (i − 1) × this after it could
    confirm_seconds: float = 10.0  # waiting for the registration to show on chain
    max_attempts: int = 3

    @property
    def attempt_seconds(self) -> float:
        return 3 * self.phase_seconds + self.collect_seconds + self.confirm_seconds


class DkgAbandoned(Exception):
    """A ceremony gave up; the message says why (logged, nothing written)."""


@dataclass
class _Attempt:
    """One session of one proposal: the DKG machine and the signatures gathered."""

    proposal: ProposedValidator
    index: int
    session: bytes
    machine: dkg.DKG
    partials: dict[int, bytes] = field(default_factory=dict)
    registrations: dict[int, bytes] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    later: tuple[bytes, ...] = ()  # sessions of this proposal's later attempts
    message: eip712.ValidatorRegistration | None = None

    def member_index(self, address: bytes) -> int | None:
        for i, node in enumerate(self.proposal.nodes, start=1):
            if bytes.fromhex(node[2:]) == address:
                return i
        return None


@dataclass(frozen=True)
class DkgResult:
    """A registered validator as this member holds it."""

    validator_id: int
    definition: ClusterDefinition
    share: int


def attempt_session(validator_id: int, registry: str, chain_id: int, attempt: int) -> bytes:
    """The session id of attempt `attempt`: a retry never mixes with an earlier session."""
    base = dkg.session_id(validator_id, bytes.fromhex(registry[2:]), chain_id)
    return hashlib.sha256(base + attempt.to_bytes(4, "big")).digest()


class DkgEngine:
    """Runs the DKG and the registration for every proposal naming this node."""

    def __init__(
        self,
        host: Host,
        node_key: NodeKey,
        registry: ValidatorRegistry,
        clusters: ClusterStore,
        genesis_fork_version: bytes,
        *,
        endpoints: Mapping[bytes, tuple[str, int]] | None = None,
        schedule: DkgSchedule | None = None,
        account: LocalAccount | None = None,
    ) -> None:
        self.host = host
        self.key = node_key
        self.address = node_key.address
        self.registry = registry
        self.backend = registry.contract.backend
        self.clusters = clusters
        self.fork_version = genesis_fork_version
        self.endpoints = dict(endpoints or {})
        self.schedule = schedule or DkgSchedule()
        self.account = account or Account.from_key(node_key.secret)
        self.domain = eip712.validator_registry_domain(self.backend.chain_id, registry.address)
        self.results: dict[int, DkgResult] = {}
        self.abandoned: dict[int, str] = {}
        self.failures: dict[int, list[str]] = {}  # failed attempts, per validator id
        self._attempts: dict[bytes, _Attempt] = {}
        self._early: dict[bytes, list[tuple[str, bytes, bytes]]] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._sends: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        self.host.register(PROTOCOL_DKG, self._on_dkg)
        self.host.register(PROTOCOL_SIGN, self._on_sign)

    async def stop(self) -> None:
        self.host.unregister(PROTOCOL_DKG)
        self.host.unregister(PROTOCOL_SIGN)
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._tasks.clear()

    def on_proposed(self, proposal: ProposedValidator) -> asyncio.Task[None] | None:
        """Start the ceremony of `proposal` if it names this node (idempotent)."""
        mine = "0x" + self.address.hex()
        if mine not in (n.lower() for n in proposal.nodes):
            return None
        running = self._tasks.get(proposal.validator_id)
        if running is not None:
            return running
        anchor = min(float(proposal.deadline - self._dkg_timeout()), time.time())
        task = asyncio.create_task(self._run(proposal, anchor))
        self._tasks[proposal.validator_id] = task
        return task

    def _dkg_timeout(self) -> int:
        return int(self.registry.contract.call("dkg_timeout"))

    # ------------------------------------------------------------------ inbound
    def _route(self, protocol: str, peer: bytes, payload: bytes, session: bytes) -> None:
        attempt = self._attempts.get(session)
        if attempt is None:  # a faster member: keep it until our attempt starts
            if len(self._early) < _MAX_EARLY_SESSIONS or session in self._early:
                queue = self._early.setdefault(session, [])
                if len(queue) < _MAX_EARLY_MESSAGES:
                    queue.append((protocol, peer, payload))
                for active in self._attempts.values():
                    active.changed.set()  # it may be a later attempt of theirs
            return
        sender = attempt.member_index(peer)
        if sender is None:
            log.warning("DKG message from non-member 0x%s dropped", peer.hex())
            return
        if protocol == PROTOCOL_DKG:
            self._on_dkg_message(attempt, sender, payload)
        else:
            self._on_sign_message(attempt, sender, payload)
        attempt.changed.set()

    async def _on_dkg(self, peer: bytes, payload: bytes) -> None:
        if len(payload) >= _SESSION.stop:
            self._route(PROTOCOL_DKG, peer, payload, payload[_SESSION])
        return None

    async def _on_sign(self, peer: bytes, payload: bytes) -> None:
        if len(payload) >= 33:
            self._route(PROTOCOL_SIGN, peer, payload, payload[1:33])
        return None

    def _on_dkg_message(self, attempt: _Attempt, sender: int, payload: bytes) -> None:
        try:
            replies = attempt.machine.receive(sender, payload)
        except dkg.DKGMessageError as exc:
            log.warning(
                "validator %d: bad DKG message from member %d: %s",
                attempt.proposal.validator_id,
                sender,
                exc,
            )
            return
        for message in replies:
            task = asyncio.create_task(self._send_dkg(attempt, message))
            self._sends.add(task)
            task.add_done_callback(self._sends.discard)

    def _on_sign_message(self, attempt: _Attempt, sender: int, payload: bytes) -> None:
        kind, body = payload[0], payload[33:]
        if kind == _PARTIAL and len(body) == 96:
            attempt.partials.setdefault(sender, body)
        elif kind == _REGISTRATION and len(body) == 65:
            attempt.registrations.setdefault(sender, body)
        else:
            log.warning("malformed DKG signing message from member %d", sender)

    # ------------------------------------------------------------------ outbound
    def _peer(self, attempt: _Attempt, index: int) -> bytes:
        return bytes.fromhex(attempt.proposal.nodes[index - 1][2:])

    def _members(self, attempt: _Attempt) -> list[bytes]:
        return [
            bytes.fromhex(n[2:])
            for n in attempt.proposal.nodes
            if n.lower()[2:] != self.address.hex()
        ]

    async def _send_dkg(self, attempt: _Attempt, message: dkg.DKGMessage) -> None:
        data = dkg.encode(message)
        recipient = message.header.recipient
        if recipient == dkg.BROADCAST:
            await self.host.broadcast(PROTOCOL_DKG, data, self._members(attempt))
            return
        try:
            await self.host.send(self._peer(attempt, recipient), PROTOCOL_DKG, data)
        except Exception as exc:  # an absent member: its review will say NO_DEAL
            log.info("deal to member %d not delivered: %s", recipient, exc)

    async def _send_sign(self, attempt: _Attempt, kind: int, body: bytes) -> None:
        payload = bytes([kind]) + attempt.session + body
        await self.host.broadcast(PROTOCOL_SIGN, payload, self._members(attempt))

    # ------------------------------------------------------------------ the ceremony
    def _join(self, proposal: ProposedValidator) -> None:
        allowed = set(self.host.allowed)
        for node in proposal.nodes:
            address = bytes.fromhex(node[2:])
            if address == self.address:
                continue
            allowed.add(address)
            if address in self.endpoints:
                self.host.set_peer_address(address, *self.endpoints[address])
        self.host.set_allowed(allowed)

    def _status(self, validator_id: int) -> int:
        return self.registry.validator(validator_id).status

    def _acknowledge(self, proposal: ProposedValidator, index: int) -> None:
        try:
            self.registry.acknowledge(self.account, proposal.validator_id, index - 1)
        except ChainError as exc:
            log.warning("validator %d: acknowledge failed: %s", proposal.validator_id, exc)

    def _later_started(self, sessions: list[bytes], number: int) -> int | None:
        """The latest attempt after `number` that members already sent messages for."""
        started = [k for k in range(number + 1, len(sessions)) if sessions[k] in self._early]
        return started[-1] if started else None

    async def _run(self, proposal: ProposedValidator, anchor: float) -> None:
        vid = proposal.validator_id
        s = self.schedule
        index = 1 + [n.lower() for n in proposal.nodes].index("0x" + self.address.hex())
        self._join(proposal)
        if self._status(vid) == PROPOSED:
            self._acknowledge(proposal, index)
        chain_id, registry = self.backend.chain_id, self.registry.address
        sessions = [attempt_session(vid, registry, chain_id, k) for k in range(s.max_attempts)]
        credentials = self.registry.withdrawal_credentials(vid)  # fixed per validator id
        reason = "the contract no longer says PROPOSED"
        number = 0
        while number < s.max_attempts:
            if self._status(vid) != PROPOSED:
                break
            if self.backend.timestamp() > proposal.deadline:
                reason = "the chain's DKG deadline passed"
                break
            start = anchor + number * s.attempt_seconds
            later = self._later_started(sessions, number)
            if later is not None:  # the others moved on (we came late): join them now
                number, start = later, time.time()
            elif time.time() > start + s.phase_seconds:
                number += 1  # too late to deal in this attempt; the next one
                continue
            while time.time() < start and sessions[number] not in self._early:
                if self._later_started(sessions, number) is not None:
                    break
                await asyncio.sleep(min(0.1, max(0.0, start - time.time())))
            if self._later_started(sessions, number) is not None:
                continue
            start = min(start, time.time())  # members that began early are not kept waiting
            try:
                result = await self._attempt(proposal, index, number, start, sessions, credentials)
            except DkgAbandoned as exc:
                reason = str(exc)
                self.failures.setdefault(vid, []).append(f"attempt {number}: {exc}")
                log.warning("validator %d attempt %d failed: %s", vid, number, exc)
                number += 1
                continue
            self.results[vid] = result
            log.info("validator %d registered: %s", vid, result.definition.group_pubkey)
            return
        else:
            reason = f"{s.max_attempts} attempts failed ({reason})"
        if self._status(vid) == PROPOSED:
            self.abandoned[vid] = reason
            log.warning("validator %d: DKG abandoned: %s", vid, reason)
            await self._fail_after_deadline(proposal, index)

    async def _fail_after_deadline(self, proposal: ProposedValidator, index: int) -> None:
        """After the chain's deadline, call `fail` (lowest index first) unless someone did."""
        vid = proposal.validator_id
        while self._status(vid) == PROPOSED and self.backend.timestamp() <= proposal.deadline:
            await asyncio.sleep(0.5)
        await asyncio.sleep((index - 1) * self.schedule.submit_stagger)
        if self._status(vid) != PROPOSED:
            return
        try:
            self.registry.fail(self.account, vid)
            log.info("validator %d: called fail after the DKG deadline", vid)
        except TransactionReverted as exc:
            log.info("validator %d: fail not needed: %s", vid, exc)

    def _moved_on(self, attempt: _Attempt) -> bool:
        return any(session in self._early for session in attempt.later)

    async def _wait(self, attempt: _Attempt, until: float, done: Callable[[], bool]) -> None:
        """Wait until `done()` or wall time `until`; abandon the attempt as soon as members
        send messages of a later attempt (they gave this one up)."""
        while not done() and not self._moved_on(attempt) and time.time() < until:
            attempt.changed.clear()
            try:
                await asyncio.wait_for(attempt.changed.wait(), max(0.0, until - time.time()))
            except TimeoutError:
                break
        if self._moved_on(attempt):
            raise DkgAbandoned("the other members moved on to a later attempt")

    async def _attempt(
        self,
        proposal: ProposedValidator,
        index: int,
        number: int,
        start: float,
        sessions: list[bytes],
        credentials: bytes,
    ) -> DkgResult:
        session = sessions[number]
        machine = dkg.DKG(session, index, proposal.n, proposal.t)
        attempt = _Attempt(proposal, index, session, machine, later=tuple(sessions[number + 1 :]))
        self._attempts[session] = attempt
        try:
            return await self._ceremony(attempt, start, credentials)
        finally:
            self._attempts.pop(session, None)
            self._early.pop(session, None)

    async def _ceremony(self, attempt: _Attempt, start: float, credentials: bytes) -> DkgResult:
        s = self.schedule
        machine = attempt.machine
        members = self._members(attempt)
        with contextlib.suppress(TimeoutError):  # an absent member: the DKG tolerates it
            wait = max(0.1, start + s.phase_seconds / 2 - time.time())
            await self.host.wait_for_peers(members, timeout=wait)
        for protocol, peer, payload in self._early.pop(attempt.session, []):
            self._route(protocol, peer, payload, attempt.session)
        for message in machine.start():
            await self._send_dkg(attempt, message)
        for phase in range(3):
            await self._wait(attempt, start + (phase + 1) * s.phase_seconds, lambda: machine.ready)
            for message in machine.advance():
                await self._send_dkg(attempt, message)
        if machine.outcome is None:
            raise DkgAbandoned(f"DKG failed: {machine.failure}")
        key = machine.outcome.keys[0]
        until = start + 3 * s.phase_seconds + s.collect_seconds
        deposit = await self._deposit_signature(attempt, key, until, credentials)
        public_shares = tuple(key.public_shares[i] for i in range(1, attempt.proposal.n + 1))
        attempt.message = eip712.ValidatorRegistration(
            attempt.proposal.validator_id,
            key.group_pubkey,
            public_shares,
            deposit.signature,
            deposit.deposit_data_root,
        )
        signatures = await self._registration_signatures(attempt, until)
        await self._submit(attempt, signatures, deposit.signature, deposit.deposit_data_root)
        return await self._persist(attempt, key)

    async def _deposit_signature(
        self, attempt: _Attempt, key: dkg.KeyShare, until: float, credentials: bytes
    ) -> DepositDataEntry:
        """Broadcast our partial over the DepositMessage with `credentials` (this
        validator's), combine t valid ones (dropping the ones named bad)."""
        mine = partial_deposit_signature(
            key.secret_share,
            key.group_pubkey,
            credentials,
            PRE_DEPOSIT_GWEI,
            self.fork_version,
        )
        attempt.partials[attempt.index] = mine
        t = attempt.proposal.t
        while True:
            await self._send_sign(attempt, _PARTIAL, mine)
            await self._wait(
                attempt, min(until, time.time() + 1.0), lambda: len(attempt.partials) >= t
            )
            if len(attempt.partials) >= t:
                try:
                    return combine_deposit(
                        key.group_pubkey,
                        key.public_shares,
                        dict(attempt.partials),
                        t,
                        credentials,
                        PRE_DEPOSIT_GWEI,
                        self.fork_version,
                        "nektar",
                    )
                except threshold.PartialSignatureError as exc:
                    log.warning("validator %d: %s", attempt.proposal.validator_id, exc)
                    for bad in exc.bad_indices:
                        if bad != attempt.index:
                            attempt.partials.pop(bad, None)
            if time.time() >= until:
                raise DkgAbandoned(
                    f"only {len(attempt.partials)} partial deposit signatures, need {t}"
                )

    def _valid_registrations(self, attempt: _Attempt) -> dict[int, bytes]:
        assert attempt.message is not None
        valid = {}
        for member, signature in attempt.registrations.items():
            try:
                signer = eip712.recover(self.domain, attempt.message, signature)
            except eip712.Eip712Error:
                continue
            if signer == self._peer(attempt, member):
                valid[member] = signature
        return valid

    async def _registration_signatures(self, attempt: _Attempt, until: float) -> tuple[bytes, ...]:
        assert attempt.message is not None
        mine = eip712.sign(self.key, self.domain, attempt.message)
        attempt.registrations[attempt.index] = mine
        n = attempt.proposal.n
        while True:
            await self._send_sign(attempt, _REGISTRATION, mine)
            # a first partial or signature may have reached a peer before it joined: resend both
            await self._send_sign(attempt, _PARTIAL, attempt.partials[attempt.index])
            await self._wait(
                attempt,
                min(until, time.time() + 1.0),
                lambda: len(self._valid_registrations(attempt)) == n,
            )
            valid = self._valid_registrations(attempt)
            if len(valid) == n:
                return tuple(valid[i] for i in range(1, n + 1))
            if time.time() >= until:
                missing = sorted(set(range(1, n + 1)) - set(valid))
                raise DkgAbandoned(f"no valid registration signature from member(s) {missing}")

    async def _submit(
        self,
        attempt: _Attempt,
        signatures: tuple[bytes, ...],
        deposit_signature: bytes,
        root: bytes,
    ) -> None:
        """Lowest index first; each later member waits its turn and checks the chain."""
        assert attempt.message is not None
        vid = attempt.proposal.validator_id
        s = self.schedule
        turn = time.time() + (attempt.index - 1) * s.submit_stagger
        while time.time() < turn and self._status(vid) == PROPOSED:
            await asyncio.sleep(0.2)
        if self._status(vid) == PROPOSED:
            try:
                self.registry.contract.transact(
                    "register",
                    vid,
                    attempt.message.pubkey,
                    b"".join(attempt.message.public_shares),
                    deposit_signature,
                    root,
                    b"".join(signatures),
                    sender=self.account,
                )
                log.info("validator %d: submitted register", vid)
            except TransactionReverted as exc:
                log.info("validator %d: register not needed or refused: %s", vid, exc)
        deadline = time.time() + s.confirm_seconds
        while self._status(vid) == PROPOSED and time.time() < deadline:
            await asyncio.sleep(0.2)
        if self._registered_pubkey(vid) != attempt.message.pubkey:
            raise DkgAbandoned("the chain does not show this group key registered")

    def _registered_pubkey(self, validator_id: int) -> bytes | None:
        if self._status(validator_id) == PROPOSED:
            return None
        for event in self.registry.contract.events("ValidatorRegistered"):
            if int(event["validator_id"]) == validator_id:
                return bytes(event["pubkey"])
        return None

    async def _persist(self, attempt: _Attempt, key: dkg.KeyShare) -> DkgResult:
        assert attempt.message is not None
        members = []
        for node in attempt.proposal.nodes:
            address = bytes.fromhex(node[2:])
            host, port = self.endpoints.get(address, ("127.0.0.1", 0))
            members.append(Member(address="0x" + address.hex(), host=host, port=port))
        definition = ClusterDefinition(
            group_pubkey="0x" + key.group_pubkey.hex(),
            threshold=attempt.proposal.t,
            members=members,
            public_shares=["0x" + s.hex() for s in attempt.message.public_shares],
            my_index=attempt.index,
        )
        validator = await asyncio.to_thread(self.clusters.persist, definition, key.secret_share)
        self.clusters.announce(validator)
        return DkgResult(attempt.proposal.validator_id, definition, key.secret_share)
