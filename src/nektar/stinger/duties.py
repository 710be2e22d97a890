"""The duty: the unit of work of the node (as in Charon's core workflow).

A `Duty` is what the cluster does at one slot for one kind of message; every stage keys its
state by it. Consensus, the duty store and partial signatures key by (duty, committee) where
a committee is the set of members a group of validators shares.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class DutyType(IntEnum):
    """Kinds of duties. Values are on the wire (QBFT instance ids, partial-signature messages)."""

    PROPOSER = 1  # consensus on the block, sign its header
    ATTESTER = 2  # consensus on the slot's AttestationData
    RANDAO = 3  # partial randao reveals, combined before producing a block
    SELECTION = 4  # partial selection proofs, combined to learn who aggregates
    AGGREGATOR = 5  # consensus on the aggregates, sign AggregateAndProof
    EXIT = 6  # voluntary exit (no consensus: the message is fixed by its epoch)
    SYNC_MESSAGE = 7  # consensus on the head block root, sign it
    SYNC_SELECTION = 8  # partial sync selection proofs (per subcommittee), combined
    SYNC_CONTRIBUTION = 9  # consensus on the contributions, sign ContributionAndProof


@dataclass(frozen=True, order=True)
class Duty:
    type: DutyType
    slot: int

    def __str__(self) -> str:
        return f"{self.type.name.lower()}@{self.slot}"
