"""The Beacon API JSON codec: round trips over real containers, spec encodings, typed errors."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from remerkleable.basic import boolean, uint
from remerkleable.bitfields import Bitlist, Bitvector
from remerkleable.byte_arrays import ByteList, ByteVector
from remerkleable.complex import Container, List, Vector

from nektar.beacon.chain.containers import (
    AttesterSlashing,
    BeaconBlock,
    ProposerSlashing,
    SignedBeaconBlock,
    SignedVoluntaryExit,
)
from nektar.beacon.json_codec import (
    CodecError,
    decode,
    decode_hex,
    decode_ssz,
    decode_uint,
    encode,
    encode_ssz,
)
from nektar.crypto.signing import (
    Attestation,
    AttestationData,
    Checkpoint,
    SignedAggregateAndProof,
    SingleAttestation,
    SyncCommitteeContribution,
)

SMALL = 6  # cap on generated list lengths: the codec's logic does not depend on size


def values(typ: type) -> st.SearchStrategy:
    """A hypothesis strategy for any remerkleable type (lists capped at SMALL items)."""
    if issubclass(typ, boolean):
        return st.booleans().map(typ)
    if issubclass(typ, uint):
        return st.integers(0, 2 ** (typ.type_byte_length() * 8) - 1).map(typ)
    if issubclass(typ, ByteVector):
        n = typ.type_byte_length()
        return st.binary(min_size=n, max_size=n).map(typ)
    if issubclass(typ, ByteList):
        return st.binary(max_size=min(typ.limit(), 40)).map(typ)
    if issubclass(typ, Bitvector):
        n = typ.vector_length()
        return st.lists(st.booleans(), min_size=n, max_size=n).map(lambda b: typ(*b))
    if issubclass(typ, Bitlist):
        return st.lists(st.booleans(), max_size=min(typ.limit(), 70)).map(lambda b: typ(*b))
    if issubclass(typ, Container):
        fields = {name: values(t) for name, t in typ.fields().items()}
        return st.fixed_dictionaries(fields).map(lambda kw: typ(**kw))
    if issubclass(typ, Vector):
        n = typ.vector_length()
        return st.lists(values(typ.element_cls()), min_size=n, max_size=n).map(lambda x: typ(*x))
    if issubclass(typ, List):
        return st.lists(values(typ.element_cls()), max_size=min(typ.limit(), SMALL)).map(
            lambda x: typ(*x)
        )
    raise TypeError(typ)


ROUND_TRIP_TYPES = [
    AttestationData,
    Attestation,
    SingleAttestation,
    SignedAggregateAndProof,
    SyncCommitteeContribution,
    SignedVoluntaryExit,
    ProposerSlashing,
    AttesterSlashing,
]


@given(data=st.data())
def test_json_and_ssz_round_trip(data: st.DataObject) -> None:
    typ = data.draw(st.sampled_from(ROUND_TRIP_TYPES))
    value = data.draw(values(typ))
    as_json = json.loads(json.dumps(encode(value)))
    assert decode(typ, as_json).hash_tree_root() == value.hash_tree_root()
    assert decode_ssz(typ, encode_ssz(value)).hash_tree_root() == value.hash_tree_root()


def test_full_electra_block_round_trips() -> None:
    block = SignedBeaconBlock(message=BeaconBlock(slot=7, proposer_index=3))
    as_json = json.loads(json.dumps(encode(block)))
    assert as_json["message"]["slot"] == "7"
    assert as_json["message"]["body"]["execution_payload"]["base_fee_per_gas"] == "0"
    assert decode(SignedBeaconBlock, as_json).hash_tree_root() == block.hash_tree_root()


def test_spec_encodings() -> None:
    """Quoted integers, 0x-hex bytes, bitfields as SSZ hex (the spec's own example values)."""
    attestation = decode(
        Attestation,
        {
            "aggregation_bits": "0x01",
            "committee_bits": "0x0100000000000000",
            "signature": "0x" + "ab" * 96,
            "data": {
                "slot": "1",
                "index": "0",
                "beacon_block_root": "0x" + "cf" * 32,
                "source": {"epoch": "1", "root": "0x" + "CF" * 32},
                "target": {"epoch": "18446744073709551615", "root": "0x" + "cf" * 32},
            },
            "extra_field_from_a_newer_node": True,
        },
    )
    assert len(attestation.aggregation_bits) == 0  # 0x01 is only the delimiter bit
    assert attestation.committee_bits[0] and not any(attestation.committee_bits[1:])
    assert attestation.data.target.epoch == 2**64 - 1
    encoded = encode(attestation)
    assert encoded["data"]["source"]["root"] == "0x" + "cf" * 32  # lowercase out
    assert encoded["committee_bits"] == "0x0100000000000000"


@pytest.mark.parametrize(
    ("raw", "bits", "fragment"),
    [
        (1, 64, "quoted decimal"),
        (True, 64, "quoted decimal"),
        ("-1", 64, "not a decimal"),
        ("+1", 64, "not a decimal"),
        ("1.0", 64, "not a decimal"),
        (" 1", 64, "not a decimal"),
        ("", 64, "not a decimal"),
        ("18446744073709551616", 64, "does not fit"),
        ("256", 8, "does not fit"),
    ],
)
def test_uint_errors(raw: object, bits: int, fragment: str) -> None:
    with pytest.raises(CodecError, match=fragment):
        decode_uint(raw, bits, "slot")


@pytest.mark.parametrize(
    ("raw", "length", "fragment"),
    [
        ("abcd", None, "0x-prefixed"),
        ("0xabc", None, "whole bytes"),
        ("0xzz", None, "0x-prefixed hex"),
        (b"\x00", None, "expected a 0x-prefixed"),
        ("0x00", 32, "expected 32 bytes"),
    ],
)
def test_hex_errors(raw: object, length: int | None, fragment: str) -> None:
    with pytest.raises(CodecError, match=fragment):
        decode_hex(raw, length)


def test_errors_name_the_json_path() -> None:
    good = encode(SingleAttestation())
    bad = {**good, "data": {**good["data"], "source": {"epoch": 3, "root": "0x" + "00" * 32}}}
    with pytest.raises(CodecError, match=r"^\$\.data\.source\.epoch: expected a quoted"):
        decode(SingleAttestation, bad)
    missing = {k: v for k, v in good.items() if k != "attester_index"}
    with pytest.raises(CodecError, match="missing field 'attester_index'"):
        decode(SingleAttestation, missing)


def test_bitfield_and_list_limits() -> None:
    with pytest.raises(CodecError, match="delimiting bit"):
        decode(Attestation.fields()["aggregation_bits"], "0x00")
    with pytest.raises(CodecError, match=r"bits over bit length|bytes of SSZ"):
        decode(Attestation.fields()["committee_bits"], "0xff")
    too_many = [encode(SignedVoluntaryExit())] * 17
    with pytest.raises(CodecError, match="exceed the limit of 16"):
        decode(BeaconBlock.fields()["body"].fields()["voluntary_exits"], too_many)
    with pytest.raises(CodecError, match="bytes of SSZ"):
        decode_ssz(AttestationData, b"\x00" * 10)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


@given(JSONISH)
def test_arbitrary_json_only_raises_codec_error(data: object) -> None:
    for typ in (SingleAttestation, Attestation, SignedVoluntaryExit):
        with contextlib.suppress(CodecError):
            decode(typ, data)


@given(st.binary(max_size=400))
def test_arbitrary_ssz_only_raises_codec_error(data: bytes) -> None:
    for typ in (SingleAttestation, Attestation, AttesterSlashing):
        with contextlib.suppress(CodecError):
            decode_ssz(typ, data)


@settings(max_examples=25)  # each example builds list/vector types: slow in remerkleable
@given(
    st.lists(st.tuples(st.integers(0, 2**64 - 1), st.binary(min_size=32, max_size=32)), max_size=6)
)
def test_sequences_of_containers_decode_to_the_typed_construction(items: list) -> None:
    """Lists/vectors of containers are assembled from backing nodes; same value as typed."""
    checkpoints = [Checkpoint(epoch=e, root=r) for e, r in items]
    typed_list = List[Checkpoint, 8](*checkpoints)
    decoded = decode(List[Checkpoint, 8], encode(typed_list))
    assert decoded.hash_tree_root() == typed_list.hash_tree_root() and len(decoded) == len(items)
    assert decoded.encode_bytes() == typed_list.encode_bytes()
    if items:
        typed_vector = Vector[Checkpoint, len(items)](*checkpoints)
        decoded_vector = decode(Vector[Checkpoint, len(items)], encode(typed_vector))
        assert decoded_vector.hash_tree_root() == typed_vector.hash_tree_root()
