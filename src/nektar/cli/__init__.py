"""Command-line entry points: `nektar` and `stinger`."""
