"""Run a conformance suite by name over a directory of cases (`nektar conformance`).

Suites are the modules of this package named in `SUITES`, loaded on demand with importlib so
that a suite's dependencies are imported only when it runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

from nektar.crypto.conformance import SUITES, CaseResult


class ConformanceError(Exception):
    """The suite or the directory cannot be run at all (as opposed to a failing case)."""


def run_suite(suite: str, directory: Path) -> Iterator[CaseResult]:
    """Every case of `suite` found in `directory`, one result each, in a stable order."""
    if suite not in SUITES:
        raise ConformanceError(
            f"unknown suite {suite!r}: choose one of {', '.join(SUITES)}"
            " (e.g. `nektar conformance eip3076 ../shared/vectors/eip3076`)"
        )
    directory = Path(directory)
    if not directory.is_dir():
        raise ConformanceError(
            f"{directory} is not a directory: pass the folder holding the {suite} cases, laid"
            f" out like ../shared/vectors/{suite}/"
        )
    module = importlib.import_module(f"nektar.crypto.conformance.{suite}")
    found = False
    for result in module.run_cases(directory):
        found = True
        yield result
    if not found:
        raise ConformanceError(
            f"no {suite} cases found in {directory}:"
            f" is it laid out like ../shared/vectors/{suite}/?"
        )
