"""Helpers shared by test folders, which are not packages (pytest's importlib mode)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

TESTS = Path(__file__).resolve().parent


def load_conftest(folder: str) -> ModuleType:
    """The conftest.py of `tests/<folder>`, loaded once by path so that one contract-test
    folder can build on another's deploy fixtures."""
    name = folder.replace("/", "_") + "_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, TESTS / folder / "conftest.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]
