"""Per-slot and per-epoch processing (altair → electra `process_slots` / `process_epoch`).

Everything here follows the spec functions of the same names; omitted steps are the ones the
devnet has no input for: eth1 data votes (deposits arrive as EIP-6110 requests), pending
consolidations and partial withdrawals (no execution-layer request contracts), historical
summaries (the devnet keeps its block history in memory).
"""

from __future__ import annotations

from nektar.beacon.chain.config import (
    FAR_FUTURE_EPOCH,
    GENESIS_EPOCH,
    PARTICIPATION_FLAG_WEIGHTS,
    TIMELY_HEAD_FLAG_INDEX,
    TIMELY_TARGET_FLAG_INDEX,
    WEIGHT_DENOMINATOR,
)
from nektar.beacon.chain.shuffling import sha256, shuffled_indices, uint_to_bytes
from nektar.beacon.chain.state import CP, BeaconState, PendingDepositRecord, ValidatorRecord
from nektar.crypto import bls
from nektar.crypto.signing import DOMAIN_SYNC_COMMITTEE, SYNC_COMMITTEE_SIZE, deposit_signing_root

ZERO_ROOT = b"\x00" * 32


class TransitionError(ValueError):
    """A block or operation that the state transition rejects; the message says why."""


def process_slots(state: BeaconState, slot: int) -> None:
    """Advance `state` to `slot`, running epoch processing at each epoch boundary."""
    if slot <= state.slot:
        raise TransitionError(f"cannot process slots back to {slot} from {state.slot}")
    while state.slot < slot:
        process_slot(state)
        if (state.slot + 1) % state.cfg.slots_per_epoch == 0:
            process_epoch(state)
        state.slot += 1


def process_slot(state: BeaconState) -> None:
    n = state.cfg.slots_per_historical_root
    previous_state_root = state.hash_tree_root()
    state.state_roots[state.slot % n] = previous_state_root
    if bytes(state.latest_block_header.state_root) == ZERO_ROOT:
        header = state.latest_block_header.copy()
        header.state_root = previous_state_root
        state.latest_block_header = header
    state.block_roots[state.slot % n] = bytes(state.latest_block_header.hash_tree_root())


def process_epoch(state: BeaconState) -> None:
    process_justification_and_finalization(state)
    process_inactivity_updates(state)
    process_rewards_and_penalties(state)
    process_registry_updates(state)
    process_slashings(state)
    process_pending_deposits(state)
    process_effective_balance_updates(state)
    process_slashings_reset(state)
    process_randao_mixes_reset(state)
    process_participation_flag_updates(state)
    process_sync_committee_updates(state)


# -- participation ---------------------------------------------------------------------------


def unslashed_participating_indices(state: BeaconState, flag_index: int, epoch: int) -> set[int]:
    if epoch == state.current_epoch:
        participation = state.current_epoch_participation
    elif epoch == state.previous_epoch:
        participation = state.previous_epoch_participation
    else:
        raise TransitionError(f"no participation record for epoch {epoch}")
    mask = 1 << flag_index
    validators = state.validators
    return {
        i
        for i in state.active_indices(epoch)
        if participation[i] & mask and not validators[i].slashed
    }


def is_in_inactivity_leak(state: BeaconState) -> bool:
    delay = state.previous_epoch - state.finalized_checkpoint.epoch
    return delay > state.cfg.min_epochs_to_inactivity_penalty


def eligible_validator_indices(state: BeaconState) -> list[int]:
    previous = state.previous_epoch
    return [
        i
        for i, v in enumerate(state.validators)
        if v.is_active(previous) or (v.slashed and previous + 1 < v.withdrawable_epoch)
    ]


# -- justification and finalization ---------------------------------------------------------


def process_justification_and_finalization(state: BeaconState) -> None:
    if state.current_epoch <= GENESIS_EPOCH + 1:
        return
    previous = unslashed_participating_indices(
        state, TIMELY_TARGET_FLAG_INDEX, state.previous_epoch
    )
    current = unslashed_participating_indices(state, TIMELY_TARGET_FLAG_INDEX, state.current_epoch)
    weigh_justification_and_finalization(
        state,
        state.total_active_balance(),
        state.total_balance(previous),
        state.total_balance(current),
    )


