"""Registry of `nektar` sub-command modules: one import per area."""

from __future__ import annotations

from nektar.cli import conformance  # noqa: F401
