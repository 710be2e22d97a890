"""Start and stop a local anvil node (Foundry's dev node) on a free loopback port.

The binary is the project's `node_modules/.bin/anvil` (installed by `make setup` from
npm), else the first `anvil` on PATH. Anvil picks its own free port (`--port 0`) and its
output goes to a log file, where the port is read from its "Listening on" line; the node
is ready once it answers `eth_chainId`. Fees are zero (base fee 0, no minimum tip) so that
balances change exactly as on the in-process backend, and the hardfork is Prague (EIP-2537
BLS precompiles).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from nektar.chain.backend import DEFAULT_CHAIN_ID
from nektar.chain.compiler import project_root
from nektar.chain.errors import NodeError
from nektar.chain.jsonrpc import JsonRpcBackend

START_TIMEOUT_S = 20.0
_LISTENING = re.compile(rb"Listening on 127\.0\.0\.1:(\d+)")


def find_anvil() -> Path:
    """The anvil binary: the project's npm install first, then PATH."""
    try:
        local = project_root() / "node_modules" / ".bin" / "anvil"
        if local.exists():
            return local
    except Exception:  # no checkout around: PATH only
        pass
    on_path = shutil.which("anvil")
    if on_path is None:
        raise NodeError(
            "anvil not found: run `make setup` (npm @foundry-rs/anvil) or put it on PATH"
        )
    return Path(on_path)


class Anvil:
    """A running anvil process; use as a context manager or call `stop()`."""

    def __init__(
        self, chain_id: int = DEFAULT_CHAIN_ID, hardfork: str = "prague", binary: Path | None = None
    ) -> None:
        self.chain_id = chain_id
        executable = binary or find_anvil()
        self._dir = tempfile.TemporaryDirectory(prefix="nektar-anvil-")
        self.log_path = Path(self._dir.name) / "anvil.log"
        command = [
            str(executable),
            "--host", "127.0.0.1",
            "--port", "0",
            "--chain-id", str(chain_id),
            "--hardfork", hardfork,
            "--base-fee", "0",
            "--gas-price", "0",
            "--disable-min-priority-fee",
            "--accounts", "0",
        ]  # fmt: skip
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        try:
            self.port = self._wait_for_port()
            self.url = f"http://127.0.0.1:{self.port}"
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise

    def _log_text(self) -> bytes:
        try:
            return self.log_path.read_bytes()
        except OSError:
            return b""

    def _check_alive(self) -> None:
        if self.process.poll() is not None:
            tail = self._log_text()[-2000:].decode(errors="replace")
            raise NodeError(f"anvil exited with status {self.process.returncode}:\n{tail}")

    def _wait_for_port(self) -> int:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            match = _LISTENING.search(self._log_text())
            if match:
                return int(match.group(1))
            self._check_alive()
            time.sleep(0.02)
        raise NodeError(f"anvil did not report its port within {START_TIMEOUT_S:.0f} s")

    def _wait_until_ready(self) -> None:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []})
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            self._check_alive()
            request = urllib.request.Request(
                self.url, data=body.encode(), headers={"Content-Type": "application/json"}
            )
            try:
                with urllib.request.urlopen(request, timeout=1) as response:
                    if int(json.loads(response.read())["result"], 16) == self.chain_id:
                        return
            except OSError:
                pass
            time.sleep(0.02)
        raise NodeError(f"anvil at {self.url} did not answer within {START_TIMEOUT_S:.0f} s")

    def backend(self, **options: Any) -> JsonRpcBackend:
        """A JSON-RPC backend on this node, tipping nothing (this anvil charges no fees)."""
        return JsonRpcBackend(self.url, priority_fee=0, **options)

    def stop(self) -> None:
        """Terminate anvil (SIGTERM, then SIGKILL after 5 s) and remove its log directory."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._dir.cleanup()

    def __enter__(self) -> Anvil:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def start_anvil(chain_id: int = DEFAULT_CHAIN_ID, hardfork: str = "prague") -> Anvil:
    """Start anvil on a free 127.0.0.1 port and wait until it serves JSON-RPC."""
    return Anvil(chain_id=chain_id, hardfork=hardfork)
