"""`stinger` commands: init prints a registration call whose signature the chain would accept,
slashing-protection export/import round-trips through EIP-3076, and every expected failure is
one line saying what to do (no traceback)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from nektar.cli.stinger import app
from nektar.crypto import eip712
from nektar.crypto.slashing_protection import SlashingProtectionDB

runner = CliRunner()
OPERATOR = "0x" + "12" * 20
REGISTRY = "0x" + "34" * 20
ROOT = "0x" + "56" * 32


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _fails(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    return result.output


def test_init_prints_a_binding_the_registry_accepts(tmp_path: Path) -> None:
    out = _ok(
        "init",
        "--data-dir",
        str(tmp_path),
        "--operator",
        OPERATOR,
        "--registry",
        REGISTRY,
        "--chain-id",
        "31337",
    )
    address = re.search(r"node address: (0x[0-9a-f]{40})", out).group(1)  # type: ignore[union-attr]
    signature = re.search(r"binding signature: (0x[0-9a-f]{130})", out).group(1)  # type: ignore[union-attr]
    recovered = eip712.recover(
        eip712.operator_registry_domain(31337, REGISTRY),
        eip712.NodeKeyBinding(OPERATOR),
        bytes.fromhex(signature[2:]),
    )
    assert "0x" + recovered.hex() == address
    assert f"register({address}, {signature}" in out
    again = _ok("init", "--data-dir", str(tmp_path))  # idempotent: keeps the key
    assert f"node address: {address}" in again
    assert (
        "bad"
        in _fails(
            "init", "--data-dir", str(tmp_path), "--operator", "bad", "--registry", REGISTRY
        ).lower()
    )


def test_slashing_protection_export_import(tmp_path: Path) -> None:
    source, target = tmp_path / "a", tmp_path / "b"
    source.mkdir()
    pubkey = b"\xaa" * 48
    with SlashingProtectionDB(source / "slashing_protection.sqlite", bytes.fromhex(ROOT[2:])) as db:
        db.check_and_record_attestation(pubkey, 1, 2, b"\x01" * 32)
        db.check_and_record_block(pubkey, 20, b"\x02" * 32)
    exported = tmp_path / "interchange.json"
    assert "1 validator" in _ok(
        "export-slashing-protection", str(exported), "--data-dir", str(source)
    )
    document = json.loads(exported.read_text())
    assert document["metadata"]["genesis_validators_root"] == ROOT
    assert "genesis-validators-root" in _fails(
        "import-slashing-protection", str(exported), "--data-dir", str(target)
    )
    _ok(
        "import-slashing-protection",
        str(exported),
        "--data-dir",
        str(target),
        "--genesis-validators-root",
        ROOT,
    )
    with SlashingProtectionDB(target / "slashing_protection.sqlite", bytes.fromhex(ROOT[2:])) as db:
        assert db.export_interchange()["data"] == document["data"]
    other = "0x" + "77" * 32
    assert "genesis validators root" in _fails(
        "import-slashing-protection",
        str(exported),
        "--data-dir",
        str(tmp_path / "c"),
        "--genesis-validators-root",
        other,
    )


def test_errors_say_what_to_do(tmp_path: Path) -> None:
    assert "stinger init" in _fails("run", "--data-dir", str(tmp_path / "none"))
    assert "stinger run" in _fails("status", "--data-dir", str(tmp_path))
    assert "p2p_port" in _fails("run", "--data-dir", str(tmp_path), "--p2p-port", "99999")
    bad = tmp_path / "bad.toml"
    bad.write_text("[")
    assert "TOML" in _fails("status", "--config", str(bad))
