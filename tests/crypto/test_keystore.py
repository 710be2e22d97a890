"""EIP-2335 keystores against ../shared/vectors/eip2335, round trips, and hostile input."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nektar.crypto import bls
from nektar.crypto.keystore import (
    Keystore,
    KeystoreError,
    load_secret_key,
    normalize_password,
    save_secret_key,
)

PASSWORD = "\U0001d531\U0001d522\U0001d530\U0001d531\U0001d52d\U0001d51e\U0001d530\U0001d530\U0001d534\U0001d52c\U0001d52f\U0001d521\U0001f511"  # noqa: E501
SECRET = bytes.fromhex("000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f")
CHEAP_SCRYPT = {"n": 2**4}
CHEAP_PBKDF2 = {"c": 2**4}


def test_password_normalisation():
    assert normalize_password(PASSWORD) == "testpassword🔑".encode()
    assert normalize_password("a\x00b\x1fc\x7fd\x9fe\u00a0") == b"abcde "


def test_pbkdf2_vector(vectors_dir):
    keystore = Keystore.load(vectors_dir / "eip2335" / "test0.json")
    assert keystore.kdf.function == "pbkdf2"
    assert keystore.decrypt(PASSWORD) == SECRET
    assert load_secret_key(keystore, PASSWORD) == int.from_bytes(SECRET, "big")
    with pytest.raises(KeystoreError, match="checksum"):
        keystore.decrypt("testpassword")


# The scrypt vectors (test1.json and Charon's keystore, n = 2^18, about a second each) run
# once, through `nektar conformance eip2335` in test_conformance.py, which checks that each
# decrypts and that its secret is the key of its pubkey.


@pytest.mark.parametrize(("kdf", "params"), [("scrypt", CHEAP_SCRYPT), ("pbkdf2", CHEAP_PBKDF2)])
def test_key_share_round_trip(tmp_path, kdf, params):
    sk = bls.keygen(b"\x42" * 32)
    file = tmp_path / "share.json"
    written = save_secret_key(
        sk, "pässwörd", file, path="m/12381/3600/0/0/0", kdf=kdf, kdf_params=params
    )
    assert (file.stat().st_mode & 0o777) == 0o600
    read = Keystore.load(file)
    assert read.pubkey == bls.sk_to_pk(sk) and read.path == "m/12381/3600/0/0/0"
    assert read.uuid == written.uuid
    assert load_secret_key(file, "pässwörd") == sk
    assert load_secret_key(file, "pa\u0308sswo\u0308rd") == sk  # NFKD-equivalent spelling
    with pytest.raises(KeystoreError):
        load_secret_key(file, "password")


def test_pubkey_mismatch_detected(tmp_path):
    keystore = Keystore.encrypt(SECRET, "x", kdf_params=CHEAP_SCRYPT, pubkey=bls.sk_to_pk(5))
    with pytest.raises(KeystoreError, match="pubkey"):
        load_secret_key(keystore, "x")


def _cheap_document() -> dict:
    return Keystore.encrypt(SECRET, "x", kdf="pbkdf2", kdf_params=CHEAP_PBKDF2).to_json()


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(version=3), "version"),
        (lambda d: d.pop("crypto"), "crypto"),
        (lambda d: d["crypto"]["kdf"].update(function="argon2"), "unsupported kdf"),
        (lambda d: d["crypto"]["cipher"].update(function="aes-256-gcm"), "cipher"),
        (lambda d: d["crypto"]["checksum"].update(message="zz"), "hex"),
        (lambda d: d["crypto"]["cipher"]["params"].update(iv="00"), "iv"),
        (lambda d: d["crypto"]["kdf"]["params"].update(c=-1), "positive"),
        (lambda d: d["crypto"]["kdf"]["params"].update(prf="hmac-sha512"), "prf"),
        (lambda d: d.update(pubkey="abcd"), "pubkey"),
        (lambda d: d.update(path=7), "path"),
    ],
)
def test_malformed_keystores(mutate, message):
    document = _cheap_document()
    mutate(document)
    with pytest.raises(KeystoreError, match=message):
        Keystore.from_json(json.dumps(document))


def test_hostile_scrypt_parameters_rejected_before_work():
    document = Keystore.encrypt(SECRET, "x", kdf_params=CHEAP_SCRYPT).to_json()
    document["crypto"]["kdf"]["params"].update(n=2**30)
    with pytest.raises(KeystoreError, match="memory"):
        Keystore.from_json(document)
    document["crypto"]["kdf"]["params"].update(n=1000)
    with pytest.raises(KeystoreError, match="power of two"):
        Keystore.from_json(document)


def test_unreadable_files(tmp_path):
    with pytest.raises(KeystoreError):
        Keystore.load(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_bytes(b"\xff\xfe{")
    with pytest.raises(KeystoreError):
        Keystore.load(tmp_path / "bad.json")


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(st.binary(max_size=200))
def test_random_bytes_only_typed_errors(data):
    with pytest.raises(KeystoreError):
        Keystore.from_json(data)


@given(_json)
def test_random_json_only_typed_errors(document):
    with pytest.raises(KeystoreError):
        Keystore.from_json(json.dumps(document))


@given(
    st.sampled_from(["kdf", "checksum", "cipher"]),
    st.sampled_from(["function", "params", "message"]),
    _json,
)
def test_mutated_fields_only_typed_errors(module, key, value):
    document = _cheap_document()
    document["crypto"][module][key] = value
    with contextlib.suppress(KeystoreError):
        Keystore.from_json(document).decrypt("x")
