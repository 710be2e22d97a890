"""Signer stage: slashing protection FIRST, then the partial signature with the key share.

Signing roots come from `nektar.crypto.signing` with the domain of the chain the beacon node
follows. Blocks and attestations pass through the EIP-3076 store (one transaction for a
slot's attestations); a refusal is logged, counted and that validator is skipped. Messages
that cannot be slashed (randao reveals, selection proofs, aggregates, exits) are signed
directly.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from nektar.beacon.chain.containers import BeaconBlock, block_header
from nektar.crypto import bls
from nektar.crypto.networks import ChainConfig
from nektar.crypto.signing import (
    AggregateAndProof,
    AttestationData,
    ContributionAndProof,
    SyncAggregatorSelectionData,
    VoluntaryExit,
    aggregate_and_proof_signing_root,
    attestation_signing_root,
    block_signing_root,
    contribution_and_proof_signing_root,
    randao_reveal_signing_root,
    selection_proof_signing_root,
    sync_committee_message_signing_root,
    sync_selection_proof_signing_root,
    voluntary_exit_signing_root,
)
from nektar.crypto.slashing_protection import (
    AttestationRequest,
    SlashableError,
    SlashingProtectionDB,
)
from nektar.stinger.datadir import Validator
from nektar.stinger.metrics import Metrics

log = logging.getLogger("nektar.stinger.signer")


@dataclass(frozen=True)
class Partial:
    """This node's (or a peer's) signature share over `root` for validator `pubkey`; `point`
    is the signature as a G2 point when this node made it (the aggregator combines points,
    so it need not decompress its own signatures again)."""

    pubkey: bytes
    root: bytes
    signature: bytes
    point: bls.G2Point | None = field(default=None, compare=False, repr=False)


class Signer:
    def __init__(
        self, chain: ChainConfig, protection: SlashingProtectionDB, metrics: Metrics
    ) -> None:
        self.chain = chain
        self.protection = protection
        self.metrics = metrics

    def _version(self, epoch: int) -> bytes:
        return self.chain.fork_version_at_epoch(epoch)

    @property
    def _gvr(self) -> bytes:
        return self.chain.genesis_validators_root

    # --- slashable messages -----------------------------------------------------------
    def attestation_root(self, data: AttestationData) -> bytes:
        return attestation_signing_root(data, self._version(int(data.target.epoch)), self._gvr)

    def allow_attestations(
        self, data: AttestationData, validators: Sequence[Validator]
    ) -> tuple[bytes, list[Validator]]:
        """(signing root, the validators the slashing-protection store lets sign `data`): one
        EIP-3076 transaction records them all; the caller then signs with `sign_root`."""
        root = self.attestation_root(data)
        source, target = int(data.source.epoch), int(data.target.epoch)
        verdicts = self.protection.check_and_record_attestations(
            [AttestationRequest(v.pubkey, source, target, root) for v in validators]
        )
        allowed = []
        for validator, refusal in zip(validators, verdicts, strict=True):
            if refusal is not None:
                self._refused("attester", validator, refusal)
            else:
                allowed.append(validator)
        return root, allowed

    def block_root(self, block: BeaconBlock) -> bytes:
        epoch = self.chain.epoch_at_slot(int(block.slot))
        return block_signing_root(block_header(block), self._version(epoch), self._gvr)

    def sign_block(self, validator: Validator, block: BeaconBlock) -> Partial | None:
        root = self.block_root(block)
        try:
            self.protection.check_and_record_block(validator.pubkey, int(block.slot), root)
        except SlashableError as refusal:
            self._refused("proposer", validator, refusal)
            return None
        return self._sign(validator, root)

    # --- messages that cannot be slashed ----------------------------------------------
    def randao_root(self, epoch: int) -> bytes:
        return randao_reveal_signing_root(epoch, self._version(epoch), self._gvr)

    def selection_root(self, slot: int) -> bytes:
        epoch = self.chain.epoch_at_slot(slot)
        return selection_proof_signing_root(slot, self._version(epoch), self._gvr)

    def aggregate_root(self, message: AggregateAndProof) -> bytes:
        epoch = self.chain.epoch_at_slot(int(message.aggregate.data.slot))
        return aggregate_and_proof_signing_root(message, self._version(epoch), self._gvr)

    def sync_message_root(self, slot: int, block_root: bytes) -> bytes:
        epoch = self.chain.epoch_at_slot(slot)
        return sync_committee_message_signing_root(block_root, self._version(epoch), self._gvr)

    def sync_selection_root(self, slot: int, subcommittee: int) -> bytes:
        data = SyncAggregatorSelectionData(slot=slot, subcommittee_index=subcommittee)
        epoch = self.chain.epoch_at_slot(slot)
        return sync_selection_proof_signing_root(data, self._version(epoch), self._gvr)

    def contribution_root(self, message: ContributionAndProof) -> bytes:
        epoch = self.chain.epoch_at_slot(int(message.contribution.slot))
        return contribution_and_proof_signing_root(message, self._version(epoch), self._gvr)

    def exit_root(self, message: VoluntaryExit) -> bytes:
        return voluntary_exit_signing_root(
            message, self.chain.voluntary_exit_fork_version, self._gvr
        )

    def sign_root(self, validator: Validator, root: bytes) -> Partial:
        """Partial over an unslashable message's root (callers compute it with *_root), or
        over an attestation root `allow_attestations` allowed."""
        return self._sign(validator, root)

    def _sign(self, validator: Validator, root: bytes) -> Partial:
        # threshold.partial_sign's computation (an ordinary BLS signature under the share:
        # share·H(root)), keeping the point for the aggregator
        point = bls.g2_mul(bls.hash_to_g2(root), validator.share)
        return Partial(validator.pubkey, root, point.compress(), point)

    def _refused(self, duty: str, validator: Validator, refusal: SlashableError) -> None:
        self.metrics.slashing_refusals.labels(duty).inc()
        self.metrics.duties_failed.labels(duty, "slashing_protection").inc()
        log.warning(
            "slashing protection refused %s for 0x%s: %s",
            duty,
            validator.pubkey.hex()[:16],
            refusal,
        )
