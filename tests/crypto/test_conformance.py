"""`nektar conformance SUITE DIR` on the shared vectors and on corrupted copies of them."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

import nektar.cli.commands  # noqa: F401  (registers the commands on the app)
from nektar.cli.main import app
from nektar.crypto.conformance.runner import ConformanceError, run_suite

# Field names of the case formats, so random documents reach deep into the readers.
_KEYS = [
    "genesis_validators_root",
    "steps",
    "interchange",
    "should_succeed",
    "blocks",
    "attestations",
    "pubkey",
    "slot",
    "source_epoch",
    "target_epoch",
    "signing_root",
    "kdf_tests",
    "seed",
    "master_SK",
    "child_index",
    "child_SK",
    "lamport_0",
    "crypto",
    "version",
    "amount",
    "signature",
    "withdrawal_credentials",
    "fork_version",
    "metadata",
    "data",
]

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, ["conformance", *map(str, args)])


@pytest.mark.parametrize(
    ("suite", "cases"),
    [("eip3076", 26), ("eip2333", 5), ("eip2335", 3), ("deposit", 4), ("bls", None)],
)
def test_suites_pass_on_the_vectors(vectors_dir, suite, cases):
    result = _run(suite, vectors_dir / suite)
    last = result.output.strip().splitlines()[-1]
    assert result.exit_code == 0, result.output
    assert last.endswith(" passed, 0 failed")
    if cases is not None:
        assert last == f"{cases} passed, 0 failed"


def _copy(vectors_dir, tmp_path, suite, *names):
    for name in names:
        shutil.copy(vectors_dir / suite / name, tmp_path / name)


def _edit(path, change):
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


def _flip_first_attempt(case):
    step = case["steps"][0]
    attempt = (step["blocks"] or step["attestations"])[0]
    attempt["should_succeed"] = not attempt["should_succeed"]


def _wrong_child(doc):
    doc["kdf_tests"][1]["child_SK"] += 1


def _wrong_signature(entries):
    entries[2]["signature"] = entries[0]["signature"]


def _wrong_checksum(keystore):
    keystore["crypto"]["checksum"]["message"] = "00" * 32


@pytest.mark.parametrize(
    ("suite", "good", "bad", "corrupt", "failing"),
    [
        (
            "eip3076",
            "single_validator_genesis_attestation.json",
            "single_validator_single_block.json",
            _flip_first_attempt,
            "single_validator_single_block",
        ),
        ("eip2333", "tree_kdf_intermediate.json", "tree_kdf.json", _wrong_child, "tree_kdf[1]"),
        ("eip2335", "test0.json", "test0.json", _wrong_checksum, "corrupted"),
        (
            "deposit",
            None,
            "charon_deposit_data.golden.json",
            _wrong_signature,
            "charon_deposit_data.golden[2]",
        ),
    ],
)
def test_a_corrupted_case_fails(vectors_dir, tmp_path, suite, good, bad, corrupt, failing):
    if good:
        _copy(vectors_dir, tmp_path, suite, good)
    target = tmp_path / ("corrupted.json" if bad == good else bad)
    shutil.copy(vectors_dir / suite / bad, target)
    _edit(target, corrupt)
    result = _run(suite, tmp_path)
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == [f"FAIL {failing}"]
    passed, failed = lines[-1].split(", ")
    assert failed == "1 failed" and int(passed.split()[0]) >= 1


def test_a_malformed_case_file_is_a_failure_not_a_crash(tmp_path):
    (tmp_path / "broken.json").write_text("{not json")
    for suite in ("eip3076", "eip2333", "eip2335", "deposit"):
        result = _run(suite, tmp_path)
        assert result.exit_code == 1, (suite, result.output)
        assert result.output.strip().splitlines()[-1] == "0 passed, 1 failed"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nosuch", "."), "unknown suite 'nosuch': choose one of bls"),
        (("eip3076", "/nonexistent/dir"), "is not a directory"),
    ],
)
def test_usage_errors_are_explained(args, message):
    result = _run(*args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_an_empty_directory_is_not_a_pass(tmp_path):
    result = _run("eip3076", tmp_path)
    assert result.exit_code == 2
    assert "no eip3076 cases found" in result.output


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=15,
)


@given(
    st.sampled_from(["eip3076", "eip2333", "eip2335", "deposit"]), st.binary(max_size=64) | _json
)
def test_random_case_files_are_failures_never_crashes(suite, content):
    """Whatever a case file holds, the runner reports a result for it instead of raising."""
    with tempfile.TemporaryDirectory() as directory:
        data = content if isinstance(content, bytes) else json.dumps(content).encode()
        (Path(directory) / "case.json").write_bytes(data)
        try:
            results = list(run_suite(suite, Path(directory)))
        except ConformanceError:
            return  # a file with no cases in it (e.g. an empty deposit list)
    assert results and all(isinstance(r.ok, bool) for r in results)
