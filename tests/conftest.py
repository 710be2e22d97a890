"""Shared test configuration: hypothesis profiles and the path of the shared reference data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED = PROJECT_ROOT.parent / "shared"
VECTORS = SHARED / "vectors"
SPECS = SHARED / "specs"

# "ci" keeps `make test` inside its budget; "fuzz" is `make fuzz` (≥ 100,000 stateful steps).
# "ci" is derandomized so that a landing is decided by the code, not by the draw; "fuzz" explores.
settings.register_profile(
    "ci",
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "fuzz", max_examples=5_000, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    if not VECTORS.is_dir():
        pytest.fail(f"reference vectors not found at {VECTORS}: clone with ../shared beside it")
    return VECTORS


@pytest.fixture(scope="session")
def specs_dir() -> Path:
    if not SPECS.is_dir():
        pytest.fail(f"API specifications not found at {SPECS}: clone with ../shared beside it")
    return SPECS
