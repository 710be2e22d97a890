"""Pure-Python twins of the Diva operator contracts' arithmetic: cluster selection
(`OperatorRegistry.reserve`), the proposal seed (`ValidatorRegistry.propose`), the bond curve
(`required_bond`, `capacity_for`) and the reward split (`OperatorRegistry.settle`). Nodes use
them to predict the chain; tests check that they agree with the contracts bit for bit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from eth_utils import keccak

SUPPORTED_CLUSTER_SIZES = (4, 7, 10, 13, 16)
STATUS_ACTIVE = 1
MAX_OPERATORS = 256
MAX_CLUSTER = 16
BPS = 10_000
MAX_CAPACITY = 2**24 - 1


class SelectionError(ValueError):
    """Inputs the contracts would never see (sizes, ids, bounds)."""


def threshold(n: int) -> int:
    """t = ⌈2n/3⌉: 4 → 3, 7 → 5, 10 → 7, 13 → 9, 16 → 11."""
    if n not in SUPPORTED_CLUSTER_SIZES:
        raise SelectionError(f"cluster size {n} not in {SUPPORTED_CLUSTER_SIZES}")
    return (2 * n + 2) // 3


def _word(value: int) -> bytes:
    if not 0 <= value < 2**256:
        raise SelectionError(f"{value} is not a uint256")
    return value.to_bytes(32, "big")


def proposal_seed(prevrandao: int, previous_validator_id: int) -> bytes:
    """keccak256(abi.encode(prevrandao, previous validator id))."""
    return keccak(_word(prevrandao) + _word(previous_validator_id))


def required_bond(shares: int, bond: int, curve_bps: int) -> int:
    """Collateral that `shares` key shares need: the k-th costs bond × (1 + (k−1)·curve/BPS)."""
    if shares <= 0:
        return 0
    return bond * shares + bond * curve_bps * shares * (shares - 1) // (2 * BPS)


def capacity_for(worth: int, bond: int, curve_bps: int) -> int:
    """The most key shares `worth` wei backs (capped at the contract's 24-bit field)."""
    if bond <= 0:
        raise SelectionError("the bond per key share is positive")
    if curve_bps == 0:
        return min(worth // bond, MAX_CAPACITY)
    low, high = 0, MAX_CAPACITY
    while low < high:
        middle = (low + high + 1) // 2
        if required_bond(middle, bond, curve_bps) <= worth:
            low = middle
        else:
            high = middle - 1
    return low


@dataclass(frozen=True)
class OperatorSlot:
    """What the selection reads of one operator (ids are 1, 2, … in registration order)."""

    operator_id: int
    status: int
    capacity: int
    used: int

    @property
    def free(self) -> int:
        return max(self.capacity - self.used, 0)


def select(
    seed: bytes, n: int, operators: Sequence[OperatorSlot], exclude: Iterable[int] = ()
) -> list[int]:
    """The operator ids `reserve(seed, n, exclude)` picks, in member order; [] when fewer than
    n operators are active, not excluded and have free capacity.

    Draw k: r = keccak256(seed ‖ k) mod (remaining weight); walk operators by id summing
    weights and pick the first whose running sum exceeds r; its weight then drops to zero.
    """
    if len(seed) != 32:
        raise SelectionError("the seed is 32 bytes")
    if not 1 <= n <= MAX_CLUSTER:
        raise SelectionError(f"cluster size {n} outside 1..{MAX_CLUSTER}")
    ordered = sorted(operators, key=lambda o: o.operator_id)
    if [o.operator_id for o in ordered] != list(range(1, len(ordered) + 1)):
        raise SelectionError("operators must be exactly the ids 1..m")
    if len(ordered) > MAX_OPERATORS:
        raise SelectionError(f"at most {MAX_OPERATORS} operators")
    excluded = set(exclude)
    weights = [
        o.free if o.status == STATUS_ACTIVE and o.operator_id not in excluded else 0
        for o in ordered
    ]
    if sum(1 for w in weights if w) < n:
        return []
    total = sum(weights)
    picked = []
    for k in range(n):
        r = int.from_bytes(keccak(seed + _word(k)), "big") % total
        acc, index = 0, 0
        while r >= acc + weights[index]:
            acc += weights[index]
            index += 1
        picked.append(index + 1)
        total -= weights[index]
        weights[index] = 0
    return picked


@dataclass(frozen=True)
class Performance:
    """One report entry: the operator, its active key shares and its missed duties."""

    operator_id: int
    active_shares: int
    missed: int

    def packed(self) -> int:
        """The report's encoding: operator_id << 32 | missed duties."""
        return (self.operator_id << 32) | self.missed


def split_rewards(
    reward_shares: int, entries: Sequence[Performance], duties_per_share: int
) -> tuple[dict[int, int], int]:
    """({operator id: shares credited}, shares burnt), as `settle` computes them.

    weight = max(active × duties_per_share − missed, 0); each operator gets
    ⌊reward × weight / Σweight⌋ and the remainder (< number of entries, or everything when
    Σweight = 0) is burnt: credited + burnt == reward_shares exactly.
    """
    weights = {
        e.operator_id: max(e.active_shares * duties_per_share - e.missed, 0) for e in entries
    }
    total = sum(weights.values())
    credited = {
        operator_id: (reward_shares * weight // total if total else 0)
        for operator_id, weight in weights.items()
    }
    return credited, reward_shares - sum(credited.values())
