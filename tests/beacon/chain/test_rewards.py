"""Altair reward arithmetic, checked against the closed form of the spec's formulas."""

from __future__ import annotations

import math

from nektar.beacon.chain.epoch import (
    process_effective_balance_updates,
    process_rewards_and_penalties,
)

from .conftest import GWEI, make_node


def test_flag_rewards_penalties_and_inactivity_match_the_spec_formulas() -> None:
    state = make_node(16).head_state().copy()
    state.slot = 2 * 8 + 7  # last slot of epoch 2: rewards for epoch 1
    state.previous_epoch_participation = bytearray([0b111] * 16)
    state.previous_epoch_participation[5] = 0b001  # source only: misses target and head
    state.previous_epoch_participation[6] = 0
    state.inactivity_scores[6] = 8
    before = list(state.balances)
    process_rewards_and_penalties(state)
    per_increment = GWEI * 64 // math.isqrt(16 * 32 * GWEI)
    base = 32 * per_increment
    total_increments = 16 * 32
    full = sum(
        base * w * (p * 32) // (total_increments * 64) for w, p in ((14, 15), (26, 14), (14, 14))
    )
    assert state.balances[0] - before[0] == full
    source_only = base * 14 * (15 * 32) // (total_increments * 64) - base * 26 // 64
    assert state.balances[5] - before[5] == source_only
    inactivity = 32 * GWEI * 8 // (4 * 2**24)
    assert state.balances[6] - before[6] == -(base * 14 // 64 + base * 26 // 64 + inactivity)


def test_effective_balance_hysteresis() -> None:
    state = make_node(4).head_state().copy()
    state.balances[0] = 32 * GWEI - GWEI // 4  # within the downward threshold: unchanged
    state.balances[1] = 32 * GWEI - GWEI // 4 - 1  # just below: drops to 31 ETH
    state.balances[2] = 40 * GWEI  # 0x01 credentials cap the effective balance at 32 ETH
    process_effective_balance_updates(state)
    assert [v.effective_balance // GWEI for v in state.validators[:3]] == [32, 31, 32]
