"""ABI helpers: revert-reason decoding, tuple signatures, overloads, event decoding."""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_utils import keccak
from hypothesis import given
from hypothesis import strategies as st

from nektar.chain import AbiError, ContractAbi, TransactionReverted
from nektar.chain.abi import canonical_type
from nektar.chain.errors import ERROR_SELECTOR, PANIC_SELECTOR, decode_revert_reason


@given(st.text())
def test_error_string_round_trip(reason: str):
    data = ERROR_SELECTOR + encode(["string"], [reason])
    assert decode_revert_reason(data) == reason
    assert TransactionReverted("f", data).reason == reason


@given(st.binary(max_size=200))
def test_arbitrary_revert_data_never_raises(data: bytes):
    decoded = decode_revert_reason(data)
    assert decoded is None or isinstance(decoded, str)
    assert "reverted" in str(TransactionReverted("f", data))


def test_panic_and_empty():
    assert decode_revert_reason(PANIC_SELECTOR + encode(["uint256"], [0x11])) == "panic 0x11"
    assert decode_revert_reason(b"") is None
    assert str(TransactionReverted("x.f", b"")) == "x.f reverted: no reason (data 0x)"


def test_tuple_types_and_overloads():
    tuple_param = {
        "type": "tuple[]",
        "components": [{"type": "uint256"}, {"type": "tuple", "components": [{"type": "address"}]}],
    }
    assert canonical_type(tuple_param) == "(uint256,(address))[]"
    abi = ContractAbi(
        [
            {"type": "function", "name": "redeem", "inputs": [{"type": "uint256"}], "outputs": []},
            {
                "type": "function",
                "name": "redeem",
                "inputs": [{"type": "uint256"}, {"type": "address"}],
                "outputs": [],
            },
        ]
    )
    assert abi.function("redeem", 1).signature == "redeem(uint256)"
    assert abi.function("redeem", 2).selector == keccak(text="redeem(uint256,address)")[:4]
    with pytest.raises(AbiError, match=r"takes \[1, 2\] arguments, not 3"):
        abi.function("redeem", 3)


def test_event_with_indexed_arguments():
    abi = ContractAbi(
        [
            {
                "type": "event",
                "name": "Transfer",
                "anonymous": False,
                "inputs": [
                    {"name": "sender", "type": "address", "indexed": True},
                    {"name": "memo", "type": "string", "indexed": True},
                    {"name": "value", "type": "uint256", "indexed": False},
                ],
            }
        ]
    )
    event = abi.event_named("Transfer")
    sender = "0x" + "ab" * 20
    topics = [event.topic, bytes(12) + bytes.fromhex("ab" * 20), keccak(text="hi")]
    args = event.decode(topics, encode(["uint256"], [7]))
    assert args == {
        "sender": "0xABaBaBaBABabABabAbAbABAbABabababaBaBABaB",
        "memo": keccak(text="hi"),
        "value": 7,
    }
    assert args["sender"].lower() == sender
    with pytest.raises(AbiError, match="missing topic"):
        event.decode(topics[:2], encode(["uint256"], [7]))
