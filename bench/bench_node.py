"""Stinger node benchmark: one four-node cluster (n = 4, t = 3, four `stinger run` processes)
on the devnet beacon chain, carrying 100 distributed validators (keys from the DKG in one
batch). 4 s slots (the Python devnet beacon node verifies every member's submission
and needs the time), 8-slot epochs; measured over two whole epochs after the nodes are up.

Figures per size N (names of issue 8):
- `node.att_p50_ms_{N}v`, `node.att_p99_ms_{N}v`: time from slot start until a node hands a
  slot's threshold-signed attestations to the beacon node (every node, every slot, weighted
  by the validators in it; from the nodes' duty logs). It includes the 1/3-slot wait before
  attesting (1.33 s here) as the issue's definition does;
- `node.miss_rate_{N}v`: cluster attestations not included on chain / all (beacon state);
- `node.rss_mb_{N}v`: largest resident memory of the four node processes at the end;
- `node.cpu_pct_{N}v`: average CPU of one node process over the run.
Sync-committee contributions are off (`sync_contributions = false`): with 108 validators
every validator sits in all four sync subcommittees, which never happens on a real network.
Goal (issue 8): 1,000 validators broadcast within 4 s of slot start, p99 < 1 s, < 300 MB per
node. The 1,000 and 3,000 sizes are not run: with 1,008 validators the devnet beacon node's
attester-duties endpoint does not answer within 4 s on this shared 2-core machine (and the
DKG plus 4,000 keystores take ~70 s), so the figures would measure the beacon node.
Run: `python bench/run.py node`.
"""

from __future__ import annotations

import importlib.util
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
SIZES = (100,)
GOAL_P99_MS = 1000.0
GOAL_RSS_MB = 300.0
_DONE = re.compile(
    r"attester@\d+: (\d+)/\d+ done in [0-9.]+ s after slot start \(sent at ([0-9.]+) s\)"
)


def _harness():  # type: ignore[no-untyped-def]
    path = ROOT / "tests" / "stinger" / "harness.py"
    spec = importlib.util.spec_from_file_location("stinger_harness", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["stinger_harness"] = module
    spec.loader.exec_module(module)
    return module


def _proc(pid: int) -> tuple[float, float]:
    """(RSS in MB, CPU seconds) of a process, from /proc."""
    rss = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return rss, ticks / 100


def measure(count: int) -> dict[str, float]:
    harness = _harness()
    with tempfile.TemporaryDirectory() as tmp:
        net = harness.Devnet(
            Path(tmp),
            count=count,
            seconds_per_slot=4,
            slots_per_epoch=8,
            env={"sync_contributions": "false"},
        )
        net.start(genesis_delay=6.0)
        try:
            net.wait_ready(timeout=120)
            started = time.time()
            first = net.current_epoch() + 1
            epochs = range(first, first + 2)
            missed = net.missed(epochs)
            elapsed = time.time() - started
            usage = [_proc(op.process.pid) for op in net.operators]
        finally:
            net.stop()
        delays: list[float] = []
        for op in net.operators:
            for line in op.logs().splitlines():
                if '"msg"' not in line:
                    continue
                found = _DONE.search(json.loads(line)["msg"])
                if found:
                    delays += [float(found.group(2)) * 1000] * int(found.group(1))
    quantiles = statistics.quantiles(delays, n=100) if len(delays) > 1 else [0.0] * 99
    return {
        f"node.att_p50_ms_{count}v": round(statistics.median(delays), 1) if delays else -1,
        f"node.att_p99_ms_{count}v": round(quantiles[98], 1),
        f"node.miss_rate_{count}v": round(len(missed) / (count * len(epochs)), 4),
        f"node.rss_mb_{count}v": round(max(r for r, _ in usage), 1),
        f"node.cpu_pct_{count}v": round(100 * statistics.mean(c for _, c in usage) / elapsed, 1),
    }


def run() -> dict[str, float]:
    console = Console()
    results: dict[str, float] = {}
    table = Table("validators", "p50 ms", "p99 ms", "p99 / goal", "miss rate", "RSS MB", "CPU %")
    for count in SIZES:
        figures = measure(count)
        console.print(figures)
        results.update(figures)
        p99 = figures[f"node.att_p99_ms_{count}v"]
        table.add_row(
            str(count),
            f"{figures[f'node.att_p50_ms_{count}v']:.0f}",
            f"{p99:.0f}",
            f"{p99 / GOAL_P99_MS:.2f}",
            f"{figures[f'node.miss_rate_{count}v']:.2%}",
            f"{figures[f'node.rss_mb_{count}v']:.0f} (goal {GOAL_RSS_MB:.0f})",
            f"{figures[f'node.cpu_pct_{count}v']:.0f}",
        )
    console.print(table)
    return results


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    print(run())
