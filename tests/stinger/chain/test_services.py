"""Finding the protocol from the ValidatorRegistry's address; the watcher's cursor; the DKG
engine's handling of arbitrary P2P payloads."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nektar.chain.diva_ops import ProposedValidator, deploy_diva_system
from nektar.chain.inprocess import InProcessBackend
from nektar.crypto import dkg
from nektar.crypto.node_key import NodeKey
from nektar.p2p import Host
from nektar.stinger.chain_services import connect_diva_system
from nektar.stinger.datadir import ClusterStore, DataDir
from nektar.stinger.dkg_engine import (
    PROTOCOL_DKG,
    PROTOCOL_SIGN,
    DkgEngine,
    _Attempt,
    attempt_session,
)
from nektar.stinger.watcher import CURSOR_FILE, ChainWatcher, WatcherError

from .conftest import ETHER, FORK_VERSION, Protocol


def test_connect_finds_every_contract_from_the_registry() -> None:
    backend = InProcessBackend()
    system = deploy_diva_system(backend)
    found = connect_diva_system(backend, system.validators.address)
    for name in ("operators", "validators", "oracle"):
        assert getattr(found, name).address == getattr(system, name).address
    for name in ("pool", "token", "queue", "vault", "wrapper"):
        assert getattr(found.lst, name).address == getattr(system.lst, name).address
    assert found.deposit_contract.address == system.deposit_contract.address
    assert found.validators.withdrawal_credentials() == system.lst.withdrawal_credentials()


async def test_watcher_resumes_from_its_cursor(protocol: Protocol, tmp_path: Path) -> None:
    p = protocol
    for _ in range(4):
        p.add_operator()
    p.stake(64 * ETHER)
    seen: list[int] = []

    def watcher() -> ChainWatcher:
        w = ChainWatcher(p.system.validators, p.system.operators, tmp_path)
        w.subscribe("ValidatorProposed", lambda e: seen.append(int(e["validator_id"])))
        return w

    first = watcher()
    p.propose()
    first.poll()
    assert seen == [1]
    p.propose()
    watcher().poll()  # a restarted node: only what it has not seen yet
    assert seen == [1, 2]
    assert watcher().poll() == []
    (tmp_path / CURSOR_FILE).write_text(json.dumps({"next": 3}))
    with pytest.raises(WatcherError, match="invalid chain cursor"):
        watcher()


@pytest.fixture(scope="module")
def engine_attempt(tmp_path_factory: pytest.TempPathFactory) -> tuple[DkgEngine, _Attempt]:
    """An engine with one attempt in progress (4 members, this node is member 1)."""
    backend = InProcessBackend()
    system = deploy_diva_system(backend)
    keys = [NodeKey.generate() for _ in range(4)]
    root = tmp_path_factory.mktemp("engine")
    engine = DkgEngine(
        Host(keys[0]), keys[0], system.validators, ClusterStore(DataDir(root)), FORK_VERSION
    )
    nodes = tuple("0x" + k.address.hex() for k in keys)
    proposal = ProposedValidator(1, 4, 3, (1, 2, 3, 4), nodes, bytes(32), 2**40)
    session = attempt_session(1, system.validators.address, backend.chain_id, 0)
    attempt = _Attempt(proposal, 1, session, dkg.DKG(session, 1, 4, 3))
    engine._attempts[session] = attempt
    return engine, attempt


@settings(max_examples=100, deadline=None)
@given(
    body=st.binary(max_size=200),
    protocol=st.sampled_from([PROTOCOL_DKG, PROTOCOL_SIGN]),
    sender=st.integers(0, 4),
    known_session=st.booleans(),
)
def test_engine_drops_malformed_payloads(
    engine_attempt: tuple[DkgEngine, _Attempt],
    body: bytes,
    protocol: str,
    sender: int,
    known_session: bool,
) -> None:
    """Arbitrary bytes from members or strangers never raise, never count as a member's
    partial or signature unless well-sized and from that member, and the buffer of messages
    for sessions not started yet stays bounded."""
    engine, attempt = engine_attempt
    session = attempt.session if known_session else bytes(32)
    peer = bytes.fromhex(attempt.proposal.nodes[sender - 1][2:]) if sender else bytes(20)
    if protocol == PROTOCOL_DKG:
        payload = bytes([1, 1]) + session + body
        asyncio.run(engine._on_dkg(peer, payload))
    else:
        payload = bytes([body[0] if body else 1]) + session + body[1:]
        asyncio.run(engine._on_sign(peer, payload))
    assert all(len(v) == 96 for v in attempt.partials.values())
    assert all(len(v) == 65 for v in attempt.registrations.values())
    assert set(attempt.partials) | set(attempt.registrations) <= {2, 3, 4}
    assert attempt.machine.outcome is None
    assert sum(len(q) for q in engine._early.values()) <= 256 * 64
