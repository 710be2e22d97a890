"""Cluster-signed deposits and deposit_data.json (staking-deposit-cli format)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nektar.crypto import bls, deposit, dkg, signing, threshold
from nektar.crypto.deposit import DepositDataError

CREDENTIALS = signing.eth1_withdrawal_credentials(b"\x77" * 20)
FORK = bytes.fromhex("10000910")
GOLDEN = "deposit/charon_deposit_data.golden.json"


@pytest.fixture(scope="module")
def cluster():
    n, t = 4, 3
    members = {i: dkg.DKG(b"\x01" * 32, i, n, t) for i in range(1, n + 1)}
    dkg.run_in_memory(members)
    return t, {i: m.outcome.keys[0] for i, m in members.items()}


def _entry(cluster, signers=(1, 2, 4), amount=32 * signing.GWEI):
    t, keys = cluster
    key = keys[1]
    partials = {
        i: deposit.partial_deposit_signature(
            keys[i].secret_share, key.group_pubkey, CREDENTIALS, amount, FORK
        )
        for i in signers
    }
    return deposit.combine_deposit(
        key.group_pubkey, key.public_shares, partials, t, CREDENTIALS, amount, FORK, "devnet"
    )


def test_cluster_deposit_signature_verifies_and_roots_match_signing(cluster):
    entry = _entry(cluster)
    root = signing.deposit_signing_root(entry.pubkey, CREDENTIALS, entry.amount, FORK)
    assert bls.verify(entry.pubkey, root, entry.signature)
    assert entry.deposit_message_root == signing.deposit_message_root(
        entry.pubkey, CREDENTIALS, entry.amount
    )
    assert entry.deposit_data_root == signing.deposit_data_root(
        entry.pubkey, CREDENTIALS, entry.amount, entry.signature
    )
    assert _entry(cluster, signers=(2, 3, 4)).signature == entry.signature


def test_a_wrong_partial_deposit_signature_is_named(cluster):
    t, keys = cluster
    key = keys[1]
    amount = signing.GWEI
    partials = {
        i: deposit.partial_deposit_signature(
            keys[i].secret_share, key.group_pubkey, CREDENTIALS, amount, FORK
        )
        for i in (1, 2, 3)
    }
    partials[2] = deposit.partial_deposit_signature(
        keys[2].secret_share, key.group_pubkey, CREDENTIALS, amount + 1, FORK
    )
    with pytest.raises(threshold.PartialSignatureError) as error:
        deposit.combine_deposit(
            key.group_pubkey, key.public_shares, partials, t, CREDENTIALS, amount, FORK, "x"
        )
    assert error.value.bad_indices == (2,)


def test_write_then_read_round_trips(cluster, tmp_path):
    entries = [_entry(cluster), _entry(cluster, amount=signing.GWEI)]
    path = tmp_path / "deposit_data.json"
    deposit.write_deposit_data(path, entries)
    raw = json.loads(path.read_text())
    assert set(raw[0]) == {
        "pubkey",
        "withdrawal_credentials",
        "amount",
        "signature",
        "deposit_message_root",
        "deposit_data_root",
        "fork_version",
        "network_name",
        "deposit_cli_version",
    }
    assert raw[1]["amount"] == 10**9 and raw[0]["fork_version"] == "10000910"
    assert deposit.read_deposit_data(path) == entries


def test_reads_the_charon_golden_file(vectors_dir):
    entries = deposit.read_deposit_data(vectors_dir / GOLDEN)
    assert len(entries) == 4
    assert all(e.network_name == "goerli" and e.amount == 32 * 10**9 for e in entries)
    assert entries[0].deposit_data_root.hex().startswith("10e0a77c")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda e: e.update(amount="32"), "integer number of gwei"),
        (lambda e: e.update(amount=0), "outside"),
        (lambda e: e.pop("signature"), "missing signature"),
        (lambda e: e.update(pubkey="zz"), "pubkey is not hex"),
        (lambda e: e.update(fork_version="0000"), "fork_version is 2 bytes"),
        (lambda e: e.update(network_name=5), "network_name must be a string"),
        (lambda e: e.update(amount=31 * 10**9), "deposit_message_root mismatch"),
        (lambda e: e.update(deposit_data_root="00" * 32), "deposit_data_root mismatch"),
        (lambda e: e.update(fork_version="00000000"), "signature does not verify"),
    ],
)
def test_malformed_entries_raise_typed_errors(vectors_dir, mutate, message):
    document = json.loads((vectors_dir / GOLDEN).read_text())
    mutate(document[0])
    with pytest.raises(DepositDataError, match=message):
        deposit.parse_deposit_data(json.dumps(document))


def test_bad_deposit_message_fields_are_rejected(cluster):
    key = cluster[1][1]
    with pytest.raises(DepositDataError, match="withdrawal_credentials must be 32 bytes"):
        deposit.partial_deposit_signature(1, key.group_pubkey, b"\x01", signing.GWEI, FORK)
    with pytest.raises(DepositDataError, match="genesis fork version must be 4 bytes"):
        deposit.partial_deposit_signature(1, key.group_pubkey, CREDENTIALS, signing.GWEI, b"")
    with pytest.raises(DepositDataError, match="outside"):
        deposit.partial_deposit_signature(1, key.group_pubkey, CREDENTIALS, 2**64, FORK)


def test_file_level_errors(tmp_path):
    with pytest.raises(DepositDataError, match="cannot read"):
        deposit.read_deposit_data(tmp_path / "missing.json")
    with pytest.raises(DepositDataError, match="non-empty JSON list"):
        deposit.parse_deposit_data("{}")
    with pytest.raises(DepositDataError, match="expected an object"):
        deposit.parse_deposit_data("[1]")


@given(st.binary(max_size=200))
def test_random_bytes_raise_only_deposit_data_errors(data):
    try:
        deposit.parse_deposit_data(data)
    except DepositDataError as exc:
        assert str(exc)


@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["pubkey", "amount", "signature", "fork_version", "network_name"]),
            st.one_of(st.integers(), st.text(max_size=10), st.none()),
        ),
        max_size=3,
    )
)
def test_random_json_raises_only_deposit_data_errors(document):
    with pytest.raises(DepositDataError):
        deposit.parse_deposit_data(json.dumps(document))
