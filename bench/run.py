"""Run every benchmark module under bench/ and write bench/results.json.

A benchmark module is `bench/bench_<area>.py` with `run() -> dict[str, float]`: it prints its
own table (figures and ratios to anchors) and returns the flat metrics named by the issues.
`python bench/run.py [AREA ...]` runs only the named areas and keeps the other stored figures.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path

from rich.console import Console

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results.json"


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(areas: list[str]) -> int:
    console = Console()
    modules = sorted(BENCH_DIR.glob("bench_*.py"))
    if areas:
        modules = [m for m in modules if m.stem.removeprefix("bench_") in areas]
    keep_stored = areas and RESULTS.exists()
    results: dict[str, float] = json.loads(RESULTS.read_text()) if keep_stored else {}
    failed = []
    for path in modules:
        console.rule(f"[bold]{path.stem.removeprefix('bench_')}")
        started = time.perf_counter()
        try:
            figures = _load(path).run()
        except Exception as exc:  # a broken benchmark must not hide the others' figures
            console.print(f"[red]{path.name} failed: {exc!r}")
            failed.append(path.name)
            continue
        results.update({k: float(v) for k, v in figures.items()})
        console.print(f"[dim]{path.name}: {time.perf_counter() - started:.1f} s")
    RESULTS.write_text(json.dumps(dict(sorted(results.items())), indent=2) + "\n")
    console.print(f"wrote {RESULTS}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.path.insert(0, str(BENCH_DIR.parent / "src"))
    sys.path.insert(0, str(BENCH_DIR.parent / "tests"))  # gas benchmarks reuse test deploy fixtures
    sys.exit(main(sys.argv[1:]))
