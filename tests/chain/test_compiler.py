"""The compile cache: reused while nothing changed, rebuilt when an imported module changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from nektar.chain import CompileError, InProcessBackend, compile_contract
from nektar.chain import compiler as compiler_module

MODULE_V1 = "@internal\n@pure\ndef answer() -> uint256:\n    return 41\n"
MODULE_V2 = MODULE_V1.replace("41", "42")
MAIN = """# pragma version ~=0.4.3
import helper

@external
@view
def get() -> uint256:
    return helper.answer()
"""


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NEKTAR_CACHE_DIR", str(tmp_path / "cache"))
    compiler_module._compile_cached.cache_clear()
    yield tmp_path / "cache" / "vyper"
    compiler_module._compile_cached.cache_clear()


def test_cache_is_reused_and_invalidated_by_imports(fresh_cache: Path, tmp_path: Path, monkeypatch):
    (tmp_path / "helper.vy").write_text(MODULE_V1)
    main = tmp_path / "Main.vy"
    main.write_text(MAIN)
    calls = []
    real_compile = compiler_module._compile
    monkeypatch.setattr(
        compiler_module, "_compile", lambda path: calls.append(path) or real_compile(path)
    )

    first = compile_contract(main)
    assert len(calls) == 1 and len(list(fresh_cache.glob("*.json"))) == 1
    compiler_module._compile_cached.cache_clear()  # a new process: only the disk cache is left
    assert compile_contract(main).bytecode == first.bytecode
    assert len(calls) == 1

    (tmp_path / "helper.vy").write_text(MODULE_V2)
    compiler_module._compile_cached.cache_clear()
    second = compile_contract(main)
    assert len(calls) == 2
    backend = InProcessBackend()
    assert backend.deploy(first).call("get") == 41
    assert backend.deploy(second).call("get") == 42


def test_snekmate_imports_resolve(fresh_cache: Path, tmp_path: Path):
    source = tmp_path / "Token.vy"
    source.write_text(
        "# pragma version ~=0.4.3\n"
        "from snekmate.utils import math\n"
        "@external\n@pure\ndef avg(a: uint256, b: uint256) -> uint256:\n"
        "    return math._uint256_average(a, b)\n"
    )
    assert InProcessBackend().deploy(compile_contract(source)).call("avg", 3, 5) == 4


def test_compile_errors_are_typed(fresh_cache: Path, tmp_path: Path):
    broken = tmp_path / "Broken.vy"
    broken.write_text("@external\ndef f() -> uint256:\n    return nope\n")
    with pytest.raises(CompileError, match="nope"):
        compile_contract(broken)
    with pytest.raises(CompileError, match="no contract"):
        compile_contract(tmp_path / "Missing.vy")
