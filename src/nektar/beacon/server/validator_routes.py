"""Routes of the validator namespace: duties, production, aggregation, subscriptions, DVT."""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, TypeAdapter, ValidationError
from remerkleable.complex import List

from nektar.beacon.chain import interface as chain
from nektar.beacon.chain.containers import SignedContributionAndProof
from nektar.beacon.client.blocks import BlockContents
from nektar.beacon.client.models import (
    API_CONTEXT,
    BeaconCommitteeSelection,
    BeaconCommitteeSubscription,
    ProposerPreparation,
    SyncCommitteeSelection,
    SyncCommitteeSubscription,
)
from nektar.beacon.json_codec import CodecError, decode_hex, encode
from nektar.beacon.server.beacon_routes import ELECTRA_FORKS, FORK_NAMES, node_of
from nektar.beacon.server.http import (
    bad_request,
    consensus_version_header,
    container_response,
    data_response,
    indexed_errors,
    json_body,
    offers_ssz,
    parse_root,
    parse_uint,
    ssz_response,
    submit_items,
    wants_ssz,
)
from nektar.beacon.server.render import render
from nektar.crypto.signing import SignedAggregateAndProof

M = TypeVar("M", bound=BaseModel)
MAX_AGGREGATES = 2048 * 64  # the spec's SSZ list limit for batch submissions


def _epoch(request: web.Request) -> int:
    return parse_uint(request.match_info["epoch"], "epoch")


async def _indices(request: web.Request) -> list[int]:
    body = await json_body(request)
    if not isinstance(body, list) or not body:
        raise bad_request("Request body must be a non-empty JSON array of validator indices")
    for i, value in enumerate(body):
        if not isinstance(value, str):
            raise bad_request(f"Invalid index {i}: expected a quoted decimal, got {value!r:.40}")
    return [parse_uint(value, f"index {i}") for i, value in enumerate(body)]


async def _models(request: web.Request, model: type[M]) -> list[M]:
    body = await json_body(request)
    if not isinstance(body, list):
        raise bad_request("Request body must be a JSON array")
    try:
        return TypeAdapter(list[model]).validate_python(body, context=API_CONTEXT)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise bad_request(f"Invalid request body at {where}: {first['msg']}") from exc


def _duties(result: Any) -> web.Response:
    return data_response(
        render(result.data),
        dependent_root="0x" + result.dependent_root.hex(),
        execution_optimistic=result.execution_optimistic,
    )


# ---- duties -------------------------------------------------------------------------------


async def attester_duties(request: web.Request) -> web.Response:
    epoch = _epoch(request)
    indices = await _indices(request)
    result = await asyncio.to_thread(node_of(request).attester_duties, epoch, indices)
    return await asyncio.to_thread(_duties, result)


async def proposer_duties(request: web.Request) -> web.Response:
    result = await asyncio.to_thread(node_of(request).proposer_duties, _epoch(request))
    return _duties(result)


async def sync_duties(request: web.Request) -> web.Response:
    epoch = _epoch(request)
    indices = await _indices(request)
    result = await asyncio.to_thread(node_of(request).sync_duties, epoch, indices)
    return data_response(render(result.data), execution_optimistic=result.execution_optimistic)


# ---- production ---------------------------------------------------------------------------


@offers_ssz
async def attestation_data(request: web.Request) -> web.Response:
    slot = parse_uint(request.query.get("slot"), "slot")
    index = request.query.get("committee_index")
    committee_index = 0 if index is None else parse_uint(index, "committee_index")
    ssz = wants_ssz(request, ssz_supported=True)
    data = await asyncio.to_thread(node_of(request).attestation_data, slot, committee_index)
    return ssz_response(data) if ssz else data_response(encode(data))


@offers_ssz
async def aggregate_attestation(request: web.Request) -> web.Response:
    root = parse_root(request.query.get("attestation_data_root"), "attestation_data_root")
    slot = parse_uint(request.query.get("slot"), "slot")
    committee_index = parse_uint(request.query.get("committee_index"), "committee_index")
    aggregate = await asyncio.to_thread(
        node_of(request).aggregate_attestation, slot, root, committee_index
    )
    return container_response(request, aggregate, version="electra")