def weigh_justification_and_finalization(
    state: BeaconState, total: int, previous_target: int, current_target: int
) -> None:
    previous_epoch, current_epoch = state.previous_epoch, state.current_epoch
    old_previous = state.previous_justified_checkpoint
    old_current = state.current_justified_checkpoint
    state.previous_justified_checkpoint = state.current_justified_checkpoint
    bits = [False, *state.justification_bits[:3]]
    if previous_target * 3 >= total * 2:
        state.current_justified_checkpoint = CP(previous_epoch, state.block_root(previous_epoch))
        bits[1] = True
    if current_target * 3 >= total * 2:
        state.current_justified_checkpoint = CP(current_epoch, state.block_root(current_epoch))
        bits[0] = True
    state.justification_bits = bits
    if all(bits[1:4]) and old_previous.epoch + 3 == current_epoch:
        state.finalized_checkpoint = old_previous
    if all(bits[1:3]) and old_previous.epoch + 2 == current_epoch:
        state.finalized_checkpoint = old_previous
    if all(bits[0:3]) and old_current.epoch + 2 == current_epoch:
        state.finalized_checkpoint = old_current
    if all(bits[0:2]) and old_current.epoch + 1 == current_epoch:
        state.finalized_checkpoint = old_current


# -- inactivity, rewards and penalties ------------------------------------------------------


def process_inactivity_updates(state: BeaconState) -> None:
    if state.current_epoch == GENESIS_EPOCH:
        return
    cfg = state.cfg
    target = unslashed_participating_indices(state, TIMELY_TARGET_FLAG_INDEX, state.previous_epoch)
    leaking = is_in_inactivity_leak(state)
    scores = state.inactivity_scores
    for i in eligible_validator_indices(state):
        if i in target:
            scores[i] -= min(1, scores[i])
        else:
            scores[i] += cfg.inactivity_score_bias
        if not leaking:
            scores[i] -= min(cfg.inactivity_score_recovery_rate, scores[i])


def process_rewards_and_penalties(state: BeaconState) -> None:
    """Altair: the flag deltas, then the inactivity deltas, each applied in turn (a penalty
    never takes a balance below zero, exactly as the spec's sequential application)."""
    if state.current_epoch == GENESIS_EPOCH:
        return
    eligible = eligible_validator_indices(state)
    deltas = [
        flag_index_deltas(state, flag, weight, eligible)
        for flag, weight in enumerate(PARTICIPATION_FLAG_WEIGHTS)
    ]
    deltas.append(({}, inactivity_penalty_deltas(state, eligible)))
    balances = state.balances
    for rewards, penalties in deltas:
        for i, amount in rewards.items():
            balances[i] += amount
        for i, amount in penalties.items():
            balances[i] = max(0, balances[i] - amount)


def flag_index_deltas(
    state: BeaconState, flag_index: int, weight: int, eligible: list[int]
) -> tuple[dict[int, int], dict[int, int]]:
    """get_flag_index_deltas: (rewards, penalties) by validator index."""
    inc = state.cfg.effective_balance_increment
    active_increments = state.total_active_balance() // inc
    per_increment = state.base_reward_per_increment()
    participating = unslashed_participating_indices(state, flag_index, state.previous_epoch)
    participating_increments = state.total_balance(participating) // inc
    leaking = is_in_inactivity_leak(state)
    rewards: dict[int, int] = {}
    penalties: dict[int, int] = {}
    for i in eligible:
        base = state.validators[i].effective_balance // inc * per_increment
        if i in participating:
            if not leaking:
                numerator = base * weight * participating_increments
                rewards[i] = numerator // (active_increments * WEIGHT_DENOMINATOR)
        elif flag_index != TIMELY_HEAD_FLAG_INDEX:
            penalties[i] = base * weight // WEIGHT_DENOMINATOR
    return rewards, penalties


def inactivity_penalty_deltas(state: BeaconState, eligible: list[int]) -> dict[int, int]:
    """get_inactivity_penalty_deltas (Bellatrix quotient)."""
    cfg = state.cfg
    target = unslashed_participating_indices(state, TIMELY_TARGET_FLAG_INDEX, state.previous_epoch)
    denominator = cfg.inactivity_score_bias * cfg.inactivity_penalty_quotient
    return {
        i: state.validators[i].effective_balance * state.inactivity_scores[i] // denominator
        for i in eligible
        if i not in target
    }


# -- registry --------------------------------------------------------------------------------


