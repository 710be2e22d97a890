"""Normative SSZ containers of QBFT messages (remerkleable; no postponed annotations here,
remerkleable reads the field types at class creation).

`nektar.consensus.messages` encodes the same containers with a hand-written codec for speed;
`to_ssz` converts a message so that tests (and anyone porting the protocol) can check both agree.
"""

from remerkleable.basic import uint8, uint64
from remerkleable.byte_arrays import ByteList, Bytes32, ByteVector
from remerkleable.complex import Container, List

from nektar.consensus.messages import MAX_JUSTIFICATION, MAX_VALUE_BYTES, QbftMessage, SignedPayload


class InstanceKeySSZ(Container):
    duty_type: uint8
    slot: uint64
    cluster_id: Bytes32


class PayloadSSZ(Container):
    kind: uint8
    instance: Bytes32
    round: uint64
    value_hash: Bytes32
    prepared_round: uint64


class SignedPayloadSSZ(Container):
    payload: PayloadSSZ
    signature: ByteVector[65]


class MessageSSZ(Container):
    signed: SignedPayloadSSZ
    value: ByteList[MAX_VALUE_BYTES]
    round_changes: List[SignedPayloadSSZ, MAX_JUSTIFICATION]
    prepares: List[SignedPayloadSSZ, MAX_JUSTIFICATION]
    commits: List[SignedPayloadSSZ, MAX_JUSTIFICATION]


class SigningDataSSZ(Container):
    object_root: Bytes32
    domain: Bytes32


def signed_to_ssz(signed: SignedPayload) -> SignedPayloadSSZ:
    p = signed.payload
    return SignedPayloadSSZ(
        payload=PayloadSSZ(
            kind=int(p.kind),
            instance=p.instance,
            round=p.round,
            value_hash=p.value_hash,
            prepared_round=p.prepared_round,
        ),
        signature=signed.signature,
    )


def to_ssz(message: QbftMessage) -> MessageSSZ:
    """The remerkleable view of a message (same bytes as `message.encode()`)."""
    return MessageSSZ(
        signed=signed_to_ssz(message.signed),
        value=message.value,
        round_changes=[signed_to_ssz(s) for s in message.round_changes],
        prepares=[signed_to_ssz(s) for s in message.prepares],
        commits=[signed_to_ssz(s) for s in message.commits],
    )
