"""The Web3Signer-compatible endpoint of four cluster nodes (n = 4, t = 3), each with its own
P2P host, slashing-protection database and key share from a real DKG: validator clients send
the remote-signing API's own request shapes to three nodes and each gets the same group
signature; slashing protection still refuses a double vote. Every exchange is validated
against the API's OpenAPI document (openapi-core)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from openapi_core import OpenAPI
from openapi_core.contrib.aiohttp import AIOHTTPOpenAPIWebRequest, AIOHTTPOpenAPIWebResponse

from nektar.crypto import bls
from nektar.crypto.node_key import NodeKey
from nektar.crypto.signing import (
    AttestationData,
    attestation_signing_root,
    randao_reveal_signing_root,
)
from nektar.crypto.slashing_protection import SlashingProtectionDB
from nektar.p2p import Host, HostConfig
from nektar.stinger.aggregator import Aggregator
from nektar.stinger.datadir import ClusterDefinition, Member, Validator
from nektar.stinger.metrics import Metrics
from nektar.stinger.parsigex import ParSigEx
from nektar.stinger.remotesigner import RemoteSigner

from .harness import dkg_keys

GVR = bytes(range(32))
FORK = {"previous_version": "0x00000001", "current_version": "0x00000002", "epoch": "1"}
FORK_INFO = {"fork": FORK, "genesis_validators_root": "0x" + GVR.hex()}


@dataclass
class Recorder:
    exchanges: list[tuple[web.Request, bytes, web.Response]] = field(default_factory=list)

    @web.middleware
    async def middleware(self, request: web.Request, handler) -> web.StreamResponse:  # type: ignore[no-untyped-def]
        body = await request.read()
        response = await handler(request)
        self.exchanges.append((request, body, response))
        return response


@dataclass
class SignerNode:
    url: str
    host: Host
    runner: web.AppRunner
    db: SlashingProtectionDB


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[tuple[list[SignerNode], bytes, Recorder]]:
    outcomes = dkg_keys(4, 3, 1)
    keys = {i: NodeKey.generate() for i in range(1, 5)}
    members = [Member(address="0x" + keys[i].address.hex()) for i in range(1, 5)]
    recorder = Recorder()
    config = HostConfig(backoff_initial=0.02, backoff_max=0.2)
    hosts = {
        i: Host(keys[i], allowed=[k.address for k in keys.values()], config=config) for i in keys
    }
    for host in hosts.values():
        await host.start()
    for i, host in hosts.items():
        for j, other in hosts.items():
            if i != j:
                host.set_peer_address(other.address, *other.listen_address)
    nodes = []
    for i, host in hosts.items():
        share = outcomes[i][0]
        definition = ClusterDefinition(
            group_pubkey="0x" + share.group_pubkey.hex(),
            threshold=3,
            members=members,
            public_shares=["0x" + share.public_shares[j].hex() for j in range(1, 5)],
            my_index=i,
        )
        validators = {share.group_pubkey: Validator(definition, share.secret_share)}
        aggregator = Aggregator()
        parsigex = ParSigEx(host, validators.get, aggregator, Metrics())
        db = SlashingProtectionDB(tmp_path / f"sp{i}.sqlite", GVR)
        signer = RemoteSigner(
            validators.get,
            lambda v=validators: list(v),
            db,
            parsigex,
            aggregator,
            slots_per_epoch=8,
            timeout=3,
        )
        app = web.Application(middlewares=[recorder.middleware])
        signer.add_routes(app)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        nodes.append(SignerNode(f"http://127.0.0.1:{runner.addresses[0][1]}", host, runner, db))
    for host in hosts.values():
        await host.wait_for_peers(timeout=10)
    yield nodes, outcomes[1][0].group_pubkey, recorder
    for node in nodes:
        await node.runner.cleanup()
        await node.host.stop()
        node.db.close()


@pytest.fixture(scope="module")
def openapi(specs_dir: Path) -> OpenAPI:
    return OpenAPI.from_file_path(
        str(specs_dir / "remote-signing-api" / "remote-signing-oapi.yaml")
    )


def _attestation(target: int, root_byte: int) -> dict:
    return {
        "slot": str(target * 8),
        "index": "0",
        "beacon_block_root": "0x" + bytes([root_byte]).hex() * 32,
        "source": {"epoch": str(target - 1), "root": "0x" + "11" * 32},
        "target": {"epoch": str(target), "root": "0x" + "22" * 32},
    }


async def _post(session: aiohttp.ClientSession, url: str, body: dict) -> tuple[int, dict]:
    async with session.post(url, json=body) as response:
        return response.status, await response.json()


async def _sign_on(nodes: list[SignerNode], pubkey: bytes, body: dict) -> list[tuple[int, dict]]:
    async with aiohttp.ClientSession() as session:
        return await asyncio.gather(
            *(_post(session, f"{n.url}/api/v1/eth2/sign/0x{pubkey.hex()}", body) for n in nodes)
        )


def _validate(openapi: OpenAPI, recorder: Recorder) -> None:
    for request, body, response in recorder.exchanges:
        if request.path == "/upcheck":  # Web3Signer's health route, not in the API document
            continue
        wrapped = AIOHTTPOpenAPIWebRequest(request, body=body)
        openapi.validate_request(wrapped)
        openapi.validate_response(wrapped, AIOHTTPOpenAPIWebResponse(response))


async def test_three_nodes_give_the_group_signature(cluster, openapi: OpenAPI) -> None:  # type: ignore[no-untyped-def]
    nodes, pubkey, recorder = cluster
    data = _attestation(5, 0xAB)
    body = {"type": "ATTESTATION", "fork_info": FORK_INFO, "attestation": data}
    results = await _sign_on(nodes[:3], pubkey, body)
    assert [status for status, _ in results] == [200, 200, 200]
    signatures = {r["signature"] for _, r in results}
    assert len(signatures) == 1
    from nektar.beacon.json_codec import decode

    root = attestation_signing_root(decode(AttestationData, data), bytes.fromhex("00000002"), GVR)
    assert bls.verify(pubkey, root, bytes.fromhex(signatures.pop()[2:]))

    randao = {"type": "RANDAO_REVEAL", "fork_info": FORK_INFO, "randao_reveal": {"epoch": "0"}}
    results = await _sign_on(nodes[1:], pubkey, randao)
    assert {s for s, _ in results} == {200}
    root = randao_reveal_signing_root(0, bytes.fromhex("00000001"), GVR)  # before the fork
    assert bls.verify(pubkey, root, bytes.fromhex(results[0][1]["signature"][2:]))
    _validate(openapi, recorder)


async def test_slashing_protection_and_errors(cluster, openapi: OpenAPI) -> None:  # type: ignore[no-untyped-def]
    nodes, pubkey, recorder = cluster
    first = {"type": "ATTESTATION", "fork_info": FORK_INFO, "attestation": _attestation(6, 1)}
    assert {s for s, _ in await _sign_on(nodes[:3], pubkey, first)} == {200}
    double = {"type": "ATTESTATION", "fork_info": FORK_INFO, "attestation": _attestation(6, 2)}
    results = await _sign_on(nodes[:3], pubkey, double)
    assert {s for s, _ in results} == {412}
    alone = {"type": "ATTESTATION", "fork_info": FORK_INFO, "attestation": _attestation(7, 3)}
    status, answer = (await _sign_on(nodes[:1], pubkey, alone))[0]
    assert status == 500 and "fewer than 3" in answer["message"]
    wrong_root = dict(first, signingRoot="0x" + "00" * 32)
    assert (await _sign_on(nodes[:1], pubkey, wrong_root))[0][0] == 400
    assert (await _sign_on(nodes[:1], b"\x01" * 48, first))[0][0] == 404
    async with aiohttp.ClientSession() as session:
        async with session.get(nodes[0].url + "/api/v1/eth2/publicKeys") as response:
            assert await response.json() == ["0x" + pubkey.hex()]
        async with session.get(nodes[0].url + "/upcheck") as response:
            assert response.status == 200
    _validate(openapi, recorder)
