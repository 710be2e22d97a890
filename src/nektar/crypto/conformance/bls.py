"""BLS conformance suite: the consensus-spec BLS cases (`DIR/<handler>/**/*.yaml`).

Each handler directory is one operation; each YAML file holds `input` and `output` with `0x`
hex values, `output: null` meaning the operation must fail (raise `BLSError`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from nektar.crypto import bls
from nektar.crypto.conformance import CaseResult


def _hex(value: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise ValueError(f"expected a 0x-hex string, got {value!r}")
    return bytes.fromhex(value[2:])


def _sign(case: dict[str, Any]) -> bytes:
    return bls.sign(int.from_bytes(_hex(case["privkey"]), "big"), _hex(case["message"]))


def _verify(case: dict[str, Any]) -> bool:
    return bls.verify(_hex(case["pubkey"]), _hex(case["message"]), _hex(case["signature"]))


def _aggregate(case: list[str]) -> bytes:
    return bls.aggregate([_hex(s) for s in case])


def _fast_aggregate_verify(case: dict[str, Any]) -> bool:
    pks = [_hex(p) for p in case["pubkeys"]]
    return bls.fast_aggregate_verify(pks, _hex(case["message"]), _hex(case["signature"]))


def _eth_fast_aggregate_verify(case: dict[str, Any]) -> bool:
    pks = [_hex(p) for p in case["pubkeys"]]
    return bls.eth_fast_aggregate_verify(pks, _hex(case["message"]), _hex(case["signature"]))


def _aggregate_verify(case: dict[str, Any]) -> bool:
    pks = [_hex(p) for p in case["pubkeys"]]
    msgs = [_hex(m) for m in case["messages"]]
    return bls.aggregate_verify(pks, msgs, _hex(case["signature"]))


def _eth_aggregate_pubkeys(case: list[str]) -> bytes:
    return bls.eth_aggregate_pubkeys([_hex(p) for p in case])


HANDLERS: dict[str, Callable[[Any], bytes | bool]] = {
    "sign": _sign,
    "verify": _verify,
    "aggregate": _aggregate,
    "fast_aggregate_verify": _fast_aggregate_verify,
    "eth_fast_aggregate_verify": _eth_fast_aggregate_verify,
    "aggregate_verify": _aggregate_verify,
    "eth_aggregate_pubkeys": _eth_aggregate_pubkeys,
}


def _run_one(handler: Callable[[Any], bytes | bool], path: Path) -> tuple[bool, str]:
    try:
        data = yaml.safe_load(path.read_text())
        expected = data["output"]
        case = data["input"]
    except (OSError, yaml.YAMLError, TypeError, KeyError) as exc:
        return False, f"unreadable case: {exc}"
    try:
        got = handler(case)
    except bls.BLSError as exc:
        return (expected is None, "" if expected is None else f"raised {exc}, expected {expected}")
    except (ValueError, KeyError, TypeError) as exc:
        return False, f"malformed case input: {exc!r}"
    if expected is None:
        return False, f"expected failure, got {got!r}"
    want = expected if isinstance(expected, bool) else _hex(expected)
    if got != want:
        shown = got.hex() if isinstance(got, bytes) else got
        return False, f"expected {expected}, got {shown}"
    return True, ""


def run_cases(directory: Path) -> Iterator[CaseResult]:
    """One result per YAML case under DIR/<handler>/; unknown handlers are reported as failures."""
    for handler_dir in sorted(p for p in Path(directory).iterdir() if p.is_dir()):
        handler = HANDLERS.get(handler_dir.name)
        for path in sorted(handler_dir.rglob("*.yaml")):
            name = str(path.relative_to(directory))
            if handler is None:
                yield CaseResult(name, False, f"unknown BLS handler {handler_dir.name!r}")
                continue
            ok, detail = _run_one(handler, path)
            yield CaseResult(name, ok, detail)
