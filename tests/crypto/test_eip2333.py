"""EIP-2333 derivation against ../shared/vectors/eip2333 and EIP-2334 path handling."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nektar.crypto import eip2333


def _load(vectors_dir, name):
    return json.loads((vectors_dir / "eip2333" / name).read_text())


def test_tree_kdf_vectors(vectors_dir):
    cases = _load(vectors_dir, "tree_kdf.json")["kdf_tests"]
    assert len(cases) == 4
    for case in cases:
        master = eip2333.derive_master_sk(bytes.fromhex(case["seed"]))
        assert master == case["master_SK"]
        assert eip2333.derive_child_sk(master, case["child_index"]) == case["child_SK"]


def test_intermediate_lamport_values(vectors_dir):
    case = _load(vectors_dir, "tree_kdf_intermediate.json")
    master, index = case["master_SK"], case["child_index"]
    assert eip2333.derive_master_sk(bytes.fromhex(case["seed"])) == master
    ikm, salt = master.to_bytes(32, "big"), index.to_bytes(4, "big")
    lamport_0 = eip2333.ikm_to_lamport_sk(ikm, salt)
    lamport_1 = eip2333.ikm_to_lamport_sk(bytes(b ^ 0xFF for b in ikm), salt)
    assert [c.hex() for c in lamport_0] == case["lamport_0"]
    assert [c.hex() for c in lamport_1] == case["lamport_1"]
    compressed = eip2333.parent_sk_to_lamport_pk(master, index)
    assert compressed.hex() == case["compressed_lamport_PK"]
    assert eip2333.derive_child_sk(master, index) == case["child_SK"]


def test_paths(vectors_dir):
    case = _load(vectors_dir, "tree_kdf.json")["kdf_tests"][0]
    seed = bytes.fromhex(case["seed"])
    assert eip2333.derive_path(seed, f"m/{case['child_index']}") == case["child_SK"]
    assert eip2333.signing_key_path(5) == "m/12381/3600/5/0/0"
    assert eip2333.withdrawal_key_path(5) == "m/12381/3600/5/0"
    assert eip2333.parse_path("m/12381/3600/5/0/0") == [12381, 3600, 5, 0, 0]
    assert eip2333.parse_path("m") == []


@pytest.mark.parametrize("path", ["", "n/1", "m/", "m/-1", "m/4294967296", "m/1//2", "m/0x1"])
def test_bad_paths(path):
    with pytest.raises(eip2333.KeyDerivationError):
        eip2333.parse_path(path)


def test_bad_inputs():
    with pytest.raises(eip2333.KeyDerivationError, match="32 bytes"):
        eip2333.derive_master_sk(b"\x01" * 31)
    with pytest.raises(eip2333.KeyDerivationError):
        eip2333.derive_child_sk(1, 2**32)
    with pytest.raises(eip2333.KeyDerivationError):
        eip2333.derive_child_sk(-1, 0)


@given(st.text(max_size=40))
def test_random_paths_only_typed_errors(path):
    try:
        indices = eip2333.parse_path(path)
    except eip2333.KeyDerivationError:
        return
    assert all(0 <= i < 2**32 for i in indices)
