"""Deposit signing roots against the staking-deposit-cli vectors in ../shared/vectors/deposit."""

from __future__ import annotations

import json

import pytest

from nektar.crypto.signing import (
    compute_deposit_domain,
    deposit_data_root,
    deposit_message_root,
    eth1_withdrawal_credentials,
)


def _entries(vectors_dir):
    return json.loads((vectors_dir / "deposit" / "charon_deposit_data.golden.json").read_text())


def test_deposit_roots_match_vectors(vectors_dir):
    entries = _entries(vectors_dir)
    assert len(entries) == 4
    for e in entries:
        pubkey, creds = bytes.fromhex(e["pubkey"]), bytes.fromhex(e["withdrawal_credentials"])
        assert deposit_message_root(pubkey, creds, e["amount"]).hex() == e["deposit_message_root"]
        root = deposit_data_root(pubkey, creds, e["amount"], bytes.fromhex(e["signature"]))
        assert root.hex() == e["deposit_data_root"]


def test_deposit_domain_depends_on_fork_version():
    assert compute_deposit_domain(b"\x00" * 4) != compute_deposit_domain(b"\x00\x00\x10\x20")
    assert compute_deposit_domain(b"\x00" * 4)[:4] == bytes.fromhex("03000000")


def test_eth1_credentials_layout():
    creds = eth1_withdrawal_credentials(b"\xaa" * 20)
    assert creds == b"\x01" + b"\x00" * 11 + b"\xaa" * 20
    with pytest.raises(ValueError):
        eth1_withdrawal_credentials(b"\xaa" * 19)
