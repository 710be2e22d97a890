"""Typed async Beacon API client for any standard beacon node (see docs/beacon-api.md)."""

from nektar.beacon.client.api import BeaconClient, ClockReport, slot_duration_seconds
from nektar.beacon.client.blocks import ProducedBlock, VersionedBlock
from nektar.beacon.client.events import BeaconEvent
from nektar.beacon.client.transport import (
    BeaconAPIError,
    BeaconHTTPError,
    BeaconResponseError,
    BeaconUnavailableError,
)

__all__ = [
    "BeaconAPIError",
    "BeaconClient",
    "BeaconEvent",
    "BeaconHTTPError",
    "BeaconResponseError",
    "BeaconUnavailableError",
    "ClockReport",
    "ProducedBlock",
    "VersionedBlock",
    "slot_duration_seconds",
]
