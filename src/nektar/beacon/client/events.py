"""Typed events of the `/eth/v1/events` stream.

Known topics become pydantic models (head, block, finalized_checkpoint, chain_reorg) or SSZ
containers (attestation, single_attestation, voluntary_exit, contribution_and_proof); any
other topic arrives as its raw JSON so that a node's newer topics never break the stream.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from remerkleable.core import View

from nektar.beacon.chain.containers import SignedContributionAndProof, SignedVoluntaryExit
from nektar.beacon.client.models import (
    API_CONTEXT,
    BlockEvent,
    ChainReorgEvent,
    FinalizedCheckpointEvent,
    HeadEvent,
)
from nektar.beacon.client.sse import SSEMessage
from nektar.beacon.client.transport import BeaconResponseError
from nektar.beacon.json_codec import CodecError, decode
from nektar.crypto.signing import Attestation, SingleAttestation

MODEL_TOPICS: dict[str, type[BaseModel]] = {
    "head": HeadEvent,
    "block": BlockEvent,
    "finalized_checkpoint": FinalizedCheckpointEvent,
    "chain_reorg": ChainReorgEvent,
}
CONTAINER_TOPICS: dict[str, type[View]] = {
    "attestation": Attestation,
    "single_attestation": SingleAttestation,
    "voluntary_exit": SignedVoluntaryExit,
    "contribution_and_proof": SignedContributionAndProof,
}


@dataclass(frozen=True)
class BeaconEvent:
    """One event: its topic and the parsed payload (model, container, or raw JSON)."""

    topic: str
    data: Any


def parse_event(message: SSEMessage) -> BeaconEvent:
    """Parse one SSE message; `BeaconResponseError` if a known topic's payload is malformed."""
    try:
        payload = json.loads(message.data)
    except ValueError as exc:
        raise BeaconResponseError(f"event {message.event!r}: data is not JSON: {exc}") from exc
    try:
        if message.event in MODEL_TOPICS:
            return BeaconEvent(
                message.event,
                MODEL_TOPICS[message.event].model_validate(payload, context=API_CONTEXT),
            )
        if message.event in CONTAINER_TOPICS:
            typ = CONTAINER_TOPICS[message.event]
            return BeaconEvent(message.event, decode(typ, payload, message.event))
    except (ValidationError, CodecError) as exc:
        raise BeaconResponseError(f"event {message.event!r}: {exc}") from exc
    return BeaconEvent(message.event, payload)