@offers_ssz
async def produce_block_v3(request: web.Request) -> web.Response:
    slot = parse_uint(request.match_info["slot"], "slot")
    try:
        randao_reveal = decode_hex(request.query.get("randao_reveal"), 96, "randao_reveal")
        graffiti_text = request.query.get("graffiti")
        graffiti = b"" if graffiti_text is None else decode_hex(graffiti_text, 32, "graffiti")
    except CodecError as exc:
        raise bad_request(f"Invalid block production request: {exc}") from exc
    if "builder_boost_factor" in request.query:
        parse_uint(request.query["builder_boost_factor"], "builder_boost_factor")
    skip = request.query.get("skip_randao_verification")
    if skip not in (None, ""):
        raise bad_request("skip_randao_verification takes no value")
    ssz = wants_ssz(request, ssz_supported=True)
    produced = await asyncio.to_thread(
        node_of(request).produce_block, slot, randao_reveal, graffiti
    )
    contents = BlockContents(block=produced.block, kzg_proofs=[], blobs=[])
    headers = {
        "Eth-Execution-Payload-Blinded": "false",
        "Eth-Execution-Payload-Value": str(produced.execution_payload_value),
        "Eth-Consensus-Block-Value": str(produced.consensus_block_value),
    }
    if ssz:
        return ssz_response(contents, produced.version, **headers)
    return data_response(
        encode(contents),
        version=produced.version,
        headers=headers,
        execution_payload_blinded=False,
        execution_payload_value=str(produced.execution_payload_value),
        consensus_block_value=str(produced.consensus_block_value),
    )


async def sync_committee_contribution(request: web.Request) -> web.Response:
    slot = parse_uint(request.query.get("slot"), "slot")
    subcommittee = parse_uint(request.query.get("subcommittee_index"), "subcommittee_index")
    root = parse_root(request.query.get("beacon_block_root"), "beacon_block_root")
    contribution = await asyncio.to_thread(
        node_of(request).sync_committee_contribution, slot, subcommittee, root
    )
    return data_response(encode(contribution))


# ---- submissions --------------------------------------------------------------------------


async def aggregate_and_proofs(request: web.Request) -> web.Response:
    version = consensus_version_header(request, FORK_NAMES)
    if version not in ELECTRA_FORKS:
        raise bad_request(f"Unsupported aggregate version {version}: this chain is at Electra")
    return await submit_items(
        request,
        SignedAggregateAndProof,
        node_of(request).submit_aggregates,
        List[SignedAggregateAndProof, MAX_AGGREGATES],
    )


async def contribution_and_proofs(request: web.Request) -> web.Response:
    node = node_of(request)
    return await submit_items(request, SignedContributionAndProof, node.submit_contributions)


async def beacon_committee_subscriptions(request: web.Request) -> web.Response:
    """Validated and acknowledged: a single devnet node has no subnets to join."""
    await _models(request, BeaconCommitteeSubscription)
    return web.Response(status=200)


async def sync_committee_subscriptions(request: web.Request) -> web.Response:
    await _models(request, SyncCommitteeSubscription)
    return web.Response(status=200)


async def prepare_beacon_proposer(request: web.Request) -> web.Response:
    """Validated and acknowledged: devnet payloads are placeholders without fees."""
    await _models(request, ProposerPreparation)
    return web.Response(status=200)


async def beacon_committee_selections(request: web.Request) -> web.Response:
    selections = await _models(request, BeaconCommitteeSelection)
    result = node_of(request).beacon_committee_selections(
        [chain.BeaconCommitteeSelection(**s.model_dump()) for s in selections]
    )
    return data_response(render(result))


async def sync_committee_selections(request: web.Request) -> web.Response:
    selections = await _models(request, SyncCommitteeSelection)
    result = node_of(request).sync_committee_selections(
        [chain.SyncCommitteeSelection(**s.model_dump()) for s in selections]
    )
    return data_response(render(result))


def add_routes(app: web.Application) -> None:
    r = app.router
    v = "/eth/v1/validator"
    r.add_post(v + "/duties/attester/{epoch:[^/]+}", attester_duties)
    r.add_get(v + "/duties/proposer/{epoch:[^/]+}", proposer_duties)
    r.add_post(v + "/duties/sync/{epoch:[^/]+}", sync_duties)
    r.add_get(v + "/attestation_data", attestation_data)
    r.add_get("/eth/v2/validator/aggregate_attestation", aggregate_attestation)
    r.add_get("/eth/v3/validator/blocks/{slot:[^/]+}", produce_block_v3)
    r.add_get(v + "/sync_committee_contribution", sync_committee_contribution)
    r.add_post("/eth/v2/validator/aggregate_and_proofs", indexed_errors(aggregate_and_proofs))
    r.add_post(v + "/contribution_and_proofs", indexed_errors(contribution_and_proofs))
    r.add_post(v + "/beacon_committee_subscriptions", beacon_committee_subscriptions)
    r.add_post(v + "/sync_committee_subscriptions", sync_committee_subscriptions)
    r.add_post(v + "/prepare_beacon_proposer", prepare_beacon_proposer)
    r.add_post(v + "/beacon_committee_selections", beacon_committee_selections)
    r.add_post(v + "/sync_committee_selections", sync_committee_selections)
