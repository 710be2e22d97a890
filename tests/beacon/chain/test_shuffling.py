from hypothesis import given
from hypothesis import strategies as st

from nektar.beacon.chain.shuffling import compute_shuffled_index, shuffled_indices


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
