"""A Web3Signer-compatible remote-signing endpoint backed by the cluster (remote-signing-api
v1.1: `POST /api/v1/eth2/sign/{identifier}`, `GET /api/v1/eth2/publicKeys`, `GET /upcheck`).

A stock validator client pointed at its operator's node asks for a signature with the group
public key as identifier. The node recomputes the signing root from the request (a
`signingRoot` field that disagrees is refused), passes the EIP-3076 check (blocks and
attestations; refusal → 412), signs its share, exchanges partials with the other members
exactly as the duty workflow does, and answers with the group signature once t members —
each asked by its own validator client for the same message — signed the same root. Fewer
than t in time → 500 with the reason. No consensus runs here: validator clients that fetch
different data for a duty cannot be combined, which the error says.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aiohttp import web

from nektar.beacon.json_codec import CodecError, decode, decode_hex, decode_uint
from nektar.crypto import threshold
from nektar.crypto.signing import (
    DOMAIN_BEACON_ATTESTER,
    DOMAIN_BEACON_PROPOSER,
    DOMAIN_RANDAO,
    DOMAIN_SELECTION_PROOF,
    DOMAIN_SYNC_COMMITTEE,
    DOMAIN_VOLUNTARY_EXIT,
    AttestationData,
    BeaconBlockHeader,
    Epoch,
    Root,
    Slot,
    VoluntaryExit,
    compute_domain,
    compute_signing_root,
)
from nektar.crypto.slashing_protection import SlashableError, SlashingProtectionDB
from nektar.stinger.aggregator import Aggregator
from nektar.stinger.datadir import Validator
from nektar.stinger.duties import Duty, DutyType
from nektar.stinger.parsigex import ParSigEx
from nektar.stinger.signer import Partial

log = logging.getLogger("nektar.stinger.remotesigner")


class SigningRequestError(ValueError):
    """A request that cannot be signed as sent (400)."""


class RemoteSigner:
    def __init__(
        self,
        lookup: Callable[[bytes], Validator | None],
        pubkeys: Callable[[], list[bytes]],
        protection: SlashingProtectionDB,
        parsigex: ParSigEx,
        aggregator: Aggregator,
        slots_per_epoch: int,
        timeout: float = 4.0,
    ) -> None:
        self.lookup = lookup
        self.pubkeys = pubkeys
        self.protection = protection
        self.parsigex = parsigex
        self.aggregator = aggregator
        self.slots_per_epoch = slots_per_epoch
        self.timeout = timeout

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/api/v1/eth2/sign/{identifier}", self.sign)
        app.router.add_get("/api/v1/eth2/publicKeys", self.public_keys)
        app.router.add_get("/upcheck", self.upcheck)

    async def upcheck(self, _: web.Request) -> web.Response:
        return web.Response(text="OK")

    async def public_keys(self, _: web.Request) -> web.Response:
        return web.json_response(["0x" + pk.hex() for pk in self.pubkeys()])

    async def sign(self, request: web.Request) -> web.Response:
        try:
            pubkey = decode_hex(request.match_info["identifier"], 48, "identifier")
        except CodecError as exc:
            return _error(400, str(exc))
        validator = self.lookup(pubkey)
        if validator is None:
            return _error(404, f"public key 0x{pubkey.hex()} is not a validator of this node")
        try:
            body = await request.json()
            duty, root = self._root(body)
        except (ValueError, CodecError, KeyError, TypeError) as exc:
            return _error(400, f"bad signing request: {exc}")
        try:
            self._protect(duty, validator, body, root)
        except SlashableError as exc:
            return _error(412, f"refused by slashing protection: {exc}")
        partial = Partial(pubkey, root, threshold.partial_sign(validator.share, root))
        await self.parsigex.exchange(duty, [partial])
        found = await self.aggregator.collect(duty, [(pubkey, root)], self.timeout)
        if pubkey not in found:
            return _error(
                500,
                f"fewer than {validator.definition.threshold} cluster members signed this "
                f"{duty.type.name.lower()} message within {self.timeout} s (their validator "
                "clients must request the same message from their nodes)",
            )
        signature = "0x" + found[pubkey].hex()
        accept = request.headers.get("Accept", "")
        if "text/plain" in accept and "application/json" not in accept:
            return web.Response(text=signature)
        return web.json_response({"signature": signature})

    # ------------------------------------------------------------------ request parsing
    def _root(self, body: dict[str, Any]) -> tuple[Duty, bytes]:
        """(duty, signing root) of a request, computed from its typed content."""
        kind = body["type"]
        fork_info = body["fork_info"]
        fork = fork_info["fork"]
        gvr = decode_hex(fork_info["genesis_validators_root"], 32, "genesis_validators_root")
        if gvr != self.protection.genesis_validators_root:
            raise SigningRequestError("genesis_validators_root is not this node's chain")
        previous = decode_hex(fork["previous_version"], 4, "fork.previous_version")
        current = decode_hex(fork["current_version"], 4, "fork.current_version")
        fork_epoch = decode_uint(fork["epoch"], 64, "fork.epoch")

        def domain(domain_type: bytes, epoch: int) -> bytes:
            return compute_domain(domain_type, current if epoch >= fork_epoch else previous, gvr)

        spe = self.slots_per_epoch
        if kind == "ATTESTATION":
            data = decode(AttestationData, body["attestation"], "attestation")
            epoch = int(data.target.epoch)
            duty = Duty(DutyType.ATTESTER, int(data.slot))
            root = compute_signing_root(
                data.hash_tree_root(), domain(DOMAIN_BEACON_ATTESTER, epoch)
            )
        elif kind == "BLOCK_V2":
            header = decode(BeaconBlockHeader, body["beacon_block"]["block_header"], "block_header")
            slot = int(header.slot)
            duty = Duty(DutyType.PROPOSER, slot)
            root = compute_signing_root(
                header.hash_tree_root(), domain(DOMAIN_BEACON_PROPOSER, slot // spe)
            )
        elif kind == "RANDAO_REVEAL":
            epoch = decode_uint(body["randao_reveal"]["epoch"], 64, "randao_reveal.epoch")
            duty = Duty(DutyType.RANDAO, epoch * spe)
            root = compute_signing_root(Epoch(epoch).hash_tree_root(), domain(DOMAIN_RANDAO, epoch))
        elif kind == "AGGREGATION_SLOT":
            slot = decode_uint(body["aggregation_slot"]["slot"], 64, "aggregation_slot.slot")
            duty = Duty(DutyType.SELECTION, slot)
            root = compute_signing_root(
                Slot(slot).hash_tree_root(), domain(DOMAIN_SELECTION_PROOF, slot // spe)
            )
        elif kind == "VOLUNTARY_EXIT":
            message = decode(VoluntaryExit, body["voluntary_exit"], "voluntary_exit")
            epoch = int(message.epoch)
            duty = Duty(DutyType.EXIT, epoch * spe)
            root = compute_signing_root(
                message.hash_tree_root(), domain(DOMAIN_VOLUNTARY_EXIT, epoch)
            )
        elif kind == "SYNC_COMMITTEE_MESSAGE":
            message = body["sync_committee_message"]
            slot = decode_uint(message["slot"], 64, "sync_committee_message.slot")
            block_root = decode_hex(message["beacon_block_root"], 32, "beacon_block_root")
            duty = Duty(DutyType.SYNC_MESSAGE, slot)
            root = compute_signing_root(
                Root(block_root).hash_tree_root(), domain(DOMAIN_SYNC_COMMITTEE, slot // spe)
            )
        else:
            raise SigningRequestError(f"signing type {kind!r} is not served by a cluster node")
        claimed = body.get("signingRoot")
        if claimed is not None and decode_hex(claimed, 32, "signingRoot") != root:
            raise SigningRequestError("signingRoot does not match the message")
        return duty, bytes(root)

    def _protect(self, duty: Duty, validator: Validator, body: dict[str, Any], root: bytes) -> None:
        if duty.type == DutyType.ATTESTER:
            data = body["attestation"]
            self.protection.check_and_record_attestation(
                validator.pubkey,
                decode_uint(data["source"]["epoch"]),
                decode_uint(data["target"]["epoch"]),
                root,
            )
        elif duty.type == DutyType.PROPOSER:
            self.protection.check_and_record_block(validator.pubkey, duty.slot, root)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"code": status, "message": message}, status=status)
