"""The devnet DepositContract against the phase-0 rules, run directly on titanoboa.

Roots are checked against remerkleable's `List[DepositData, 2**32]`, an implementation
independent of the contract's incremental tree.
"""

from __future__ import annotations

import json
from pathlib import Path

import boa
import pytest
from eth_utils import keccak
from hypothesis import given
from hypothesis import strategies as st
from remerkleable.basic import uint64
from remerkleable.complex import List

from nektar.crypto.signing import DepositData, deposit_data_root

CONTRACT = Path(__file__).resolve().parents[3] / "contracts" / "beacon" / "DepositContract.vy"
ETH = 10**18
GWEI = 10**9
DepositList = List[DepositData, 2**32]


@pytest.fixture(scope="module")
def deposit_contract():
    return boa.load(str(CONTRACT))


@pytest.fixture(autouse=True)
def _isolate():
    with boa.env.anchor():
        boa.env.set_balance(boa.env.eoa, 10**30)
        yield


def make_deposit(i: int, amount_gwei: int = 32 * 10**9) -> tuple[bytes, bytes, bytes, int, bytes]:
    """A well-formed deposit (the contract does not verify BLS, only the data root)."""
    pubkey = keccak(b"pk%d" % i) + keccak(b"pk'%d" % i)[:16]
    credentials = b"\x01" + b"\x00" * 11 + keccak(b"wc%d" % i)[:20]
    signature = keccak(b"s1%d" % i) + keccak(b"s2%d" % i) + keccak(b"s3%d" % i)
    root = deposit_data_root(pubkey, credentials, amount_gwei, signature)
    return pubkey, credentials, signature, amount_gwei, root


def do_deposit(contract, pubkey, credentials, signature, amount_gwei, root) -> None:
    contract.deposit(pubkey, credentials, signature, root, value=amount_gwei * GWEI)


def le64(n: int) -> bytes:
    return n.to_bytes(8, "little")


def test_empty_tree(deposit_contract):
    assert deposit_contract.get_deposit_count() == le64(0)
    assert deposit_contract.get_deposit_root() == bytes(DepositList().hash_tree_root())


def test_root_matches_ssz_list_after_each_deposit(deposit_contract):
    """33 deposits cross every carry pattern up to height 5 (1, 2, 4, 8, 16, 32 leaves)."""
    ssz = DepositList()
    for i in range(33):
        pubkey, credentials, signature, amount, root = make_deposit(i, (1 + i) * 10**9)
        do_deposit(deposit_contract, pubkey, credentials, signature, amount, root)
        ssz.append(
            DepositData(
                pubkey=pubkey,
                withdrawal_credentials=credentials,
                amount=uint64(amount),
                signature=signature,
            )
        )
        assert deposit_contract.get_deposit_count() == le64(i + 1)
        assert deposit_contract.get_deposit_root() == bytes(ssz.hash_tree_root())


def test_event_encoding(deposit_contract):
    for i in range(3):
        pubkey, credentials, signature, amount, root = make_deposit(i, 32 * 10**9 + i)
        do_deposit(deposit_contract, pubkey, credentials, signature, amount, root)
        (event,) = deposit_contract.get_logs()
        assert type(event).__name__ == "DepositEvent"
        assert event.pubkey == pubkey
        assert event.withdrawal_credentials == credentials
        assert event.amount == le64(amount)
        assert event.signature == signature
        assert event.index == le64(i)


@given(amount_gwei=st.integers(min_value=10**9, max_value=2**64 - 1))
def test_any_amount_is_encoded_little_endian(deposit_contract, amount_gwei):
    with boa.env.anchor():
        pubkey, credentials, signature, amount, root = make_deposit(0, amount_gwei)
        do_deposit(deposit_contract, pubkey, credentials, signature, amount, root)
        (event,) = deposit_contract.get_logs()
        assert event.amount == le64(amount_gwei)