def initiate_validator_exit(state: BeaconState, index: int) -> None:
    record = state.validators[index]
    if record.exit_epoch != FAR_FUTURE_EPOCH:
        return
    exit_epoch = compute_exit_epoch_and_update_churn(state, record.effective_balance)
    state.update_validator(
        index,
        exit_epoch=exit_epoch,
        withdrawable_epoch=exit_epoch + state.cfg.min_validator_withdrawability_delay,
    )


def compute_exit_epoch_and_update_churn(state: BeaconState, exit_balance: int) -> int:
    earliest = max(state.earliest_exit_epoch, state.activation_exit_epoch(state.current_epoch))
    per_epoch_churn = state.activation_exit_churn_limit()
    if state.earliest_exit_epoch < earliest:
        to_consume = per_epoch_churn
    else:
        to_consume = state.exit_balance_to_consume
    if exit_balance > to_consume:
        additional = (exit_balance - to_consume - 1) // per_epoch_churn + 1
        earliest += additional
        to_consume += additional * per_epoch_churn
    state.exit_balance_to_consume = to_consume - exit_balance
    state.earliest_exit_epoch = earliest
    return earliest


def process_registry_updates(state: BeaconState) -> None:
    cfg = state.cfg
    current = state.current_epoch
    activation_epoch = state.activation_exit_epoch(current)
    for i, v in enumerate(state.validators):
        if (
            v.activation_eligibility_epoch == FAR_FUTURE_EPOCH
            and v.effective_balance >= cfg.min_activation_balance
        ):
            state.update_validator(i, activation_eligibility_epoch=current + 1)
        elif v.is_active(current) and v.effective_balance <= cfg.ejection_balance:
            initiate_validator_exit(state, i)
        elif (
            v.activation_eligibility_epoch <= state.finalized_checkpoint.epoch
            and v.activation_epoch == FAR_FUTURE_EPOCH
        ):
            state.update_validator(i, activation_epoch=activation_epoch)


