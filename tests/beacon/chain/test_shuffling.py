from hypothesis import given, settings
from hypothesis import strategies as st

from nektar.beacon.chain.config import BeaconConfig, devnet_chain
from nektar.beacon.chain.genesis import GenesisValidator, genesis_state
from nektar.beacon.chain.shuffling import (
    compute_shuffled_index,
    sha256,
    shuffled_indices,
    uint_to_bytes,
)


@given(st.integers(1, 700), st.binary(min_size=32, max_size=32), st.integers(1, 12))
def test_whole_list_shuffle_equals_spec_function(count: int, seed: bytes, rounds: int) -> None:
    fast = shuffled_indices(count, seed, rounds)
    assert sorted(fast) == list(range(count))
    for i in range(0, count, max(1, count // 17)):
        assert fast[i] == compute_shuffled_index(i, count, seed, rounds)


def test_known_permutation_differs_by_seed() -> None:
    a = shuffled_indices(100, b"\x01" * 32, 10)
    b = shuffled_indices(100, b"\x02" * 32, 10)
    assert a != b and a != tuple(range(100))


def test_out_of_range_index_is_rejected() -> None:
    import pytest

    with pytest.raises(ValueError, match="out of range"):
        compute_shuffled_index(5, 5, b"\x00" * 32, 10)


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.integers(1, 120))
def test_proposer_index_per_position_equals_the_whole_list_shuffle(seed: bytes, n: int) -> None:
    """compute_proposer_index shuffles only the positions it draws; same answer as taking
    them from the whole shuffled list."""
    cfg = BeaconConfig(chain=devnet_chain())
    validators = [
        GenesisValidator(
            bytes([i % 256, i // 256]) * 24, b"\x02" + b"\x00" * 31, (i % 9 + 1) * 32 * 10**9
        )
        for i in range(n)
    ]
    state = genesis_state(cfg, 0, validators)
    indices = list(range(0, n, 2)) or [0]
    order = shuffled_indices(len(indices), seed, cfg.shuffle_round_count)
    i = 0
    while True:
        candidate = indices[order[i % len(indices)]]
        draw = sha256(seed + uint_to_bytes(i // 16))[i % 16 * 2 : i % 16 * 2 + 2]
        value = int.from_bytes(draw, "little")
        balance = state.validators[candidate].effective_balance
        if balance * (2**16 - 1) >= cfg.max_effective_balance_electra * value:
            break
        i += 1
    assert state.compute_proposer_index(indices, seed) == candidate