@pytest.mark.parametrize(
    ("field", "length", "reason"),
    [
        ("pubkey", 47, "invalid pubkey length"),
        ("pubkey", 49, "invalid pubkey length"),
        ("credentials", 31, "invalid withdrawal_credentials length"),
        ("credentials", 33, "invalid withdrawal_credentials length"),
        ("signature", 95, "invalid signature length"),
        ("signature", 97, "invalid signature length"),
    ],
)
def test_wrong_lengths_revert(deposit_contract, field, length, reason):
    pubkey, credentials, signature, amount, root = make_deposit(1)
    values = {"pubkey": pubkey, "credentials": credentials, "signature": signature}
    values[field] = (values[field] * 2)[:length]
    with boa.reverts(f"DepositContract: {reason}"):
        deposit_contract.deposit(
            values["pubkey"], values["credentials"], values["signature"], root, value=amount * GWEI
        )


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (ETH - GWEI, "deposit value too low"),
        (0, "deposit value too low"),
        (ETH + 1, "deposit value not multiple of gwei"),
        (2**64 * GWEI, "deposit value too high"),
    ],
)
def test_bad_values_revert(deposit_contract, value, reason):
    pubkey, credentials, signature, _, _ = make_deposit(2)
    root = deposit_data_root(pubkey, credentials, (value // GWEI) % 2**64, signature)
    with boa.reverts(f"DepositContract: {reason}"):
        deposit_contract.deposit(pubkey, credentials, signature, root, value=value)


def test_wrong_root_reverts(deposit_contract):
    pubkey, credentials, signature, amount, root = make_deposit(3)
    reason = "reconstructed DepositData does not match supplied deposit_data_root"
    with boa.reverts(f"DepositContract: {reason}"):
        # The root of the same data with another amount: right shape, wrong content.
        deposit_contract.deposit(pubkey, credentials, signature, root, value=(amount + 1) * GWEI)
    assert deposit_contract.get_deposit_count() == le64(0)


def test_full_tree_reverts(deposit_contract):
    slot = deposit_contract.compiler_data.storage_layout["storage_layout"]["deposit_count"]["slot"]
    boa.env.set_storage(deposit_contract.address, slot, 2**32 - 1)
    with boa.reverts("DepositContract: merkle tree full"):
        do_deposit(deposit_contract, *make_deposit(4))


def test_supports_interface(deposit_contract):
    def selector(signature: str) -> bytes:
        return keccak(text=signature)[:4]

    deposit_id = bytes(
        a ^ b ^ c
        for a, b, c in zip(
            selector("deposit(bytes,bytes,bytes,bytes32)"),
            selector("get_deposit_root()"),
            selector("get_deposit_count()"),
            strict=True,
        )
    )
    assert deposit_contract.supportsInterface(selector("supportsInterface(bytes4)"))
    assert deposit_contract.supportsInterface(deposit_id)
    assert not deposit_contract.supportsInterface(b"\xff\xff\xff\xff")
    assert not deposit_contract.supportsInterface(b"\x00\x00\x00\x00")


def test_charon_vectors_accepted_and_tampered_rejected(deposit_contract, vectors_dir: Path):
    entries = json.loads((vectors_dir / "deposit" / "charon_deposit_data.golden.json").read_text())
    ssz = DepositList()
    for index, entry in enumerate(entries):
        pubkey = bytes.fromhex(entry["pubkey"])
        credentials = bytes.fromhex(entry["withdrawal_credentials"])
        signature = bytes.fromhex(entry["signature"])
        root = bytes.fromhex(entry["deposit_data_root"])
        assert deposit_data_root(pubkey, credentials, entry["amount"], signature) == root

        tampered = signature[:-1] + bytes([signature[-1] ^ 1])
        with boa.reverts(
            "DepositContract: reconstructed DepositData does not match supplied deposit_data_root"
        ):
            deposit_contract.deposit(
                pubkey, credentials, tampered, root, value=entry["amount"] * GWEI
            )

        deposit_contract.deposit(pubkey, credentials, signature, root, value=entry["amount"] * GWEI)
        (event,) = deposit_contract.get_logs()
        assert event.index == le64(index)
        ssz.append(
            DepositData(
                pubkey=pubkey,
                withdrawal_credentials=credentials,
                amount=uint64(entry["amount"]),
                signature=signature,
            )
        )
    assert deposit_contract.get_deposit_root() == bytes(ssz.hash_tree_root())
