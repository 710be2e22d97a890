"""Every endpoint, called by the project's client against the real devnet node behind the real
server; each request the client sent and each response the server gave is validated against
the beacon-APIs OpenAPI document with openapi-core."""

from __future__ import annotations

import asyncio

import pytest
from openapi_core import OpenAPI

from nektar.beacon.chain.containers import (
    AttesterSlashing,
    IndexedAttestation,
    ProposerSlashing,
    SignedBeaconBlockHeader,
    SignedContributionAndProof,
    SignedVoluntaryExit,
)
from nektar.beacon.chain.shuffling import sha256
from nektar.beacon.client import BeaconEvent, BeaconHTTPError
from nektar.beacon.client.models import (
    BeaconCommitteeSelection,
    BeaconCommitteeSubscription,
    ProposerPreparation,
    SyncCommitteeSelection,
    SyncCommitteeSubscription,
)
from nektar.crypto import bls
from nektar.crypto.signing import (
    AttestationData,
    BeaconBlockHeader,
    Checkpoint,
    ContributionAndProof,
    SingleAttestation,
    SyncAggregatorSelectionData,
    SyncCommitteeContribution,
    VoluntaryExit,
    attestation_signing_root,
    block_signing_root,
    contribution_and_proof_signing_root,
    randao_reveal_signing_root,
    sync_committee_message_signing_root,
    sync_selection_proof_signing_root,
    voluntary_exit_signing_root,
)

from .conftest import SECRET_KEYS, Served
from .openapi_check import validate_request, validate_response
from .tiny_vc import TinyValidatorClient

SUBCOMMITTEE_SIZE = 128
TARGET_SYNC_AGGREGATORS = 16


async def run_slot(served: Served, vc: TinyValidatorClient, slot: int) -> None:
    """One slot of the devnet with the tiny validator client acting over the API."""
    served.node.start_slot(slot)
    await vc.propose(slot)
    await vc.attest(slot)
    await vc.sync_messages(slot)
    served.node.attestation_deadline(slot)
    await vc.aggregate(slot)


async def node_and_state_queries(served: Served) -> None:
    client = served.client
    assert (await client.version()).startswith("Nektar/")
    assert not (await client.syncing()).is_syncing
    assert await client.health() == 200
    assert (await client.peer_count()).connected == 0
    await client.identity()
    spec = await client.spec()
    assert spec["SLOTS_PER_EPOCH"] == "8" and spec["SECONDS_PER_SLOT"] == "2"
    assert (await client.fork_schedule())[0].epoch == 0
    await client.deposit_contract()
    clock = await client.clock()
    assert clock.head_slot == 24 and clock.slot_duration == 2.0

    head = await client.block_header("head")
    state_root = await client.state_root("head")
    assert state_root == head.header.message.state_root
    for state_id in ("head", "genesis", "finalized", "justified", 20, state_root):
        await client.state_fork(state_id)
        await client.finality_checkpoints(state_id)
    everyone = await client.validators("head")
    assert len(everyone) == 8 and {v.status for v in everyone} == {"active_ongoing"}
    picked = await client.validators("head", ids=[3, everyone[5].validator.pubkey])
    assert sorted(v.index for v in picked) == [3, 5]
    assert (await client.validator(everyone[2].validator.pubkey)).index == 2
    assert len(await client.validators("head", statuses=["active"])) == 8
    assert await client.validators("head", statuses=["exited_unslashed"]) == []
    assert len(await client.validators("head", ids=list(range(70)))) == 8  # > 64 ids: POST
    assert sorted(b.index for b in await client.validator_balances("head", [0, 7])) == [0, 7]
    assert len(await client.validator_balances("head", list(range(65)))) == 8

    assert (await client.block_headers(slot=24))[0].root == head.root
    await client.block_headers(parent_root=head.header.message.parent_root)
    assert await client.block_root("head") == head.root
    block = await client.block("head")
    block_ssz = await client.block(head.root, ssz=True)
    assert block.version == block_ssz.version == "electra"
    assert block.block == block_ssz.block
    assert block.block.message.hash_tree_root() == head.root


