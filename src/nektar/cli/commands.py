"""Registry of `nektar` sub-command modules: one import per area."""

from __future__ import annotations

import nektar.cli.demo
import nektar.cli.devnet  # noqa: F401
from nektar.cli import conformance  # noqa: F401
