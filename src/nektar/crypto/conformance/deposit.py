"""Deposit conformance suite: `deposit_data.json` files (`DIR/*.json`, staking-deposit-cli
format, a list of entries). Each entry is a case: its deposit message root and deposit data
root must be recomputed exactly, and its signature must verify for the entry's fork version
(the deposit domain uses the genesis fork version and a zero genesis validators root).

Reading and checking are `nektar.crypto.deposit`'s (the node's own deposit_data.json reader);
a file it cannot read is one failing case.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from nektar.crypto.conformance import CaseResult
from nektar.crypto.deposit import DepositDataError, parse_deposit_data


def run_cases(directory: Path) -> Iterator[CaseResult]:
    for path in sorted(Path(directory).glob("*.json")):
        try:
            entries = parse_deposit_data(path.read_bytes(), verify=False)
        except (OSError, DepositDataError) as exc:
            yield CaseResult(path.stem, False, f"unreadable deposit data: {exc}")
            continue
        for i, entry in enumerate(entries):
            try:
                entry.verify()
                failure = ""
            except DepositDataError as exc:
                failure = str(exc)
            yield CaseResult(f"{path.stem}[{i}]", not failure, failure)
