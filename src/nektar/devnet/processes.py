"""The devnet's child processes: each one logs to a file in the run directory, and the
`ProcessGroup` that started them stops them all, in reverse order, whatever happened.

Children run in their own session (process group), so a Ctrl-C in the terminal reaches only
the orchestrator, which then tears down in order (nodes first, then the beacon chain, then
the EVM) instead of every process dying at once mid-write.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path


class DevnetError(Exception):
    """Something in the devnet failed; the message says what and where its log is."""


@dataclass
class Child:
    """One OS process of the devnet, restartable (`restarts` numbers its log files)."""

    name: str
    argv: list[str]
    log_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    log_path: Path | None = None

    def start(self) -> None:
        suffix = f"-{self.restarts}" if self.restarts else ""
        self.log_path = self.log_dir / f"{self.name}{suffix}.log"
        self.restarts += 1
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **self.env},
                start_new_session=True,
            )

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: a crash, as the fault scenario wants it."""
        if self.alive():
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM, then SIGKILL after `grace` seconds."""
        if not self.alive():
            return
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_tail(self, chars: int = 1500) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-chars:]

    def check(self) -> None:
        """Raise DevnetError if the process has exited."""
        if self.process is not None and self.process.poll() is not None:
            raise DevnetError(
                f"{self.name} exited with status {self.process.returncode} "
                f"(log {self.log_path}):\n{self.log_tail()}"
            )


def python_module(module: str, *args: str) -> list[str]:
    """argv running `python -m module args…` with this interpreter."""
    return [sys.executable, "-m", module, *args]


class ProcessGroup:
    """Starts children and owns their teardown (plus any extra stop callbacks, e.g. anvil)."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.children: list[Child] = []
        self._stops: list[Callable[[], None]] = []

    def spawn(self, name: str, argv: Sequence[str], env: dict[str, str] | None = None) -> Child:
        child = Child(name, list(argv), self.log_dir, dict(env or {}))
        child.start()
        self.children.append(child)
        self._stops.append(child.stop)
        return child

    def on_stop(self, callback: Callable[[], None]) -> None:
        self._stops.append(callback)

    def pids(self) -> list[int]:
        return [c.pid for c in self.children if c.pid is not None]

    def stop(self) -> None:
        """Stop everything in reverse start order; one failing stop never skips the rest."""
        while self._stops:
            stop = self._stops.pop()
            with contextlib.suppress(Exception):
                stop()


def wait_for(
    condition: Callable[[], object],
    timeout: float,
    what: str,
    interval: float = 0.1,
    check: Callable[[], None] = lambda: None,
) -> object:
    """Poll `condition` until it returns something truthy; DevnetError naming `what` after
    `timeout` seconds. `check` runs on each poll (e.g. to fail early on a dead process)."""
    deadline = time.monotonic() + timeout
    while True:
        check()
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise DevnetError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)
