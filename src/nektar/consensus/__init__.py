"""QBFT consensus instances as pure state machines (DESIGN.md §2).

`qbft.QbftInstance` is one instance; `manager.QbftManager` runs many at one node;
`messages` holds the SSZ wire format and signatures; `timers` the round-timer policies.
"""

from nektar.consensus.manager import ManagerStats, QbftManager
from nektar.consensus.messages import (
    MessageError,
    MessageKind,
    Payload,
    QbftMessage,
    SignatureVerifier,
    SignedPayload,
    instance_id,
    value_hash,
)
from nektar.consensus.qbft import (
    Action,
    Broadcast,
    Cluster,
    ConsensusError,
    Decided,
    Decision,
    QbftInstance,
    StartTimer,
    Unicast,
)
from nektar.consensus.timers import ExponentialTimer, LinearTimer, RoundTimer

__all__ = [
    "Action",
    "Broadcast",
    "Cluster",
    "ConsensusError",
    "Decided",
    "Decision",
    "ExponentialTimer",
    "LinearTimer",
    "ManagerStats",
    "MessageError",
    "MessageKind",
    "Payload",
    "QbftInstance",
    "QbftManager",
    "QbftMessage",
    "RoundTimer",
    "SignatureVerifier",
    "SignedPayload",
    "StartTimer",
    "Unicast",
    "instance_id",
    "value_hash",
]
