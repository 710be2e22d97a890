"""`BeaconClient`: typed async access to any standard beacon node (or several, with fallback).

Every method maps to one endpoint of the beacon-APIs specification and returns parsed, typed
objects: pydantic models (`client.models`) for API objects, remerkleable containers for SSZ
types. Requests follow the specification exactly (quoted integers, hex, the
`Eth-Consensus-Version` header on v2 submissions) so that the same client works against
Lighthouse, Lodestar, Teku, Prysm, Nimbus and the devnet chain.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
from pydantic import BaseModel, TypeAdapter, ValidationError
from remerkleable.core import View

from nektar.beacon.chain.containers import (
    AttesterSlashing,
    ProposerSlashing,
    SignedBeaconBlock,
    SignedContributionAndProof,
    SignedVoluntaryExit,
)
from nektar.beacon.client import blocks
from nektar.beacon.client.events import BeaconEvent, parse_event
from nektar.beacon.client.models import (
    API_CONTEXT,
    AttesterDuty,
    BeaconCommitteeSelection,
    BeaconCommitteeSubscription,
    BlockHeaderInfo,
    DepositContract,
    Duties,
    FinalityCheckpoints,
    Fork,
    Genesis,
    NodeIdentity,
    PeerCount,
    ProposerDuty,
    ProposerPreparation,
    SyncCommitteeSelection,
    SyncCommitteeSubscription,
    SyncDuty,
    SyncingStatus,
    ValidatorBalance,
    ValidatorInfo,
)
from nektar.beacon.client.sse import SSEParser
from nektar.beacon.client.transport import (
    SSZ,
    BeaconAPIError,
    BeaconHTTPError,
    BeaconResponseError,
    BeaconUnavailableError,
    Response,
    Transport,
)
from nektar.beacon.json_codec import (
    CodecError,
    decode,
    decode_hex,
    decode_ssz,
    encode,
    encode_ssz,
)
from nektar.crypto.signing import (
    Attestation,
    AttestationData,
    SignedAggregateAndProof,
    SingleAttestation,
    SyncCommitteeContribution,
    SyncCommitteeMessage,
)

log = logging.getLogger("nektar.beacon.client")
M = TypeVar("M", bound=BaseModel)
V = TypeVar("V", bound=View)

StateId = str | int | bytes
"""head / genesis / finalized / justified, a slot number, or a 32-byte root."""

MAX_GET_IDS = 64  # the GET variants of validators/balances cap `id` at 64 items


@dataclass(frozen=True)
class ClockReport:
    """Where the local clock stands against the node's chain timing."""

    genesis_time: int
    slot_duration: float  # seconds
    local_slot: int  # wall-clock slot by the local clock
    slot_fraction: float  # how far into local_slot we are, 0 ≤ x < 1
    head_slot: int  # the node's head
    head_lag_slots: int  # local_slot - head_slot (≥ 0 when the node keeps up)
    date_offset: float | None  # node Date header − local time, seconds (1 s resolution)


