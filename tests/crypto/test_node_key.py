"""The node identity key: addresses match eth-account, signatures recover, forgeries fail."""

from __future__ import annotations

import contextlib

import pytest
from eth_account import Account
from hypothesis import given
from hypothesis import strategies as st

from nektar.crypto.node_key import (
    NodeKey,
    NodeKeyError,
    recover_public_key,
    verify_hash,
)


def test_address_matches_eth_account():
    key = NodeKey.generate()
    assert Account.from_key(key.secret).address.lower() == "0x" + key.address.hex()


def test_sign_recover_and_reject_forgery():
    key, other = NodeKey.generate(), NodeKey.generate()
    digest = b"\x11" * 32
    sig = key.sign_hash(digest)
    assert recover_public_key(digest, sig) == key.public_key
    assert verify_hash(key.public_key, digest, sig)
    assert not verify_hash(other.public_key, digest, sig)
    assert not verify_hash(key.public_key, b"\x12" * 32, sig)


@given(st.binary(max_size=80), st.binary(max_size=80))
def test_malformed_input_only_raises_typed_errors(digest, signature):
    with contextlib.suppress(NodeKeyError):
        recover_public_key(digest, signature)


def test_bad_secret_rejected():
    with pytest.raises(NodeKeyError):
        NodeKey(b"\x00" * 32)
