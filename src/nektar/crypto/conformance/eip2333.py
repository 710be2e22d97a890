"""EIP-2333 conformance suite: key-derivation cases (`DIR/*.json`).

Two layouts, as in staking-deposit-cli's tests: a file with `kdf_tests` (each entry a case:
seed → master_SK, then child_index → child_SK) and an intermediate-values file (one case:
the Lamport chunks `lamport_0`/`lamport_1`, `compressed_lamport_PK` and `child_SK`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from nektar.crypto import eip2333
from nektar.crypto.conformance import CaseResult


def _tree_case(case: dict[str, Any]) -> str:
    master = eip2333.derive_master_sk(bytes.fromhex(case["seed"]))
    if master != int(case["master_SK"]):
        return f"master_SK {master} != {case['master_SK']}"
    child = eip2333.derive_child_sk(master, int(case["child_index"]))
    if child != int(case["child_SK"]):
        return f"child_SK {child} != {case['child_SK']}"
    return ""


def _intermediate_case(case: dict[str, Any]) -> str:
    failure = _tree_case(case)
    if failure:
        return failure
    master, index = int(case["master_SK"]), int(case["child_index"])
    ikm, salt = master.to_bytes(32, "big"), index.to_bytes(4, "big")
    for name, key_material in (("lamport_0", ikm), ("lamport_1", bytes(b ^ 0xFF for b in ikm))):
        chunks = [c.hex() for c in eip2333.ikm_to_lamport_sk(key_material, salt)]
        if chunks != case[name]:
            return f"{name} differs"
    compressed = eip2333.parent_sk_to_lamport_pk(master, index).hex()
    if compressed != case["compressed_lamport_PK"]:
        return f"compressed_lamport_PK {compressed} != {case['compressed_lamport_PK']}"
    return ""


def _cases(path: Path) -> Iterator[tuple[str, Any, Any]]:
    document = json.loads(path.read_text())
    if isinstance(document, dict) and "kdf_tests" in document:
        for i, case in enumerate(document["kdf_tests"]):
            yield f"{path.stem}[{i}]", _tree_case, case
    elif isinstance(document, dict) and "lamport_0" in document:
        yield path.stem, _intermediate_case, document
    else:
        raise ValueError("neither a kdf_tests file nor an intermediate-values file")


def run_cases(directory: Path) -> Iterator[CaseResult]:
    for path in sorted(Path(directory).glob("*.json")):
        try:
            cases = list(_cases(path))
        except (OSError, ValueError) as exc:
            yield CaseResult(path.stem, False, f"malformed case file: {exc}")
            continue
        for name, check, case in cases:
            try:
                failure = check(case)
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                failure = f"malformed case: {exc!r}"
            yield CaseResult(name, not failure, failure)
