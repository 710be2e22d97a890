"""A tiny validator client that works only through the Beacon API (`BeaconClient`).

It holds plain BLS keys and, per slot, does what a stock validator client does: fetch duties,
propose (randao reveal → produce v3 → sign → publish v2), attest (attestation data → sign →
SingleAttestation), aggregate when selected, and sign sync committee messages. Signing roots
come from `nektar.crypto.signing`; the fork version and genesis root come from the API.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nektar.beacon.chain.containers import BeaconBlock, SignedBeaconBlock, block_header
from nektar.beacon.chain.shuffling import sha256
from nektar.beacon.client import BeaconClient
from nektar.beacon.client.models import AttesterDuty, ProposerDuty, SyncDuty
from nektar.crypto import bls
from nektar.crypto.signing import (
    AggregateAndProof,
    SignedAggregateAndProof,
    SingleAttestation,
    SyncCommitteeMessage,
    aggregate_and_proof_signing_root,
    attestation_signing_root,
    block_signing_root,
    randao_reveal_signing_root,
    selection_proof_signing_root,
    sync_committee_message_signing_root,
)


@dataclass
class TinyValidatorClient:
    client: BeaconClient
    keys: dict[int, int]  # validator index → secret key
    ssz_blocks: bool = False  # publish blocks as SSZ instead of JSON
    target_aggregators: int = 16
    fork_version: bytes = b""
    genesis_root: bytes = b""
    slots_per_epoch: int = 0
    proposals: list[int] = field(default_factory=list)
    attestations: list[int] = field(default_factory=list)
    aggregates: list[int] = field(default_factory=list)
    _attester: dict[int, list[AttesterDuty]] = field(default_factory=dict)
    _proposer: dict[int, list[ProposerDuty]] = field(default_factory=dict)
    _sync: dict[int, list[SyncDuty]] = field(default_factory=dict)
    _data_roots: dict[int, tuple[int, bytes]] = field(default_factory=dict)

    async def setup(self) -> None:
        genesis = await self.client.genesis()
        spec = await self.client.spec()
        fork = await self.client.state_fork("head")
        self.genesis_root = genesis.genesis_validators_root
        self.fork_version = fork.current_version
        self.slots_per_epoch = int(spec["SLOTS_PER_EPOCH"])

    def _sign(self, index: int, root: bytes) -> bytes:
        return bls.sign(self.keys[index], root)

    async def _duties(self, epoch: int) -> None:
        if epoch not in self._attester:
            duties = await self.client.attester_duties(epoch, sorted(self.keys))
            self._attester[epoch] = duties.data
            self._proposer[epoch] = (await self.client.proposer_duties(epoch)).data

    async def propose(self, slot: int) -> None:
        epoch = slot // self.slots_per_epoch
        await self._duties(epoch)
        for duty in self._proposer[epoch]:
            if duty.slot != slot or duty.validator_index not in self.keys:
                continue
            index = duty.validator_index
            reveal = self._sign(
                index, randao_reveal_signing_root(epoch, self.fork_version, self.genesis_root)
            )
            produced = await self.client.produce_block(slot, reveal, b"tiny-vc".ljust(32, b"\0"))
            block: BeaconBlock = produced.block
            header = block_header(block)
            signature = self._sign(
                index, block_signing_root(header, self.fork_version, self.genesis_root)
            )
            signed = SignedBeaconBlock(message=block, signature=signature)
            await self.client.publish_block(signed, produced.version, ssz=self.ssz_blocks)
            self.proposals.append(slot)

    async def attest(self, slot: int) -> None:
        epoch = slot // self.slots_per_epoch
        await self._duties(epoch)
        mine = [d for d in self._attester[epoch] if d.slot == slot]
        if not mine:
            return
        data = await self.client.attestation_data(slot)
        root = attestation_signing_root(data, self.fork_version, self.genesis_root)
        single = [
            SingleAttestation(
                committee_index=d.committee_index,
                attester_index=d.validator_index,
                data=data,
                signature=self._sign(d.validator_index, root),
            )
            for d in mine
        ]
        await self.client.submit_attestations(single)
        self.attestations.extend(d.validator_index for d in mine)
        for d in mine:
            self._data_roots[d.validator_index] = (slot, bytes(data.hash_tree_root()))

    async def aggregate(self, slot: int) -> None:
        """Aggregate for the committees we attested in at `slot`, when selected."""
        epoch = slot // self.slots_per_epoch
        signed = []
        for duty in (d for d in self._attester.get(epoch, []) if d.slot == slot):
            proof = self._sign(
                duty.validator_index,
                selection_proof_signing_root(slot, self.fork_version, self.genesis_root),
            )
            modulo = max(1, duty.committee_length // self.target_aggregators)
            if int.from_bytes(sha256(proof)[:8], "little") % modulo:
                continue
            _, data_root = self._data_roots[duty.validator_index]
            aggregate = await self.client.aggregate_attestation(
                data_root, slot, duty.committee_index
            )
            message = AggregateAndProof(
                aggregator_index=duty.validator_index, aggregate=aggregate, selection_proof=proof
            )
            root = aggregate_and_proof_signing_root(message, self.fork_version, self.genesis_root)
            signed.append(
                SignedAggregateAndProof(
                    message=message, signature=self._sign(duty.validator_index, root)
                )
            )
        if signed:
            await self.client.submit_aggregate_and_proofs(signed)
            self.aggregates.extend(int(s.message.aggregator_index) for s in signed)

    async def sync_messages(self, slot: int) -> None:
        """Sign the head for `slot`: the committee of slot + 1's epoch signs (Altair spec)."""
        epoch = (slot + 1) // self.slots_per_epoch
        if epoch not in self._sync:
            self._sync[epoch] = (await self.client.sync_duties(epoch, sorted(self.keys))).data
        duties = self._sync[epoch]
        if not duties:
            return
        head = await self.client.block_root("head")
        root = sync_committee_message_signing_root(head, self.fork_version, self.genesis_root)
        await self.client.submit_sync_committee_messages(
            [
                SyncCommitteeMessage(
                    slot=slot,
                    beacon_block_root=head,
                    validator_index=d.validator_index,
                    signature=self._sign(d.validator_index, root),
                )
                for d in duties
            ]
        )
