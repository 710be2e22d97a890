"""The spec's swap-or-not shuffle (phase0 `compute_shuffled_index`) and its whole-list form.

`compute_shuffled_index` is the spec function, kept verbatim in behaviour; `shuffled_indices`
computes the same permutation for every position at once (one hash per 256 positions per round
instead of one per position), which is what makes committees of 10,000 validators cheap. A test
checks the two agree.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def uint_to_bytes(value: int, length: int = 8) -> bytes:
    """SSZ little-endian encoding of an unsigned integer of `length` bytes."""
    return value.to_bytes(length, "little")


def bytes_to_uint64(data: bytes) -> int:
    return int.from_bytes(data, "little")


def compute_shuffled_index(index: int, index_count: int, seed: bytes, rounds: int) -> int:
    """Position `index` of the list of `index_count` items after the shuffle seeded by `seed`."""
    if not 0 <= index < index_count:
        raise ValueError(f"index {index} out of range for {index_count} items")
    for current_round in range(rounds):
        round_byte = uint_to_bytes(current_round, 1)
        pivot = bytes_to_uint64(sha256(seed + round_byte)[:8]) % index_count
        flip = (pivot + index_count - index) % index_count
        position = max(index, flip)
        source = sha256(seed + round_byte + uint_to_bytes(position // 256, 4))
        byte = source[(position % 256) // 8]
        if (byte >> (position % 8)) & 1:
            index = flip
    return index


@lru_cache(maxsize=64)
def shuffled_indices(index_count: int, seed: bytes, rounds: int) -> tuple[int, ...]:
    """[compute_shuffled_index(i, index_count, seed, rounds) for i in range(index_count)]."""
    if index_count == 0:
        return ()
    current = list(range(index_count))
    for current_round in range(rounds):
        round_byte = uint_to_bytes(current_round, 1)
        pivot = bytes_to_uint64(sha256(seed + round_byte)[:8]) % index_count
        sources = [
            sha256(seed + round_byte + uint_to_bytes(block, 4))
            for block in range((index_count + 255) // 256)
        ]
        for i, index in enumerate(current):
            flip = (pivot + index_count - index) % index_count
            position = index if index > flip else flip
            if (sources[position >> 8][(position & 255) >> 3] >> (position & 7)) & 1:
                current[i] = flip
    return tuple(current)
