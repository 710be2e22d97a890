"""Routes of the node, config and beacon namespaces (state, blocks, pools)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from remerkleable.complex import List

from nektar.beacon.chain.containers import (
    AttesterSlashing,
    ProposerSlashing,
    SignedVoluntaryExit,
)
from nektar.beacon.chain.interface import BeaconNode, StateRef
from nektar.beacon.client.blocks import SignedBlockContents
from nektar.beacon.client.models import STATUS_GROUPS
from nektar.beacon.json_codec import CodecError, decode, decode_ssz, encode
from nektar.beacon.server.http import (
    ApiError,
    bad_request,
    consensus_version_header,
    data_response,
    indexed_errors,
    json_body,
    offers_ssz,
    optional_uint,
    parse_block_id,
    parse_root,
    parse_state_id,
    parse_validator_id,
    request_is_ssz,
    split_query_list,
    ssz_response,
    submit_items,
    wants_ssz,
)
from nektar.beacon.server.render import render
from nektar.crypto.signing import SingleAttestation, SyncCommitteeMessage

MAX_GET_VALIDATOR_IDS = 64
FORK_NAMES = ("phase0", "altair", "bellatrix", "capella", "deneb", "electra", "fulu", "gloas")
ELECTRA_FORKS = ("electra", "fulu")
STATUSES = frozenset(STATUS_GROUPS) | {s for group in STATUS_GROUPS.values() for s in group}
BROADCAST_VALIDATION = ("gossip", "consensus", "consensus_and_equivocation")
POOL_LIMIT = 2048 * 64  # MAX_VALIDATORS_PER_COMMITTEE * MAX_COMMITTEES_PER_SLOT (spec's SSZ list)


NODE_KEY = web.AppKey("node", BeaconNode)


def node_of(request: web.Request) -> BeaconNode:
    return request.app[NODE_KEY]


def meta(ref: StateRef) -> dict[str, Any]:
    return {"execution_optimistic": ref.execution_optimistic, "finalized": ref.finalized}


# ---- node ---------------------------------------------------------------------------------


async def node_version(request: web.Request) -> web.Response:
    identity = await asyncio.to_thread(node_of(request).identity)
    return data_response({"version": identity.version})


async def node_syncing(request: web.Request) -> web.Response:
    identity = await asyncio.to_thread(node_of(request).identity)
    return data_response(
        {
            "head_slot": str(identity.head_slot),
            "sync_distance": str(identity.sync_distance),
            "is_syncing": identity.syncing,
            "is_optimistic": False,
            "el_offline": False,
        }
    )


async def node_health(request: web.Request) -> web.Response:
    syncing_status = request.query.get("syncing_status")
    status = 206
    if syncing_status is not None:
        if not (syncing_status.isascii() and syncing_status.isdigit()):
            raise bad_request(f"Invalid syncing_status: {syncing_status[:40]}")
        status = int(syncing_status)
        if not 100 <= status <= 599:
            raise bad_request(f"Invalid syncing_status: {status} is not in 100..599")
    syncing = (await asyncio.to_thread(node_of(request).identity)).syncing
    return web.Response(status=status if syncing else 200)


async def node_identity(request: web.Request) -> web.Response:
    identity = await asyncio.to_thread(node_of(request).identity)
    return data_response(
        {
            "peer_id": identity.peer_id,
            "enr": identity.extra.get("enr", ""),
            "p2p_addresses": [],
            "discovery_addresses": [],
            "metadata": {"seq_number": "0", "attnets": "0x" + "00" * 8, "syncnets": "0x00"},
        }
    )


async def node_peer_count(request: web.Request) -> web.Response:
    zero = "0"
    return data_response(
        {"disconnected": zero, "connecting": zero, "connected": zero, "disconnecting": zero}
    )


# ---- config -------------------------------------------------------------------------------


async def config_spec(request: web.Request) -> web.Response:
    return data_response(node_of(request).spec())


async def config_fork_schedule(request: web.Request) -> web.Response:
    return data_response(render(node_of(request).fork_schedule()))


async def config_deposit_contract(request: web.Request) -> web.Response:
    chain_id, address = node_of(request).deposit_contract()
    return data_response({"chain_id": str(chain_id), "address": address})


# ---- beacon: state ------------------------------------------------------------------------


async def genesis(request: web.Request) -> web.Response:
    return data_response(render(node_of(request).genesis()))


def _state(request: web.Request) -> str | int | bytes:
    return parse_state_id(request.match_info["state_id"])


async def state_root(request: web.Request) -> web.Response:
    ref = await asyncio.to_thread(node_of(request).state_ref, _state(request))
    return data_response({"root": "0x" + ref.state_root.hex()}, **meta(ref))


async def state_fork(request: web.Request) -> web.Response:
    state_id = _state(request)
    node = node_of(request)
    ref = await asyncio.to_thread(node.state_ref, state_id)
    fork = await asyncio.to_thread(node.state_fork, state_id)
    return data_response(render(fork), **meta(ref))


async def finality_checkpoints(request: web.Request) -> web.Response:
    result = await asyncio.to_thread(node_of(request).finality_checkpoints, _state(request))
    return data_response(render(result, exclude=("ref",)), **meta(result.ref))


def _statuses(values: Sequence[Any]) -> list[str]:
    for value in values:
        if value not in STATUSES:
            raise bad_request(f"Invalid validator status: {str(value)[:60]}")
    return list(values)


def _ids(values: Sequence[Any]) -> list[int | bytes]:
    return [parse_validator_id(v) for v in values]


async def _id_filters(request: web.Request, post_shape: str) -> tuple[list, list[str]]:
    """Validator ids (and statuses) from the query (GET) or the body (POST)."""
    if request.method == "GET":
        ids = split_query_list(request, "id")
        if len(ids) > MAX_GET_VALIDATOR_IDS:
            raise ApiError(414, f"Too many validator IDs in request: {len(ids)} > 64")
        return _ids(ids), _statuses(split_query_list(request, "status"))
    body = await json_body(request)
    if post_shape == "list":
        if not isinstance(body, list):
            raise bad_request("Request body must be a JSON array of validator IDs")
        return _ids(body), []
    if not isinstance(body, dict):
        raise bad_request("Request body must be a JSON object with 'ids' and/or 'statuses'")
    ids, statuses = body.get("ids") or [], body.get("statuses") or []
    if not isinstance(ids, list) or not isinstance(statuses, list):
        raise bad_request("'ids' and 'statuses' must be JSON arrays or null")
    return _ids(ids), _statuses(statuses)


async def validators(request: web.Request) -> web.Response:
    state_id = _state(request)
    ids, statuses = await _id_filters(request, "object")
    result = await asyncio.to_thread(node_of(request).validators, state_id, ids, statuses)
    return data_response(render(result.data), **meta(result.ref))


async def validator(request: web.Request) -> web.Response:
    state_id = _state(request)
    validator_id = parse_validator_id(request.match_info["validator_id"])
    node = node_of(request)
    ref = await asyncio.to_thread(node.state_ref, state_id)
    info = await asyncio.to_thread(node.validator, state_id, validator_id)
    return data_response(render(info), **meta(ref))


async def validator_balances(request: web.Request) -> web.Response:
    state_id = _state(request)
    ids, _ = await _id_filters(request, "list")
    result = await asyncio.to_thread(node_of(request).balances, state_id, ids)
    return data_response(render(result.data), **meta(result.ref))


# ---- beacon: blocks -----------------------------------------------------------------------

_HEADER_META = ("finalized", "execution_optimistic")


async def headers(request: web.Request) -> web.Response:
    slot = optional_uint(request, "slot")
    parent = request.query.get("parent_root")
    parent_root = None if parent is None else parse_root(parent, "parent_root")
    found = await asyncio.to_thread(node_of(request).headers, slot, parent_root)
    return data_response(
        render(found, exclude=_HEADER_META),
        execution_optimistic=any(h.execution_optimistic for h in found),
        finalized=bool(found) and all(h.finalized for h in found),
    )


async def header(request: web.Request) -> web.Response:
    block_id = parse_block_id(request.match_info["block_id"])
    info = await asyncio.to_thread(node_of(request).header, block_id)
    return data_response(
        render(info, exclude=_HEADER_META),
        execution_optimistic=info.execution_optimistic,
        finalized=info.finalized,
    )


@offers_ssz
async def block_v2(request: web.Request) -> web.Response:
    block_id = parse_block_id(request.match_info["block_id"])
    ssz = wants_ssz(request, ssz_supported=True)
    info = await asyncio.to_thread(node_of(request).block, block_id)
    if ssz:
        return ssz_response(info.block, info.version)
    return data_response(
        encode(info.block),
        version=info.version,
        execution_optimistic=info.execution_optimistic,
        finalized=info.finalized,
    )


async def block_root(request: web.Request) -> web.Response:
    block_id = parse_block_id(request.match_info["block_id"])
    node = node_of(request)
    root = await asyncio.to_thread(node.block_root, block_id)
    info = await asyncio.to_thread(node.header, root)
    return data_response(
        {"root": "0x" + root.hex()},
        execution_optimistic=info.execution_optimistic,
        finalized=info.finalized,
    )


async def publish_block_v2(request: web.Request) -> web.Response:
    version = consensus_version_header(request, FORK_NAMES)
    validation = request.query.get("broadcast_validation", "gossip")
    if validation not in BROADCAST_VALIDATION:
        raise bad_request(f"Invalid broadcast_validation: {validation[:40]}")
    if version not in ELECTRA_FORKS:
        raise bad_request(f"Unsupported block version {version}: this chain is at Electra")
    try:
        if request_is_ssz(request, ssz_supported=True):
            contents = decode_ssz(SignedBlockContents, await request.read(), "body")
        else:
            contents = decode(SignedBlockContents, await json_body(request), "body")
    except CodecError as exc:
        raise bad_request(f"Invalid block: {exc}") from exc
    await asyncio.to_thread(node_of(request).submit_block, contents.signed_block)
    return web.Response(status=200)


# ---- beacon: pools ------------------------------------------------------------------------


async def pool_attestations(request: web.Request) -> web.Response:
    slot = optional_uint(request, "slot")
    committee_index = optional_uint(request, "committee_index")
    found = await asyncio.to_thread(node_of(request).pool_attestations, slot, committee_index)
    return data_response([encode(a) for a in found], version="electra")


async def submit_pool_attestations(request: web.Request) -> web.Response:
    version = consensus_version_header(request, FORK_NAMES)
    if version not in ELECTRA_FORKS:
        raise bad_request(f"Unsupported attestation version {version}: send SingleAttestation")
    return await submit_items(
        request,
        SingleAttestation,
        node_of(request).submit_attestations,
        List[SingleAttestation, POOL_LIMIT],
    )


async def submit_pool_sync_committees(request: web.Request) -> web.Response:
    return await submit_items(request, SyncCommitteeMessage, node_of(request).submit_sync_messages)


async def _single(request: web.Request, typ: type) -> Any:
    try:
        return decode(typ, await json_body(request), "body")
    except CodecError as exc:
        raise bad_request(f"Invalid request body: {exc}") from exc


async def pool_voluntary_exits(request: web.Request) -> web.Response:
    return data_response([encode(e) for e in node_of(request).pool_voluntary_exits()])


async def submit_voluntary_exit(request: web.Request) -> web.Response:
    exit_message = await _single(request, SignedVoluntaryExit)
    await asyncio.to_thread(node_of(request).submit_voluntary_exit, exit_message)
    return web.Response(status=200)


async def pool_proposer_slashings(request: web.Request) -> web.Response:
    return data_response([encode(s) for s in node_of(request).pool_proposer_slashings()])


async def submit_proposer_slashing(request: web.Request) -> web.Response:
    slashing = await _single(request, ProposerSlashing)
    await asyncio.to_thread(node_of(request).submit_proposer_slashing, slashing)
    return web.Response(status=200)


async def pool_attester_slashings(request: web.Request) -> web.Response:
    found = node_of(request).pool_attester_slashings()
    return data_response([encode(s) for s in found], version="electra")


async def submit_attester_slashing(request: web.Request) -> web.Response:
    version = consensus_version_header(request, FORK_NAMES)
    if version not in ELECTRA_FORKS:
        raise bad_request(f"Unsupported attester slashing version {version}")
    slashing = await _single(request, AttesterSlashing)
    await asyncio.to_thread(node_of(request).submit_attester_slashing, slashing)
    return web.Response(status=200)


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/eth/v1/node/version", node_version)
    r.add_get("/eth/v1/node/syncing", node_syncing)
    r.add_get("/eth/v1/node/health", node_health)
    r.add_get("/eth/v1/node/identity", node_identity)
    r.add_get("/eth/v1/node/peer_count", node_peer_count)
    r.add_get("/eth/v1/config/spec", config_spec)
    r.add_get("/eth/v1/config/fork_schedule", config_fork_schedule)
    r.add_get("/eth/v1/config/deposit_contract", config_deposit_contract)
    r.add_get("/eth/v1/beacon/genesis", genesis)
    states = "/eth/v1/beacon/states/{state_id:[^/]+}"
    r.add_get(states + "/root", state_root)
    r.add_get(states + "/fork", state_fork)
    r.add_get(states + "/finality_checkpoints", finality_checkpoints)
    r.add_get(states + "/validators", validators)
    r.add_post(states + "/validators", validators)
    r.add_get(states + "/validators/{validator_id:[^/]+}", validator)
    r.add_get(states + "/validator_balances", validator_balances)
    r.add_post(states + "/validator_balances", validator_balances)
    r.add_get("/eth/v1/beacon/headers", headers)
    r.add_get("/eth/v1/beacon/headers/{block_id:[^/]+}", header)
    r.add_get("/eth/v2/beacon/blocks/{block_id:[^/]+}", block_v2)
    r.add_get("/eth/v1/beacon/blocks/{block_id:[^/]+}/root", block_root)
    r.add_post("/eth/v2/beacon/blocks", publish_block_v2)
    r.add_get("/eth/v2/beacon/pool/attestations", pool_attestations)
    r.add_post("/eth/v2/beacon/pool/attestations", indexed_errors(submit_pool_attestations))
    r.add_post("/eth/v1/beacon/pool/sync_committees", indexed_errors(submit_pool_sync_committees))
    r.add_get("/eth/v1/beacon/pool/voluntary_exits", pool_voluntary_exits)
    r.add_post("/eth/v1/beacon/pool/voluntary_exits", submit_voluntary_exit)
    r.add_get("/eth/v1/beacon/pool/proposer_slashings", pool_proposer_slashings)
    r.add_post("/eth/v1/beacon/pool/proposer_slashings", submit_proposer_slashing)
    r.add_get("/eth/v2/beacon/pool/attester_slashings", pool_attester_slashings)
    r.add_post("/eth/v2/beacon/pool/attester_slashings", submit_attester_slashing)
