"""`GET /eth/v1/events`: the node's events as a Server-Sent Events stream.

Attestations: the node reports aggregates (`Attestation`) and single attestations
(`SingleAttestation`) on one internal topic; the API splits them as Electra clients do —
aggregates on `attestation`, single ones on `single_attestation`.
"""

from __future__ import annotations

import json
import weakref
from typing import Any

from aiohttp import web

from nektar.beacon.chain.interface import EVENT_TOPICS, AttestationEvent, EventStream
from nektar.beacon.server.beacon_routes import node_of
from nektar.beacon.server.http import bad_request, split_query_list
from nektar.beacon.server.render import render
from nektar.crypto.signing import SingleAttestation

SERVED_TOPICS = {
    "head": "head",
    "block": "block",
    "attestation": "attestation",
    "single_attestation": "attestation",
    "finalized_checkpoint": "finalized_checkpoint",
    "chain_reorg": "chain_reorg",
}
STREAMS_KEY = web.AppKey("event_streams", weakref.WeakSet)


async def events(request: web.Request) -> web.StreamResponse:
    topics = split_query_list(request, "topics")
    if not topics:
        raise bad_request("Missing required parameter: topics")
    for topic in topics:
        if topic not in SERVED_TOPICS:
            raise bad_request(f"Invalid topic: {topic[:60]}")
    stream = node_of(request).subscribe(sorted({SERVED_TOPICS[t] for t in topics}))
    request.app[STREAMS_KEY].add(stream)
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    try:
        await response.prepare(request)
        await response.write(b": subscribed\n\n")
        await _pump(stream, set(topics), response)
    except (ConnectionResetError, ConnectionError):
        pass  # the subscriber went away
    finally:
        stream.close()
    return response


async def _pump(stream: EventStream, wanted: set[str], response: web.StreamResponse) -> None:
    async for event in stream:
        topic, payload = _topic_and_payload(event)
        if topic in wanted:
            data = json.dumps(payload, separators=(",", ":"))
            await response.write(f"event: {topic}\ndata: {data}\n\n".encode())


def _topic_and_payload(event: Any) -> tuple[str, Any]:
    if isinstance(event, AttestationEvent):
        topic = (
            "single_attestation"
            if isinstance(event.attestation, SingleAttestation)
            else "attestation"
        )
        return topic, render(event.attestation)
    return EVENT_TOPICS[type(event)], render(event)


async def close_streams(app: web.Application) -> None:
    """On shutdown: end every open event stream so its handler returns."""
    for stream in list(app[STREAMS_KEY]):
        stream.close()
