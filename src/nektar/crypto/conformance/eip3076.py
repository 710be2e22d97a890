"""EIP-3076 conformance suite: slashing-protection interchange cases (`DIR/*.json`).

Rules of ../shared/vectors/README.md: each case starts from an empty database for its
genesis validators root; each step imports its interchange (must succeed exactly when
`should_succeed`), then attempts its blocks and attestations in order (each allowed exactly when
`should_succeed`; allowed attempts are recorded).

Strategy: the store is complete for locally signed data and minimal (watermarks) for imported
data (see `nektar.crypto.slashing_protection`), so the answers checked are `should_succeed`;
`should_succeed_complete` is the answer of a purely complete store and is not used.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from nektar.crypto.conformance import CaseResult
from nektar.crypto.slashing_protection import (
    InterchangeError,
    SlashableError,
    SlashingProtectionDB,
)

NOT_CASES = {"schema.json"}


def _hex(value: Any) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise ValueError(f"expected 0x-hex, got {value!r}")
    return bytes.fromhex(value[2:])


def _optional_root(attempt: dict[str, Any]) -> bytes | None:
    root = attempt.get("signing_root")
    return None if root is None else _hex(root)


def _run_steps(case: dict[str, Any]) -> list[str]:
    """The failures of one case (empty when it passes)."""
    failures = []
    db = SlashingProtectionDB(":memory:", _hex(case["genesis_validators_root"]))
    try:
        for i, step in enumerate(case["steps"]):
            try:
                db.import_interchange(step["interchange"])
                imported = True
            except InterchangeError:
                imported = False
            if imported != step["should_succeed"]:
                failures.append(f"step {i}: import {'succeeded' if imported else 'failed'}")
            for j, block in enumerate(step.get("blocks", [])):
                try:
                    db.check_and_record_block(
                        _hex(block["pubkey"]), int(block["slot"]), _optional_root(block)
                    )
                    allowed = True
                except SlashableError:
                    allowed = False
                if allowed != block["should_succeed"]:
                    verdict = "allowed" if allowed else "refused"
                    failures.append(f"step {i} block {j} (slot {block['slot']}) {verdict}")
            for j, att in enumerate(step.get("attestations", [])):
                source, target = int(att["source_epoch"]), int(att["target_epoch"])
                try:
                    db.check_and_record_attestation(
                        _hex(att["pubkey"]), source, target, _optional_root(att)
                    )
                    allowed = True
                except SlashableError:
                    allowed = False
                if allowed != att["should_succeed"]:
                    verdict = "allowed" if allowed else "refused"
                    failures.append(f"step {i} attestation {j} ({source}→{target}) {verdict}")
    finally:
        db.close()
    return failures


def run_cases(directory: Path) -> Iterator[CaseResult]:
    """One result per `*.json` case file in `directory` (the JSON schema is skipped)."""
    for path in sorted(Path(directory).glob("*.json")):
        if path.name in NOT_CASES:
            continue
        try:
            case = json.loads(path.read_text())
            failures = _run_steps(case)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            yield CaseResult(path.stem, False, f"malformed case: {exc!r}")
            continue
        yield CaseResult(path.stem, not failures, "; ".join(failures))
