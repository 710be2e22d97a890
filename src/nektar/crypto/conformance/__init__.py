"""Conformance suites over directories of reference cases (`nektar conformance SUITE DIR`).

Each suite is a module of this package named after the suite (bls, eip2333, eip2335, eip3076,
deposit) with `run_cases(directory: Path) -> Iterator[CaseResult]`, yielding one result per case
found in DIR laid out like `../shared/vectors/SUITE/`.
"""

from __future__ import annotations

from dataclasses import dataclass

SUITES = ("bls", "eip2333", "eip2335", "eip3076", "deposit")


@dataclass(frozen=True)
class CaseResult:
    """The outcome of one reference case: its name, whether it passed, and why not."""

    name: str
    ok: bool
    detail: str = ""