class BeaconClient:
    """Async Beacon API client over one or more beacon nodes (first healthy one wins)."""

    def __init__(
        self,
        urls: str | Sequence[str],
        *,
        timeout: float = 5.0,
        retries: int = 2,
        backoff: float = 0.1,
        cooldown: float = 5.0,
    ) -> None:
        self.transport = Transport(
            [urls] if isinstance(urls, str) else list(urls),
            timeout=timeout,
            retries=retries,
            backoff=backoff,
            cooldown=cooldown,
        )

    async def close(self) -> None:
        await self.transport.close()

    async def __aenter__(self) -> BeaconClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ---- plumbing ----------------------------------------------------------------------

    async def _get(self, path: str, timeout: float | None = None, **params: Any) -> Response:
        return await self.transport.request("GET", path, params=_params(params), timeout=timeout)

    async def _post(
        self,
        path: str,
        body: Any,
        *,
        version: str | None = None,
        timeout: float | None = None,
        **params: Any,
    ) -> Response:
        headers = {"Eth-Consensus-Version": version} if version else None
        return await self.transport.request(
            "POST", path, params=_params(params), json_body=body, headers=headers, timeout=timeout
        )

    # ---- node --------------------------------------------------------------------------

    async def version(self) -> str:
        data = _data(await self._get("/eth/v1/node/version"))
        if not isinstance(data, dict) or not isinstance(data.get("version"), str):
            raise BeaconResponseError("node/version: data.version is not a string")
        return data["version"]

    async def syncing(self) -> SyncingStatus:
        return _model(SyncingStatus, _data(await self._get("/eth/v1/node/syncing")))

    async def identity(self) -> NodeIdentity:
        return _model(NodeIdentity, _data(await self._get("/eth/v1/node/identity")))

    async def peer_count(self) -> PeerCount:
        return _model(PeerCount, _data(await self._get("/eth/v1/node/peer_count")))

    async def check_nodes(self) -> dict[str, int | None]:
        """Probe every configured node's health: 200 ready, 206 syncing, None unreachable.
        Syncing or unreachable nodes are tried last until their cool-down ends."""
        return await self.transport.probe()

    async def health(self) -> int:
        """200 (ready) or 206 (syncing) from the first node that is not failing."""
        return (await self._get("/eth/v1/node/health")).status

    # ---- config ------------------------------------------------------------------------

    async def spec(self) -> dict[str, Any]:
        """The node's configuration values as sent (strings, hex, arrays)."""
        data = _data(await self._get("/eth/v1/config/spec"))
        if not isinstance(data, dict):
            raise BeaconResponseError("config/spec: data is not an object")
        return data

    async def fork_schedule(self) -> list[Fork]:
        data = _data(await self._get("/eth/v1/config/fork_schedule"))
        return _model(TypeAdapter(list[Fork]), data)

    async def deposit_contract(self) -> DepositContract:
        return _model(DepositContract, _data(await self._get("/eth/v1/config/deposit_contract")))

    # ---- beacon: genesis and state -----------------------------------------------------

    async def genesis(self) -> Genesis:
        return _model(Genesis, _data(await self._get("/eth/v1/beacon/genesis")))

    async def state_root(self, state_id: StateId = "head") -> bytes:
        data = _data(await self._get(f"/eth/v1/beacon/states/{_id(state_id)}/root"))
        if not isinstance(data, dict):
            raise BeaconResponseError("states/root: data is not an object")
        return _decoded(lambda: decode_hex(data.get("root"), 32, "data.root"))

    async def state_fork(self, state_id: StateId = "head") -> Fork:
        path = f"/eth/v1/beacon/states/{_id(state_id)}/fork"
        return _model(Fork, _data(await self._get(path)))

    async def finality_checkpoints(self, state_id: StateId = "head") -> FinalityCheckpoints:
        path = f"/eth/v1/beacon/states/{_id(state_id)}/finality_checkpoints"
        return _model(FinalityCheckpoints, _data(await self._get(path)))

    async def validators(
        self,
        state_id: StateId = "head",
        ids: Iterable[int | bytes] = (),
        statuses: Iterable[str] = (),
    ) -> list[ValidatorInfo]:
        """Validators by index or pubkey and status; POST for more than 64 ids (spec)."""
        path = f"/eth/v1/beacon/states/{_id(state_id)}/validators"
        id_list, status_list = [_validator_id(v) for v in ids], list(statuses)
        if len(id_list) > MAX_GET_IDS:
            response = await self._post(path, {"ids": id_list, "statuses": status_list})
        else:
            response = await self._get(path, id=id_list, status=status_list)
        return _model(TypeAdapter(list[ValidatorInfo]), _data(response))

    async def validator(
        self, validator_id: int | bytes, state_id: StateId = "head"
    ) -> ValidatorInfo:
        """One validator by index or pubkey (404 → BeaconHTTPError if unknown)."""
        path = f"/eth/v1/beacon/states/{_id(state_id)}/validators/{_validator_id(validator_id)}"
        return _model(ValidatorInfo, _data(await self._get(path)))

    async def validator_balances(
        self, state_id: StateId = "head", ids: Iterable[int | bytes] = ()
    ) -> list[ValidatorBalance]:
        path = f"/eth/v1/beacon/states/{_id(state_id)}/validator_balances"
        id_list = [_validator_id(v) for v in ids]
        if len(id_list) > MAX_GET_IDS:
            response = await self._post(path, id_list)
        else:
            response = await self._get(path, id=id_list)
        return _model(TypeAdapter(list[ValidatorBalance]), _data(response))

    # ---- beacon: blocks ----------------------------------------------------------------

    async def block_headers(
        self, slot: int | None = None, parent_root: bytes | None = None
    ) -> list[BlockHeaderInfo]:
        response = await self._get("/eth/v1/beacon/headers", slot=slot, parent_root=parent_root)
        return _model(TypeAdapter(list[BlockHeaderInfo]), _data(response))

    async def block_header(self, block_id: StateId = "head") -> BlockHeaderInfo:
        response = await self._get(f"/eth/v1/beacon/headers/{_id(block_id)}")
        return _model(BlockHeaderInfo, _data(response))

    async def block_root(self, block_id: StateId = "head") -> bytes:
        data = _data(await self._get(f"/eth/v1/beacon/blocks/{_id(block_id)}/root"))
        if not isinstance(data, dict):
            raise BeaconResponseError("blocks/root: data is not an object")
        return _decoded(lambda: decode_hex(data.get("root"), 32, "data.root"))

    async def block(
        self, block_id: StateId = "head", *, ssz: bool = False
    ) -> blocks.VersionedBlock:
        """A signed block (v2) with its fork name; `ssz=True` transfers it as SSZ."""
        response = await self.transport.request(
            "GET",
            f"/eth/v2/beacon/blocks/{_id(block_id)}",
            accept=SSZ if ssz else "application/json",
        )
        version = _version(response)
        signed_type = blocks.signed_block_type(version)
        if response.content_type == SSZ:
            return blocks.VersionedBlock(
                version, _decoded(lambda: decode_ssz(signed_type, response.body))
            )
        return blocks.VersionedBlock(version, _container(signed_type, _data(response)))

    async def produce_block(
        self,
        slot: int,
        randao_reveal: bytes,
        graffiti: bytes | None = None,
        *,
        ssz: bool = False,
        timeout: float | None = None,
    ) -> blocks.ProducedBlock:
        """An unsigned block (v3) for `slot`; the fork name and values come with it."""
        params = _params({"randao_reveal": randao_reveal, "graffiti": graffiti})
        response = await self.transport.request(
            "GET",
            f"/eth/v3/validator/blocks/{slot}",
            params=params,
            accept=SSZ if ssz else "application/json",
            timeout=timeout,
        )
        return _decoded(lambda: blocks.parse_produced(response))

    async def publish_block(
        self,
        signed: SignedBeaconBlock,
        version: str,
        *,
        kzg_proofs: Sequence[bytes] = (),
        blobs: Sequence[bytes] = (),
        broadcast_validation: str | None = None,
        ssz: bool = False,
        timeout: float | None = None,
    ) -> None:
        """POST /eth/v2/beacon/blocks with the block's fork in Eth-Consensus-Version; `ssz`
        sends the SSZ body (smaller and faster to parse for large blocks)."""
        contents = blocks.publish_contents(signed, version, kzg_proofs, blobs)
        params = {"broadcast_validation": broadcast_validation} if broadcast_validation else {}
        await self.transport.request(
            "POST",
            "/eth/v2/beacon/blocks",
            params=_params(params),
            json_body=None if ssz else encode(contents),
            ssz_body=encode_ssz(contents) if ssz else None,
            headers={"Eth-Consensus-Version": version},
            timeout=timeout,
        )

    # ---- beacon: pool ------------------------------------------------------------------

    async def submit_attestations(
        self, attestations: Sequence[SingleAttestation], version: str = "electra"
    ) -> None:
        """POST /eth/v2/beacon/pool/attestations (SingleAttestation from Electra on)."""
        await self._post(
            "/eth/v2/beacon/pool/attestations", [encode(a) for a in attestations], version=version
        )

    async def pool_attestations(
        self, slot: int | None = None, committee_index: int | None = None
    ) -> list[Attestation]:
        response = await self._get(
            "/eth/v2/beacon/pool/attestations", slot=slot, committee_index=committee_index
        )
        _require_electra(_version(response), "pool attestations")
        return _containers(Attestation, response)

    async def submit_sync_committee_messages(
        self, messages: Sequence[SyncCommitteeMessage]
    ) -> None:
        await self._post("/eth/v1/beacon/pool/sync_committees", [encode(m) for m in messages])

    async def submit_voluntary_exit(self, signed_exit: SignedVoluntaryExit) -> None:
        await self._post("/eth/v1/beacon/pool/voluntary_exits", encode(signed_exit))

    async def submit_proposer_slashing(self, slashing: ProposerSlashing) -> None:
        await self._post("/eth/v1/beacon/pool/proposer_slashings", encode(slashing))

    async def submit_attester_slashing(
        self, slashing: AttesterSlashing, version: str = "electra"
    ) -> None:
        await self._post(
            "/eth/v2/beacon/pool/attester_slashings", encode(slashing), version=version
        )

    async def pool_voluntary_exits(self) -> list[SignedVoluntaryExit]:
        return _containers(
            SignedVoluntaryExit, await self._get("/eth/v1/beacon/pool/voluntary_exits")
        )

    async def pool_proposer_slashings(self) -> list[ProposerSlashing]:
        response = await self._get("/eth/v1/beacon/pool/proposer_slashings")
        return _containers(ProposerSlashing, response)

    async def pool_attester_slashings(self) -> list[AttesterSlashing]:
        response = await self._get("/eth/v2/beacon/pool/attester_slashings")
        _require_electra(_version(response), "pool attester slashings")
        return _containers(AttesterSlashing, response)

    # ---- validator ---------------------------------------------------------------------

    async def attester_duties(
        self, epoch: int, indices: Sequence[int], *, timeout: float | None = None
    ) -> Duties[AttesterDuty]:
        response = await self._post(
            f"/eth/v1/validator/duties/attester/{epoch}",
            [str(i) for i in indices],
            timeout=timeout,
        )
        return _model(Duties[AttesterDuty], response.body)

    async def proposer_duties(self, epoch: int) -> Duties[ProposerDuty]:
        response = await self._get(f"/eth/v1/validator/duties/proposer/{epoch}")
        return _model(Duties[ProposerDuty], response.body)

    async def sync_duties(self, epoch: int, indices: Sequence[int]) -> Duties[SyncDuty]:
        response = await self._post(
            f"/eth/v1/validator/duties/sync/{epoch}", [str(i) for i in indices]
        )
        return _model(Duties[SyncDuty], response.body)

    async def attestation_data(
        self,
        slot: int,
        committee_index: int = 0,
        *,
        ssz: bool = False,
        timeout: float | None = None,
    ) -> AttestationData:
        """AttestationData for `slot` (from Electra the index is always 0)."""
        response = await self.transport.request(
            "GET",
            "/eth/v1/validator/attestation_data",
            params=_params({"slot": slot, "committee_index": committee_index}),
            accept=SSZ if ssz else "application/json",
            timeout=timeout,
        )
        if response.content_type == SSZ:
            return _decoded(lambda: decode_ssz(AttestationData, response.body))
        return _container(AttestationData, _data(response))

    async def aggregate_attestation(
        self, attestation_data_root: bytes, slot: int, committee_index: int
    ) -> Attestation:
        response = await self._get(
            "/eth/v2/validator/aggregate_attestation",
            attestation_data_root=attestation_data_root,
            slot=slot,
            committee_index=committee_index,
        )
        _require_electra(_version(response), "aggregate attestation")
        return _container(Attestation, _data(response))

    async def submit_aggregate_and_proofs(
        self, aggregates: Sequence[SignedAggregateAndProof], version: str = "electra"
    ) -> None:
        await self._post(
            "/eth/v2/validator/aggregate_and_proofs",
            [encode(a) for a in aggregates],
            version=version,
        )

    async def beacon_committee_subscriptions(
        self, subscriptions: Sequence[BeaconCommitteeSubscription]
    ) -> None:
        await self._post(
            "/eth/v1/validator/beacon_committee_subscriptions",
            [s.to_json() for s in subscriptions],
        )

    async def sync_committee_subscriptions(
        self, subscriptions: Sequence[SyncCommitteeSubscription]
    ) -> None:
        await self._post(
            "/eth/v1/validator/sync_committee_subscriptions",
            [s.to_json() for s in subscriptions],
        )

    async def prepare_beacon_proposer(self, preparations: Sequence[ProposerPreparation]) -> None:
        await self._post(
            "/eth/v1/validator/prepare_beacon_proposer", [p.to_json() for p in preparations]
        )

    async def sync_committee_contribution(
        self, slot: int, subcommittee_index: int, beacon_block_root: bytes
    ) -> SyncCommitteeContribution:
        response = await self._get(
            "/eth/v1/validator/sync_committee_contribution",
            slot=slot,
            subcommittee_index=subcommittee_index,
            beacon_block_root=beacon_block_root,
        )
        return _container(SyncCommitteeContribution, _data(response))

    async def submit_contribution_and_proofs(
        self, contributions: Sequence[SignedContributionAndProof]
    ) -> None:
        await self._post(
            "/eth/v1/validator/contribution_and_proofs", [encode(c) for c in contributions]
        )

    async def beacon_committee_selections(
        self, selections: Sequence[BeaconCommitteeSelection]
    ) -> list[BeaconCommitteeSelection]:
        """DVT: partial selection proofs in, combined proofs out (middleware endpoint)."""
        response = await self._post(
            "/eth/v1/validator/beacon_committee_selections", [s.to_json() for s in selections]
        )
        return _model(TypeAdapter(list[BeaconCommitteeSelection]), _data(response))

    async def sync_committee_selections(
        self, selections: Sequence[SyncCommitteeSelection]
    ) -> list[SyncCommitteeSelection]:
        response = await self._post(
            "/eth/v1/validator/sync_committee_selections", [s.to_json() for s in selections]
        )
        return _model(TypeAdapter(list[SyncCommitteeSelection]), _data(response))

    # ---- events ------------------------------------------------------------------------

    async def events(
        self, topics: Sequence[str], *, reconnect: bool = True, max_backoff: float = 5.0
    ) -> AsyncIterator[BeaconEvent]:
        """Typed events from `/eth/v1/events`; reconnects (with failover) when the stream
        drops, unless `reconnect` is False. Unknown topics arrive as raw JSON."""
        delay = self.transport.backoff
        while True:
            connected = False
            for base in self.transport.ordered_nodes():
                try:
                    async with self.transport.session.get(
                        base + "/eth/v1/events",
                        params=[("topics", t) for t in topics],
                        headers={"Accept": "text/event-stream"},
                        timeout=aiohttp.ClientTimeout(
                            total=None, sock_connect=self.transport.timeout
                        ),
                    ) as resp:
                        if 400 <= resp.status < 500:
                            raise BeaconHTTPError(
                                resp.status, (await resp.text())[:200], base + "/eth/v1/events"
                            )
                        if resp.status != 200:
                            continue
                        connected, delay = True, self.transport.backoff
                        parser = SSEParser()
                        async for chunk in resp.content.iter_any():
                            for message in parser.feed(chunk):
                                try:
                                    event = parse_event(message)
                                except BeaconResponseError as exc:
                                    log.warning("skipping malformed event: %s", exc)
                                    continue
                                yield event
                except (aiohttp.ClientError, TimeoutError):
                    pass
                if connected:
                    break
            if not reconnect:
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_backoff)

    # ---- clock -------------------------------------------------------------------------

    async def clock(self) -> ClockReport:
        """Compare the local clock with the node's genesis and slot timing, and its head."""
        genesis = await self.genesis()
        spec = await self.spec()
        slot_duration = slot_duration_seconds(spec)
        sent = time.time()
        response = await self._get("/eth/v1/node/syncing")
        received = response.received_at
        syncing = _model(SyncingStatus, _data(response))
        now = time.time()
        elapsed = max(0.0, now - genesis.genesis_time)
        local_slot = int(elapsed // slot_duration)
        date_offset = None
        if "Date" in response.headers:
            node_time = email.utils.parsedate_to_datetime(response.headers["Date"]).timestamp()
            date_offset = node_time - (sent + received) / 2
        return ClockReport(
            genesis_time=genesis.genesis_time,
            slot_duration=slot_duration,
            local_slot=local_slot,
            slot_fraction=(elapsed % slot_duration) / slot_duration,
            head_slot=syncing.head_slot,
            head_lag_slots=local_slot - syncing.head_slot,
            date_offset=date_offset,
        )


def slot_duration_seconds(spec: Mapping[str, Any]) -> float:
    """SLOT_DURATION_MS where the node has it (newer specs), else SECONDS_PER_SLOT."""
    try:
        if "SLOT_DURATION_MS" in spec:
            return int(spec["SLOT_DURATION_MS"]) / 1000
        return float(int(spec["SECONDS_PER_SLOT"]))
    except (KeyError, ValueError, TypeError) as exc:
        raise BeaconResponseError(f"config/spec lacks a valid slot duration: {exc}") from exc


# ---- helpers --------------------------------------------------------------------------


def _id(value: StateId) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


def _validator_id(value: int | bytes) -> str:
    return "0x" + value.hex() if isinstance(value, bytes) else str(value)


def _params(params: Mapping[str, Any]) -> dict[str, str | list[str]]:
    """Drop None and empty lists; bytes as 0x-hex; ints as decimal strings."""
    out: dict[str, str | list[str]] = {}
    for key, value in params.items():
        if value is None or (isinstance(value, list) and not value):
            continue
        if isinstance(value, bytes):
            out[key] = "0x" + value.hex()
        elif isinstance(value, list):
            out[key] = [str(v) for v in value]
        else:
            out[key] = str(value)
    return out


def _data(response: Response) -> Any:
    if not isinstance(response.body, dict) or "data" not in response.body:
        raise BeaconResponseError(f"{response.url}: response has no 'data' field")
    return response.body["data"]


def _version(response: Response) -> str:
    """The fork name of a versioned response: header first, then the body's `version`."""
    version = response.headers.get("Eth-Consensus-Version")
    if version is None and isinstance(response.body, dict):
        version = response.body.get("version")
    if not isinstance(version, str):
        raise BeaconResponseError(f"{response.url}: no Eth-Consensus-Version")
    return version.lower()


def _require_electra(version: str, what: str) -> None:
    if version not in blocks.ELECTRA_FORMAT_FORKS:
        raise BeaconResponseError(
            f"{what}: the node is at fork {version!r}; Nektar speaks the Electra formats"
        )


def _model(model: type[M] | TypeAdapter[Any], data: Any, what: str = "") -> Any:
    try:
        if isinstance(model, TypeAdapter):
            return model.validate_python(data, context=API_CONTEXT)
        return model.model_validate(data, context=API_CONTEXT)
    except ValidationError as exc:
        raise BeaconResponseError(f"unexpected response {what}: {exc}") from exc


def _container(typ: type[V], data: Any, path: str = "data") -> V:
    return _decoded(lambda: decode(typ, data, path))


def _containers(typ: type[V], response: Response) -> list[V]:
    data = _data(response)
    if not isinstance(data, list):
        raise BeaconResponseError(f"{response.url}: data is not an array")
    return [_container(typ, item, f"data[{i}]") for i, item in enumerate(data)]


def _decoded(parse: Any) -> Any:
    try:
        return parse()
    except CodecError as exc:
        raise BeaconResponseError(f"unexpected response: {exc}") from exc


__all__ = [
    "BeaconAPIError",
    "BeaconClient",
    "BeaconHTTPError",
    "BeaconResponseError",
    "BeaconUnavailableError",
    "ClockReport",
    "StateId",
    "slot_duration_seconds",
]
