"""Deterministic keys, clusters and hand-made messages for QBFT rule tests."""

from __future__ import annotations

import hashlib

from nektar.consensus.messages import (
    ZERO_HASH,
    MessageKind,
    Payload,
    QbftMessage,
    SignedPayload,
    Signer,
    value_hash,
)
from nektar.consensus.qbft import Cluster
from nektar.crypto.node_key import NodeKey

INSTANCE = hashlib.sha256(b"test instance").digest()


def node_keys(n: int, tag: bytes = b"") -> list[NodeKey]:
    return [NodeKey(hashlib.sha256(b"qbft node" + tag + bytes([i])).digest()) for i in range(n)]


def cluster_of(keys: list[NodeKey]) -> Cluster:
    return Cluster(tuple(k.address for k in keys))


def valid(value: bytes) -> bool:
    """The test validity predicate: honest values start with b"ok"."""
    return value.startswith(b"ok")


class Forger:
    """Signs arbitrary QBFT messages with a member's key (byzantine or scripted behaviour)."""

    def __init__(self, key: NodeKey, instance: bytes = INSTANCE) -> None:
        self.signer = Signer(key)
        self.address = key.address
        self.instance = instance

    def signed(
        self, kind: MessageKind, r: int, vhash: bytes = ZERO_HASH, prepared: int = 0
    ) -> SignedPayload:
        return self.signer.sign(Payload(kind, self.instance, r, vhash, prepared))

    def proposal(
        self,
        r: int,
        value: bytes,
        round_changes: tuple[SignedPayload, ...] = (),
        prepares: tuple[SignedPayload, ...] = (),
    ) -> QbftMessage:
        signed = self.signed(MessageKind.PROPOSAL, r, value_hash(value))
        return QbftMessage(signed, value, round_changes, prepares)

    def prepare(self, r: int, value: bytes) -> QbftMessage:
        return QbftMessage(self.signed(MessageKind.PREPARE, r, value_hash(value)))

    def commit(self, r: int, value: bytes) -> QbftMessage:
        return QbftMessage(self.signed(MessageKind.COMMIT, r, value_hash(value)))

    def round_change(
        self,
        r: int,
        prepared_round: int = 0,
        value: bytes = b"",
        prepares: tuple[SignedPayload, ...] = (),
    ) -> QbftMessage:
        vhash = value_hash(value) if prepared_round else ZERO_HASH
        signed = self.signed(MessageKind.ROUND_CHANGE, r, vhash, prepared_round)
        return QbftMessage(signed, value, prepares=prepares)