async def next_external_proposal(served: Served, vc: TinyValidatorClient) -> int:
    """Move the chain to the next slot whose proposer is one of the tiny client's validators."""
    slot = served.node.current_slot() + 1
    while True:
        duties = (await served.client.proposer_duties(slot // 8)).data
        if any(d.slot == slot and d.validator_index in vc.keys for d in duties):
            served.node.start_slot(slot)
            return slot
        slot += 1


async def produce_both_ways(served: Served, vc: TinyValidatorClient, slot: int) -> None:
    """produce block v3 as JSON and as SSZ: the same block either way."""
    duties = (await served.client.proposer_duties(slot // 8)).data
    proposer = next(d.validator_index for d in duties if d.slot == slot)
    reveal = bls.sign(
        SECRET_KEYS[proposer],
        randao_reveal_signing_root(slot // 8, vc.fork_version, vc.genesis_root),
    )
    as_json = await served.client.produce_block(slot, reveal, b"\x01" * 32)
    as_ssz = await served.client.produce_block(slot, reveal, b"\x01" * 32, ssz=True)
    assert as_json.block == as_ssz.block and as_json.block.slot == slot
    assert as_json.version == as_ssz.version == "electra"


async def sync_contribution(served: Served, vc: TinyValidatorClient, slot: int) -> None:
    """Find a (validator, subcommittee) selected as sync aggregator at `slot` and submit a
    contribution-and-proof: the node's contribution if it has one (404 is the spec's answer
    when it has none), else the aggregator's own message as a one-member contribution."""
    client = served.client
    duties = await client.sync_duties(slot // 8, list(SECRET_KEYS))
    assert {d.validator_index for d in duties.data} == set(SECRET_KEYS)
    head = await client.block_root("head")
    modulo = SUBCOMMITTEE_SIZE // TARGET_SYNC_AGGREGATORS
    for duty in duties.data:
        sk = SECRET_KEYS[duty.validator_index]
        for sub in sorted({p // SUBCOMMITTEE_SIZE for p in duty.validator_sync_committee_indices}):
            selection = SyncAggregatorSelectionData(slot=slot, subcommittee_index=sub)
            proof = bls.sign(
                sk, sync_selection_proof_signing_root(selection, vc.fork_version, vc.genesis_root)
            )
            if int.from_bytes(sha256(proof)[:8], "little") % modulo:
                continue
            try:
                contribution = await client.sync_committee_contribution(slot, sub, head)
            except BeaconHTTPError as exc:
                assert exc.status == 404
                contribution = own_contribution(
                    vc, sk, duty.validator_sync_committee_indices, sub, slot, head
                )
            message = ContributionAndProof(
                aggregator_index=duty.validator_index,
                contribution=contribution,
                selection_proof=proof,
            )
            root = contribution_and_proof_signing_root(message, vc.fork_version, vc.genesis_root)
            signed = SignedContributionAndProof(message=message, signature=bls.sign(sk, root))
            await client.submit_contribution_and_proofs([signed])
            return
    raise AssertionError(f"no sync aggregator at slot {slot}")


def own_contribution(
    vc: TinyValidatorClient, sk: int, positions: list[int], sub: int, slot: int, head: bytes
) -> SyncCommitteeContribution:
    """A contribution of one validator: its bits in the subcommittee, its signature once per
    bit (the spec verifies against the committee pubkeys of the set bits, repeats included)."""
    mine = [p - sub * SUBCOMMITTEE_SIZE for p in positions if p // SUBCOMMITTEE_SIZE == sub]
    signature = bls.sign(
        sk, sync_committee_message_signing_root(head, vc.fork_version, vc.genesis_root)
    )
    return SyncCommitteeContribution(
        slot=slot,
        beacon_block_root=head,
        subcommittee_index=sub,
        aggregation_bits=[i in mine for i in range(SUBCOMMITTEE_SIZE)],
        signature=bls.aggregate([signature] * len(mine)),
    )


async def exit_and_slashings(served: Served, vc: TinyValidatorClient, spec: dict) -> None:
    client, node = served.client, served.node
    epoch = node.current_slot() // 8
    capella = bytes.fromhex(spec["CAPELLA_FORK_VERSION"][2:])  # EIP-7044: exits stay valid
    message = VoluntaryExit(epoch=epoch, validator_index=5)
    signature = bls.sign(
        SECRET_KEYS[5], voluntary_exit_signing_root(message, capella, vc.genesis_root)
    )
    await client.submit_voluntary_exit(SignedVoluntaryExit(message=message, signature=signature))

    def signed_header(body_root: bytes) -> SignedBeaconBlockHeader:
        header = BeaconBlockHeader(slot=3, proposer_index=4, body_root=body_root)
        root = block_signing_root(header, vc.fork_version, vc.genesis_root)
        return SignedBeaconBlockHeader(message=header, signature=bls.sign(SECRET_KEYS[4], root))

    await client.submit_proposer_slashing(
        ProposerSlashing(
            signed_header_1=signed_header(b"\x01" * 32), signed_header_2=signed_header(b"\x02" * 32)
        )
    )

    def vote(root: bytes) -> IndexedAttestation:
        data = AttestationData(
            slot=epoch * 8 - 8,
            beacon_block_root=root,
            source=Checkpoint(epoch=0),
            target=Checkpoint(epoch=epoch - 1, root=root),
        )
        signing_root = attestation_signing_root(data, vc.fork_version, vc.genesis_root)
        return IndexedAttestation(
            attesting_indices=[3], data=data, signature=bls.sign(SECRET_KEYS[3], signing_root)
        )

    await client.submit_attester_slashing(
        AttesterSlashing(attestation_1=vote(b"\x03" * 32), attestation_2=vote(b"\x04" * 32))
    )
    assert len(await client.pool_voluntary_exits()) == 1
    assert len(await client.pool_proposer_slashings()) == 1
    assert len(await client.pool_attester_slashings()) == 1


async def events(served: Served) -> list[BeaconEvent]:
    """Subscribe, move the chain two slots, and collect what arrives."""
    topics = ["head", "block", "attestation", "single_attestation", "finalized_checkpoint"]
    received: list[BeaconEvent] = []

    async def listen() -> None:
        async for event in served.client.events([*topics, "chain_reorg"], reconnect=False):
            received.append(event)

    task = asyncio.create_task(listen())
    await asyncio.sleep(0.2)  # let the subscription reach the node
    served.node.advance_slots(2)
    for _ in range(50):
        if {"head", "block"} <= {e.topic for e in received}:
            break
        await asyncio.sleep(0.05)
    task.cancel()
    return received


async def dvt_and_subscriptions(served: Served, slot: int) -> None:
    client = served.client
    proof = b"\x99" * 96
    selections = [BeaconCommitteeSelection(validator_index=1, slot=slot, selection_proof=proof)]
    assert await client.beacon_committee_selections(selections) == selections
    sync_selections = [
        SyncCommitteeSelection(
            validator_index=1, slot=slot, subcommittee_index=2, selection_proof=proof
        )
    ]
    assert await client.sync_committee_selections(sync_selections) == sync_selections
    await client.beacon_committee_subscriptions(
        [
            BeaconCommitteeSubscription(
                validator_index=7,
                committee_index=0,
                committees_at_slot=1,
                slot=slot,
                is_aggregator=True,
            )
        ]
    )
    await client.sync_committee_subscriptions(
        [SyncCommitteeSubscription(validator_index=7, sync_committee_indices=[1], until_epoch=9)]
    )
    await client.prepare_beacon_proposer(
        [ProposerPreparation(validator_index=7, fee_recipient=b"\x07" * 20)]
    )


async def rejected_items_are_reported(served: Served, slot: int) -> None:
    """A badly signed attestation: 400 with a `failures` entry naming item 0."""
    data = await served.client.attestation_data(slot)
    forged = SingleAttestation(
        committee_index=0, attester_index=1, data=data, signature=bls.sign(SECRET_KEYS[2], b"x")
    )
    with pytest.raises(BeaconHTTPError) as caught:
        await served.client.submit_attestations([forged])
    assert caught.value.status == 400
    assert [f["index"] for f in caught.value.failures] == [0]


async def test_every_endpoint_conforms(served: Served, openapi: OpenAPI) -> None:
    client, node = served.client, served.node
    await node_and_state_queries(served)

    vc = TinyValidatorClient(client, {6: SECRET_KEYS[6], 7: SECRET_KEYS[7]})
    await vc.setup()
    for slot in range(25, 33):
        await run_slot(served, vc, slot)
    assert sorted(vc.attestations) == [6, 7] and vc.aggregates  # committees of one
    slot = node.current_slot()
    await rejected_items_are_reported(served, slot)
    pooled = await client.pool_attestations(slot=slot - 1)
    assert all(a.data.slot == slot - 1 for a in pooled)
    await client.attestation_data(slot, ssz=True)
    data_root = bytes((await client.attestation_data(slot - 1)).hash_tree_root())
    await client.aggregate_attestation(data_root, slot - 1, 0)

    slot = await next_external_proposal(served, vc)
    await produce_both_ways(served, vc, slot)
    vc.ssz_blocks = True  # (the loop above published JSON blocks)
    await vc.propose(slot)
    assert vc.proposals[-1] == slot
    await vc.sync_messages(slot)
    node.attestation_deadline(slot)  # managed validators' sync messages fill the subnets
    await sync_contribution(served, vc, slot)
    await dvt_and_subscriptions(served, slot)
    received = await events(served)
    assert {"head", "block"} <= {e.topic for e in received}
    await exit_and_slashings(served, vc, await client.spec())  # last: no block after them

    for exchange in served.recorder.exchanges:
        validate_request(openapi, exchange)
        validate_response(openapi, exchange)
    exercised = {e.request.match_info.route.resource.canonical for e in served.recorder.exchanges}
    served_routes = {r.resource.canonical for r in served.server.app.router.routes()}
    assert served_routes == exercised, f"not exercised: {served_routes - exercised}"
