"""Block processing (electra `process_block` and its operations) and `state_transition`.

Signatures are not verified inline: each check adds a set to a `SignatureBatch`, verified once
per block (see signatures.py). The execution payload is the devnet's deterministic placeholder
(there is no execution layer): a block is valid only if its payload equals
`expected_payload(...)`, the stand-in for the engine API's `notify_new_payload`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from nektar.beacon.chain import containers as c
from nektar.beacon.chain.config import (
    FAR_FUTURE_EPOCH,
    PARTICIPATION_FLAG_WEIGHTS,
    PROPOSER_WEIGHT,
    SYNC_REWARD_WEIGHT,
    TIMELY_HEAD_FLAG_INDEX,
    TIMELY_SOURCE_FLAG_INDEX,
    TIMELY_TARGET_FLAG_INDEX,
    UNSET_DEPOSIT_REQUESTS_START_INDEX,
    WEIGHT_DENOMINATOR,
)
from nektar.beacon.chain.epoch import (
    ZERO_ROOT,
    TransitionError,
    initiate_validator_exit,
    process_slots,
    slash_validator,
)
from nektar.beacon.chain.shuffling import sha256
from nektar.beacon.chain.signatures import SignatureBatch, SignatureError, signing_root
from nektar.beacon.chain.state import CP, BeaconState, PendingDepositRecord
from nektar.crypto.signing import (
    DOMAIN_BEACON_ATTESTER,
    DOMAIN_BEACON_PROPOSER,
    DOMAIN_RANDAO,
    DOMAIN_SYNC_COMMITTEE,
    DOMAIN_VOLUNTARY_EXIT,
    SYNC_COMMITTEE_SIZE,
    Attestation,
    AttestationData,
    BeaconBlockHeader,
    Epoch,
    Root,
    compute_domain,
)

EXTRA_DATA = b"nektar-devnet"
BASE_FEE_PER_GAS = 7


def check(condition: bool, message: str) -> None:
    if not condition:
        raise TransitionError(message)


# -- execution payload placeholder -----------------------------------------------------------


def expected_withdrawals(state: BeaconState) -> list[c.Withdrawal]:
    """get_expected_withdrawals (capella sweep; no EIP-7002 partial requests on the devnet)."""
    cfg = state.cfg
    epoch = state.current_epoch
    withdrawals: list[c.Withdrawal] = []
    n = len(state.validators)
    index = state.next_withdrawal_index
    validator_index = state.next_withdrawal_validator_index
    for _ in range(min(n, cfg.max_validators_per_withdrawals_sweep)):
        v = state.validators[validator_index]
        balance = state.balances[validator_index]
        amount = 0
        if v.has_execution_withdrawal_credential:
            max_balance = state.max_effective_balance(v)
            if v.withdrawable_epoch <= epoch and balance > 0:
                amount = balance
            elif v.effective_balance == max_balance and balance > max_balance:
                amount = balance - max_balance
        if amount:
            withdrawals.append(
                c.build(
                    c.Withdrawal,
                    index=index,
                    validator_index=validator_index,
                    address=v.execution_address,
                    amount=amount,
                )
            )
            index += 1
        if len(withdrawals) == cfg.max_withdrawals_per_payload:
            break
        validator_index = (validator_index + 1) % n
    return withdrawals


def expected_payload(
    state: BeaconState, withdrawals: Sequence[c.Withdrawal], requests: c.ExecutionRequests
) -> c.ExecutionPayload:
    """The placeholder payload of the block at `state.slot` (state before the block's RANDAO).

    Fields a client checks are real: parent hash chains payloads, prev_randao is the state's
    mix, the timestamp is the slot's, the withdrawals are the expected ones. The block hash is
    sha256 of the payload root (with a zero hash) and the execution requests' root."""
    parent = state.latest_execution_payload_header
    payload = c.build(
        c.ExecutionPayload,
        parent_hash=parent.block_hash,
        prev_randao=state.randao_mix(state.current_epoch),
        block_number=int(parent.block_number) + 1,
        gas_limit=state.cfg.gas_limit,
        timestamp=state.genesis_time + state.slot * state.cfg.seconds_per_slot,
        extra_data=EXTRA_DATA,
        base_fee_per_gas=BASE_FEE_PER_GAS,
        withdrawals=list(withdrawals),
    )
    payload.block_hash = sha256(bytes(payload.hash_tree_root()) + bytes(requests.hash_tree_root()))
    return payload


def payload_header(payload: c.ExecutionPayload) -> c.ExecutionPayloadHeader:
    return c.build(
        c.ExecutionPayloadHeader,
        parent_hash=payload.parent_hash,
        fee_recipient=payload.fee_recipient,
        state_root=payload.state_root,
        receipts_root=payload.receipts_root,
        logs_bloom=payload.logs_bloom,
        prev_randao=payload.prev_randao,
        block_number=payload.block_number,
        gas_limit=payload.gas_limit,
        gas_used=payload.gas_used,
        timestamp=payload.timestamp,
        extra_data=payload.extra_data,
        base_fee_per_gas=payload.base_fee_per_gas,
        block_hash=payload.block_hash,
        transactions_root=payload.transactions.hash_tree_root(),
        withdrawals_root=payload.withdrawals.hash_tree_root(),
        blob_gas_used=payload.blob_gas_used,
        excess_blob_gas=payload.excess_blob_gas,
    )


# -- block -----------------------------------------------------------------------------------


def state_transition(
    state: BeaconState,
    signed_block: c.SignedBeaconBlock,
    expected_requests: c.ExecutionRequests,
    batch: SignatureBatch | None = None,
    check_state_root: bool = True,
) -> None:
    """Apply a signed block to `state` (mutated in place); raise TransitionError if invalid.

    `expected_requests` are the execution requests the (simulated) execution layer reports for
    this block: the node's next DepositEvent logs."""
    block = signed_block.message
    if int(block.slot) > state.slot:
        process_slots(state, int(block.slot))
    batch = SignatureBatch() if batch is None else batch
    proposer = (
        state.validators[int(block.proposer_index)]
        if int(block.proposer_index) < len(state.validators)
        else None
    )
    check(proposer is not None, f"unknown proposer index {int(block.proposer_index)}")
    batch.add(
        "block signature",
        proposer.pubkey,  # type: ignore[union-attr]
        signing_root(block.hash_tree_root(), state.domain(DOMAIN_BEACON_PROPOSER)),
        bytes(signed_block.signature),
    )
    process_block(state, block, expected_requests, batch)
    try:
        batch.verify()
    except SignatureError as exc:
        raise TransitionError(str(exc)) from None
    if check_state_root:
        root = state.hash_tree_root()
        check(bytes(block.state_root) == root, "state root does not match the post-state")


def process_block(
    state: BeaconState,
    block: c.BeaconBlock,
    expected_requests: c.ExecutionRequests,
    batch: SignatureBatch,
) -> None:
    process_block_header(state, block)
    body = block.body
    process_withdrawals(state, body.execution_payload)
    process_execution_payload(state, body, expected_requests)
    process_randao(state, body, batch)
    process_operations(state, body, batch)
    process_sync_aggregate(state, body.sync_aggregate, batch)


def process_block_header(state: BeaconState, block: c.BeaconBlock) -> None:
    check(int(block.slot) == state.slot, f"block slot {int(block.slot)} ≠ state slot {state.slot}")
    check(
        int(block.slot) > int(state.latest_block_header.slot), "block is not newer than its parent"
    )
    expected = state.proposer_index
    check(
        int(block.proposer_index) == expected,
        f"proposer of slot {state.slot} is {expected}, not {int(block.proposer_index)}",
    )
    check(
        bytes(block.parent_root) == bytes(state.latest_block_header.hash_tree_root()),
        "parent root is not the head block",
    )
    state.latest_block_header = BeaconBlockHeader(
        slot=block.slot,
        proposer_index=block.proposer_index,
        parent_root=block.parent_root,
        state_root=ZERO_ROOT,
        body_root=block.body.hash_tree_root(),
    )
    check(not state.validators[expected].slashed, "proposer is slashed")


def process_withdrawals(state: BeaconState, payload: c.ExecutionPayload) -> None:
    expected = expected_withdrawals(state)
    check(
        [w.hash_tree_root() for w in payload.withdrawals] == [w.hash_tree_root() for w in expected],
        "payload withdrawals differ from the expected withdrawals",
    )
    for w in expected:
        state.decrease_balance(int(w.validator_index), int(w.amount))
    if expected:
        state.next_withdrawal_index = int(expected[-1].index) + 1
    n = len(state.validators)
    if len(expected) == state.cfg.max_withdrawals_per_payload:
        state.next_withdrawal_validator_index = (int(expected[-1].validator_index) + 1) % n
    else:
        sweep = state.cfg.max_validators_per_withdrawals_sweep
        state.next_withdrawal_validator_index = (state.next_withdrawal_validator_index + sweep) % n


def process_execution_payload(
    state: BeaconState, body: c.BeaconBlockBody, expected_requests: c.ExecutionRequests
) -> None:
    payload = body.execution_payload
    check(len(body.blob_kzg_commitments) == 0, "the devnet carries no blobs")
    check(
        body.execution_requests.hash_tree_root() == expected_requests.hash_tree_root(),
        "execution requests differ from the deposit contract's next deposits",
    )
    expected = expected_payload(state, payload.withdrawals, expected_requests)
    check(
        payload.hash_tree_root() == expected.hash_tree_root(),
        "execution payload is not the devnet's payload for this slot",
    )
    state.latest_execution_payload_header = payload_header(payload)


def process_randao(state: BeaconState, body: c.BeaconBlockBody, batch: SignatureBatch) -> None:
    epoch = state.current_epoch
    proposer = state.validators[state.proposer_index]
    batch.add(
        "randao reveal",
        proposer.pubkey,
        signing_root(Epoch(epoch).hash_tree_root(), state.domain(DOMAIN_RANDAO)),
        bytes(body.randao_reveal),
    )
    mix = bytes(
        a ^ b
        for a, b in zip(state.randao_mix(epoch), sha256(bytes(body.randao_reveal)), strict=True)
    )
    state.randao_mixes[epoch % state.cfg.epochs_per_historical_vector] = mix


def process_operations(state: BeaconState, body: c.BeaconBlockBody, batch: SignatureBatch) -> None:
    limit = min(int(state.eth1_data.deposit_count), state.deposit_requests_start_index)
    check(
        state.eth1_deposit_index >= limit and len(body.deposits) == 0,
        "legacy eth1 deposits are not used: deposits arrive as execution requests",
    )
    for slashing in body.proposer_slashings:
        process_proposer_slashing(state, slashing, batch)
    for slashing in body.attester_slashings:
        process_attester_slashing(state, slashing, batch)
    for attestation in body.attestations:
        process_attestation(state, attestation, batch)
    for exit_message in body.voluntary_exits:
        process_voluntary_exit(state, exit_message, batch)
    check(len(body.bls_to_execution_changes) == 0, "devnet validators have 0x01 credentials")
    requests = body.execution_requests
    check(
        len(requests.withdrawals) == 0 and len(requests.consolidations) == 0,
        "the devnet has no withdrawal or consolidation request contracts",
    )
    for request in requests.deposits:
        process_deposit_request(state, request)


def process_deposit_request(state: BeaconState, request: c.DepositRequest) -> None:
    if state.deposit_requests_start_index == UNSET_DEPOSIT_REQUESTS_START_INDEX:
        state.deposit_requests_start_index = int(request.index)
    state.pending_deposits.append(
        PendingDepositRecord(
            pubkey=bytes(request.pubkey),
            withdrawal_credentials=bytes(request.withdrawal_credentials),
            amount=int(request.amount),
            signature=bytes(request.signature),
            slot=state.slot,
        )
    )


# -- slashings and exits ---------------------------------------------------------------------


def process_proposer_slashing(
    state: BeaconState, slashing: c.ProposerSlashing, batch: SignatureBatch
) -> None:
    h1, h2 = slashing.signed_header_1.message, slashing.signed_header_2.message
    check(int(h1.slot) == int(h2.slot), "proposer slashing: headers of different slots")
    check(
        int(h1.proposer_index) == int(h2.proposer_index),
        "proposer slashing: headers of different proposers",
    )
    check(h1.hash_tree_root() != h2.hash_tree_root(), "proposer slashing: identical headers")
    index = int(h1.proposer_index)
    check(index < len(state.validators), f"proposer slashing: unknown validator {index}")
    proposer = state.validators[index]
    check(proposer.is_slashable(state.current_epoch), f"validator {index} is not slashable")
    for signed in (slashing.signed_header_1, slashing.signed_header_2):
        epoch = int(signed.message.slot) // state.cfg.slots_per_epoch
        batch.add(
            "proposer slashing header",
            proposer.pubkey,
            signing_root(
                signed.message.hash_tree_root(), state.domain(DOMAIN_BEACON_PROPOSER, epoch)
            ),
            bytes(signed.signature),
        )
    slash_validator(state, index)


def is_slashable_attestation_data(d1: AttestationData, d2: AttestationData) -> bool:
    """Double vote (same target, different data) or surround vote."""
    double = d1.hash_tree_root() != d2.hash_tree_root() and int(d1.target.epoch) == int(
        d2.target.epoch
    )
    surround = int(d1.source.epoch) < int(d2.source.epoch) and int(d2.target.epoch) < int(
        d1.target.epoch
    )
    return double or surround


def add_indexed_attestation(
    state: BeaconState, indexed: c.IndexedAttestation, batch: SignatureBatch, what: str
) -> None:
    """is_valid_indexed_attestation, with the signature deferred to the batch."""
    indices = [int(i) for i in indexed.attesting_indices]
    add_attestation_signature(state, indices, indexed.data, bytes(indexed.signature), batch, what)


def add_attestation_signature(
    state: BeaconState,
    indices: list[int],
    data: AttestationData,
    signature: bytes,
    batch: SignatureBatch,
    what: str,
) -> None:
    """is_valid_indexed_attestation on its parts (building the SSZ IndexedAttestation of a
    large committee costs milliseconds), with the signature deferred to the batch."""
    check(len(indices) > 0, f"{what}: no attesting indices")
    check(indices == sorted(set(indices)), f"{what}: indices not sorted and unique")
    check(indices[-1] < len(state.validators), f"{what}: unknown validator index")
    domain = state.domain(DOMAIN_BEACON_ATTESTER, int(data.target.epoch))
    batch.add_aggregate(
        what,
        (state.validators[i].pubkey for i in indices),
        signing_root(data.hash_tree_root(), domain),
        signature,
    )


def process_attester_slashing(
    state: BeaconState, slashing: c.AttesterSlashing, batch: SignatureBatch
) -> None:
    a1, a2 = slashing.attestation_1, slashing.attestation_2
    check(is_slashable_attestation_data(a1.data, a2.data), "attestations are not slashable")
    add_indexed_attestation(state, a1, batch, "attester slashing attestation 1")
    add_indexed_attestation(state, a2, batch, "attester slashing attestation 2")
    epoch = state.current_epoch
    slashed_any = False
    for index in sorted(
        {int(i) for i in a1.attesting_indices} & {int(i) for i in a2.attesting_indices}
    ):
        if state.validators[index].is_slashable(epoch):
            slash_validator(state, index)
            slashed_any = True
    check(slashed_any, "attester slashing: no slashable validator in both attestations")


def process_voluntary_exit(
    state: BeaconState, signed: c.SignedVoluntaryExit, batch: SignatureBatch
) -> None:
    message = signed.message
    index = int(message.validator_index)
    check(index < len(state.validators), f"voluntary exit: unknown validator {index}")
    v = state.validators[index]
    epoch = state.current_epoch
    check(v.is_active(epoch), f"voluntary exit: validator {index} is not active")
    check(v.exit_epoch == FAR_FUTURE_EPOCH, f"voluntary exit: validator {index} already exiting")
    check(epoch >= int(message.epoch), "voluntary exit: epoch is in the future")
    check(
        epoch >= v.activation_epoch + state.cfg.shard_committee_period,
        f"voluntary exit: validator {index} has not been active long enough",
    )
    domain = compute_domain(
        DOMAIN_VOLUNTARY_EXIT,
        state.cfg.chain.voluntary_exit_fork_version,
        state.genesis_validators_root,
    )
    batch.add(
        "voluntary exit",
        v.pubkey,
        signing_root(message.hash_tree_root(), domain),
        bytes(signed.signature),
    )
    initiate_validator_exit(state, index)


# -- attestations ----------------------------------------------------------------------------


def committee_indices(attestation: Attestation) -> list[int]:
    return [i for i, bit in enumerate(attestation.committee_bits) if bit]


def bit_reader(bitlist: object) -> tuple[int, Callable[[int], bool]]:
    """(length, bit(i)) of an SSZ Bitlist, read from its serialization: indexing the view bit
    by bit costs a tree walk per bit."""
    raw = bitlist.encode_bytes()  # type: ignore[attr-defined]
    length = len(bitlist)  # type: ignore[arg-type]
    return length, lambda i: i < length and bool(raw[i >> 3] >> (i & 7) & 1)


def attesting_indices(state: BeaconState, attestation: Attestation) -> list[int]:
    """get_attesting_indices (Electra): members whose bit is set, over the flagged committees."""
    slot = int(attestation.data.slot)
    _, bits = bit_reader(attestation.aggregation_bits)
    out: set[int] = set()
    offset = 0
    for index in committee_indices(attestation):
        committee = state.beacon_committee(slot, index)
        out.update(member for i, member in enumerate(committee) if bits(offset + i))
        offset += len(committee)
    return sorted(out)


def participation_flag_indices(state: BeaconState, data: AttestationData, delay: int) -> list[int]:
    target_epoch = int(data.target.epoch)
    justified = (
        state.current_justified_checkpoint
        if target_epoch == state.current_epoch
        else state.previous_justified_checkpoint
    )
    matching_source = CP.of(data.source) == justified
    check(matching_source, "attestation source is not the justified checkpoint")
    matching_target = bytes(data.target.root) == state.block_root(target_epoch)
    matching_head = matching_target and bytes(data.beacon_block_root) == state.block_root_at_slot(
        int(data.slot)
    )
    flags = []
    if delay <= math.isqrt(state.cfg.slots_per_epoch):
        flags.append(TIMELY_SOURCE_FLAG_INDEX)
    if matching_target:
        flags.append(TIMELY_TARGET_FLAG_INDEX)
    if matching_head and delay == state.cfg.min_attestation_inclusion_delay:
        flags.append(TIMELY_HEAD_FLAG_INDEX)
    return flags


def validate_attestation_shape(state: BeaconState, attestation: Attestation) -> None:
    """The checks of process_attestation that do not depend on the inclusion slot's flags."""
    data = attestation.data
    target_epoch = int(data.target.epoch)
    slot = int(data.slot)
    check(
        target_epoch in (state.previous_epoch, state.current_epoch),
        f"attestation target epoch {target_epoch} is neither the previous nor the current epoch",
    )
    check(target_epoch == slot // state.cfg.slots_per_epoch, "target epoch ≠ epoch of the slot")
    check(int(data.index) == 0, "Electra attestations carry committee index 0 in their data")
    offset = 0
    per_slot = state.committee_count_per_slot(target_epoch)
    chosen = committee_indices(attestation)
    check(len(chosen) > 0, "attestation names no committee")
    length, bits = bit_reader(attestation.aggregation_bits)
    for index in chosen:
        check(index < per_slot, f"committee index {index} ≥ committees per slot {per_slot}")
        committee = state.beacon_committee(slot, index)
        check(
            offset + len(committee) <= length
            and any(bits(offset + i) for i in range(len(committee))),
            f"committee {index} has no attester in the aggregation bits",
        )
        offset += len(committee)
    check(length == offset, "aggregation bits length ≠ committee sizes")


def process_attestation(
    state: BeaconState, attestation: Attestation, batch: SignatureBatch
) -> None:
    data = attestation.data
    check(
        int(data.slot) + state.cfg.min_attestation_inclusion_delay <= state.slot,
        "attestation included before the minimum inclusion delay",
    )
    validate_attestation_shape(state, attestation)
    flags = participation_flag_indices(state, data, state.slot - int(data.slot))
    indices = attesting_indices(state, attestation)
    domain = state.domain(DOMAIN_BEACON_ATTESTER, int(data.target.epoch))
    batch.add_aggregate(
        f"attestation of slot {int(data.slot)}",
        (state.validators[i].pubkey for i in indices),
        signing_root(data.hash_tree_root(), domain),
        bytes(attestation.signature),
    )
    participation = (
        state.current_epoch_participation
        if int(data.target.epoch) == state.current_epoch
        else state.previous_epoch_participation
    )
    numerator = 0
    per_increment = state.base_reward_per_increment()
    inc = state.cfg.effective_balance_increment
    for index in indices:
        for flag, weight in enumerate(PARTICIPATION_FLAG_WEIGHTS):
            if flag in flags and not participation[index] & (1 << flag):
                participation[index] |= 1 << flag
                numerator += (
                    state.validators[index].effective_balance // inc * per_increment * weight
                )
    denominator = (WEIGHT_DENOMINATOR - PROPOSER_WEIGHT) * WEIGHT_DENOMINATOR // PROPOSER_WEIGHT
    state.increase_balance(state.proposer_index, numerator // denominator)


# -- sync aggregate --------------------------------------------------------------------------


def process_sync_aggregate(
    state: BeaconState, aggregate: c.SyncAggregate, batch: SignatureBatch
) -> None:
    committee = state.current_sync_committee
    bits = list(aggregate.sync_committee_bits)
    participants = [pk for pk, bit in zip(committee, bits, strict=False) if bit]
    previous_slot = max(state.slot, 1) - 1
    root = signing_root(
        Root(state.block_root_at_slot(previous_slot)).hash_tree_root(),
        state.domain(DOMAIN_SYNC_COMMITTEE, previous_slot // state.cfg.slots_per_epoch),
    )
    signature = bytes(aggregate.sync_committee_signature)
    if participants:
        batch.add_aggregate("sync aggregate", participants, root, signature)
    else:
        check(
            signature == b"\xc0" + b"\x00" * 95, "empty sync aggregate needs the infinity signature"
        )
    inc = state.cfg.effective_balance_increment
    total_base = state.base_reward_per_increment() * (state.total_active_balance() // inc)
    max_participant = (
        total_base * SYNC_REWARD_WEIGHT // WEIGHT_DENOMINATOR // state.cfg.slots_per_epoch
    )
    participant_reward = max_participant // SYNC_COMMITTEE_SIZE
    proposer_reward = participant_reward * PROPOSER_WEIGHT // (WEIGHT_DENOMINATOR - PROPOSER_WEIGHT)
    proposer = state.proposer_index
    for pubkey, bit in zip(committee, bits, strict=False):
        index = state.pubkey_index[pubkey]
        if bit:
            state.increase_balance(index, participant_reward)
            state.increase_balance(proposer, proposer_reward)
        else:
            state.decrease_balance(index, participant_reward)
