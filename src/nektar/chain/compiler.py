"""Compile Vyper contracts once: results are cached on disk keyed by what went into them.

A cache entry is looked up by the contract's path, its source hash and the compiler version,
and is valid only while every imported module (project modules and snekmate) still hashes the
same, so editing an imported module recompiles its importers. Entries live in
`$NEKTAR_CACHE_DIR` (default `~/.cache/nektar/vyper`) and are written atomically, so parallel
test workers can share them.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from nektar.chain.abi import ContractAbi
from nektar.chain.errors import CompileError

CACHE_FORMAT = 1


def project_root() -> Path:
    """The checkout that holds `contracts/` (this package is installed in editable mode)."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "contracts").is_dir() and (parent / "pyproject.toml").is_file():
            return parent
    cwd = Path.cwd()
    if (cwd / "contracts").is_dir():
        return cwd
    raise CompileError("cannot find the project's contracts/ directory")


def contracts_dir() -> Path:
    return project_root() / "contracts"


def cache_dir() -> Path:
    configured = os.environ.get("NEKTAR_CACHE_DIR")
    base = Path(configured) if configured else Path.home() / ".cache" / "nektar"
    return base / "vyper"


@dataclass(frozen=True)
class Artifact:
    """What deployment needs: the contract's name, ABI and init bytecode."""

    name: str
    abi: ContractAbi
    bytecode: bytes
    source_path: Path


def _sha256_file(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


@cache
def _compiler_identity() -> str:
    import snekmate
    import vyper

    snekmate_dir = Path(next(iter(snekmate.__path__)))
    return f"vyper {vyper.__version__}; snekmate at {snekmate_dir}; format {CACHE_FORMAT}"


def _search_paths() -> list[Path]:
    """As titanoboa resolves imports (sys.path + cwd) with the project first, so contracts
    compile the same here as in their titanoboa tests: `snekmate.…` comes from site-packages."""
    from vyper.cli.vyper_compile import get_search_paths

    root = project_root()
    return get_search_paths([str(root / "contracts"), str(root)])


def _compile(path: Path) -> tuple[list[dict[str, Any]], bytes, dict[str, str]]:
    from vyper.compiler.input_bundle import FilesystemInputBundle
    from vyper.compiler.output import build_abi_output
    from vyper.compiler.phases import CompilerData
    from vyper.exceptions import VyperException

    bundle = FilesystemInputBundle(_search_paths())
    try:
        file_input = bundle.load_file(path)
        data = CompilerData(file_input, bundle)
        abi = build_abi_output(data)
        bytecode = data.bytecode
        imported = data.resolved_imports.compiler_inputs
    except VyperException as exc:
        raise CompileError(f"{path}: {exc}") from exc
    deps = {str(Path(i.resolved_path).resolve()): i.sha256sum for i in imported}
    return abi, bytecode, deps


def compile_contract(path: str | Path) -> Artifact:
    """Compile (or load from the cache) the Vyper contract at `path`.

    Relative paths are taken from the project's `contracts/` directory, e.g.
    `compile_contract("beacon/DepositContract.vy")`.
    """
    source_path = Path(path)
    if not source_path.is_absolute():
        source_path = contracts_dir() / source_path
    source_path = source_path.resolve()
    return _compile_cached(source_path, _sha256_file(source_path))


@cache
def _compile_cached(source_path: Path, source_hash: str | None) -> Artifact:
    if source_hash is None:
        raise CompileError(f"no contract at {source_path}")
    key = hashlib.sha256(
        f"{_compiler_identity()}\n{source_path}\n{source_hash}".encode()
    ).hexdigest()
    entry_path = cache_dir() / f"{key}.json"
    entry = _load_entry(entry_path)
    if entry is None:
        abi, bytecode, deps = _compile(source_path)
        entry = {"abi": abi, "bytecode": bytecode.hex(), "deps": deps}
        _store_entry(entry_path, entry)
    return Artifact(
        name=source_path.stem,
        abi=ContractAbi(entry["abi"]),
        bytecode=bytes.fromhex(entry["bytecode"]),
        source_path=source_path,
    )


def _load_entry(entry_path: Path) -> dict[str, Any] | None:
    """A cached entry, if present and every module it was built from is unchanged."""
    try:
        entry = json.loads(entry_path.read_text())
    except (OSError, ValueError):
        return None
    for dep, digest in entry.get("deps", {}).items():
        if _sha256_file(Path(dep)) != digest:
            return None
    return entry


def _store_entry(entry_path: Path, entry: dict[str, Any]) -> None:
    try:
        entry_path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=entry_path.parent, suffix=".tmp")
        with os.fdopen(fd, "w") as out:
            json.dump(entry, out)
        os.replace(tmp, entry_path)
    except OSError:
        pass  # a read-only cache only costs a recompile next time