def slash_validator(state: BeaconState, index: int, whistleblower: int | None = None) -> None:
    cfg = state.cfg
    epoch = state.current_epoch
    initiate_validator_exit(state, index)
    record = state.validators[index]
    record = state.update_validator(
        index,
        slashed=True,
        withdrawable_epoch=max(record.withdrawable_epoch, epoch + cfg.epochs_per_slashings_vector),
    )
    state.slashings[epoch % cfg.epochs_per_slashings_vector] += record.effective_balance
    state.decrease_balance(index, record.effective_balance // cfg.min_slashing_penalty_quotient)
    proposer = state.proposer_index
    whistleblower = proposer if whistleblower is None else whistleblower
    whistleblower_reward = record.effective_balance // cfg.whistleblower_reward_quotient
    proposer_reward = whistleblower_reward * 8 // WEIGHT_DENOMINATOR
    state.increase_balance(proposer, proposer_reward)
    state.increase_balance(whistleblower, whistleblower_reward - proposer_reward)


def process_slashings(state: BeaconState) -> None:
    cfg = state.cfg
    epoch = state.current_epoch
    total = state.total_active_balance()
    adjusted = min(sum(state.slashings) * cfg.proportional_slashing_multiplier, total)
    inc = cfg.effective_balance_increment
    per_increment = adjusted // (total // inc)
    for i, v in enumerate(state.validators):
        if v.slashed and epoch + cfg.epochs_per_slashings_vector // 2 == v.withdrawable_epoch:
            state.decrease_balance(i, per_increment * (v.effective_balance // inc))


# -- deposits --------------------------------------------------------------------------------


def is_valid_deposit_signature(state: BeaconState, deposit: PendingDepositRecord) -> bool:
    root = deposit_signing_root(
        deposit.pubkey,
        deposit.withdrawal_credentials,
        deposit.amount,
        state.cfg.chain.genesis_fork_version,
    )
    return bls.verify(deposit.pubkey, root, deposit.signature)


def validator_from_deposit(
    state: BeaconState, pubkey: bytes, credentials: bytes, amount: int
) -> ValidatorRecord:
    record = ValidatorRecord(pubkey=pubkey, withdrawal_credentials=credentials, effective_balance=0)
    inc = state.cfg.effective_balance_increment
    effective = min(amount - amount % inc, state.max_effective_balance(record))
    return ValidatorRecord(
        pubkey=pubkey, withdrawal_credentials=credentials, effective_balance=effective
    )


def apply_pending_deposit(state: BeaconState, deposit: PendingDepositRecord) -> None:
    """A new pubkey needs a valid proof of possession (else the deposit is dropped, as the spec
    says); a known pubkey is topped up whatever credentials the deposit carries."""
    index = state.index_of(deposit.pubkey)
    if index is None:
        if is_valid_deposit_signature(state, deposit):
            record = validator_from_deposit(
                state, deposit.pubkey, deposit.withdrawal_credentials, deposit.amount
            )
            state.add_validator(record, deposit.amount)
    else:
        state.increase_balance(index, deposit.amount)


def process_pending_deposits(state: BeaconState) -> None:
    cfg = state.cfg
    next_epoch = state.current_epoch + 1
    available = state.deposit_balance_to_consume + state.activation_exit_churn_limit()
    processed_amount = 0
    next_index = 0
    postponed: list[PendingDepositRecord] = []
    churn_reached = False
    finalized_slot = state.epoch_start_slot(state.finalized_checkpoint.epoch)
    for deposit in state.pending_deposits:
        if deposit.slot > finalized_slot or next_index >= cfg.max_pending_deposits_per_epoch:
            break
        index = state.index_of(deposit.pubkey)
        exited = withdrawn = False
        if index is not None:
            exited = state.validators[index].exit_epoch < FAR_FUTURE_EPOCH
            withdrawn = state.validators[index].withdrawable_epoch < next_epoch
        if withdrawn:
            apply_pending_deposit(state, deposit)
        elif exited:
            postponed.append(deposit)
        else:
            churn_reached = processed_amount + deposit.amount > available
            if churn_reached:
                break
            processed_amount += deposit.amount
            apply_pending_deposit(state, deposit)
        next_index += 1
    state.pending_deposits = state.pending_deposits[next_index:] + postponed
    state.deposit_balance_to_consume = available - processed_amount if churn_reached else 0


def process_effective_balance_updates(state: BeaconState) -> None:
    cfg = state.cfg
    inc = cfg.effective_balance_increment
    hysteresis = inc // cfg.hysteresis_quotient
    down = hysteresis * cfg.hysteresis_downward_multiplier
    up = hysteresis * cfg.hysteresis_upward_multiplier
    for i, v in enumerate(state.validators):
        balance = state.balances[i]
        if balance + down < v.effective_balance or v.effective_balance + up < balance:
            effective = min(balance - balance % inc, state.max_effective_balance(v))
            if effective != v.effective_balance:
                state.update_validator(i, effective_balance=effective)


def process_slashings_reset(state: BeaconState) -> None:
    n = state.cfg.epochs_per_slashings_vector
    state.slashings[(state.current_epoch + 1) % n] = 0


def process_randao_mixes_reset(state: BeaconState) -> None:
    n = state.cfg.epochs_per_historical_vector
    current = state.current_epoch
    state.randao_mixes[(current + 1) % n] = state.randao_mix(current)


def process_participation_flag_updates(state: BeaconState) -> None:
    state.previous_epoch_participation = state.current_epoch_participation
    state.current_epoch_participation = bytearray(len(state.validators))


# -- sync committees -------------------------------------------------------------------------


def next_sync_committee(state: BeaconState) -> tuple[bytes, ...]:
    """get_next_sync_committee_indices (Electra): balance-weighted sampling with 16-bit values."""
    epoch = state.current_epoch + 1
    active = state.active_indices(epoch)
    if not active:
        return ()
    seed = state.seed(epoch, DOMAIN_SYNC_COMMITTEE)
    order = shuffled_indices(len(active), seed, state.cfg.shuffle_round_count)
    max_random = 2**16 - 1
    threshold = state.cfg.max_effective_balance_electra
    validators = state.validators
    members: list[bytes] = []
    i = 0
    random_bytes = b""
    while len(members) < SYNC_COMMITTEE_SIZE:
        candidate = active[order[i % len(active)]]
        if i % 16 == 0:  # one hash serves 16 draws (the spec recomputes the same hash)
            random_bytes = sha256(seed + uint_to_bytes(i // 16))
        value = int.from_bytes(random_bytes[i % 16 * 2 : i % 16 * 2 + 2], "little")
        record = validators[candidate]
        if record.effective_balance * max_random >= threshold * value:
            members.append(record.pubkey)
        i += 1
    return tuple(members)


def process_sync_committee_updates(state: BeaconState) -> None:
    if (state.current_epoch + 1) % state.cfg.epochs_per_sync_committee_period == 0:
        state.current_sync_committee = state.next_sync_committee
        state.next_sync_committee = next_sync_committee(state)
