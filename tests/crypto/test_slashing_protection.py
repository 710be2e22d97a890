"""EIP-3076 slashing protection: the vectors, every refusal rule, interchange round trips,
threads, a crash mid-write, and random histories never recording a slashable pair."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nektar.crypto.conformance.eip3076 import run_cases
from nektar.crypto.slashing_protection import (
    AttestationRequest,
    DatabaseMismatchError,
    InterchangeError,
    SlashableError,
    SlashingProtectionDB,
    parse_interchange,
)

GVR = b"\x11" * 32
PK = b"\xaa" * 48
PK2 = b"\xbb" * 48
R1, R2 = b"\x01" * 32, b"\x02" * 32


@pytest.fixture
def db(tmp_path):
    with SlashingProtectionDB(tmp_path / "sp.sqlite", GVR) as store:
        yield store


def test_every_eip3076_vector_passes(vectors_dir):
    results = list(run_cases(vectors_dir / "eip3076"))
    assert len(results) == 26
    assert [r for r in results if not r.ok] == []


def test_blocks(db):
    db.check_and_record_block(PK, 10, R1)
    db.check_and_record_block(PK, 10, R1)  # identical re-sign is safe
    with pytest.raises(SlashableError, match="double proposal"):
        db.check_and_record_block(PK, 10, R2)
    with pytest.raises(SlashableError, match="double proposal"):
        db.check_and_record_block(PK, 10, None)
    db.check_and_record_block(PK, 9, R2)  # earlier, different slot: not slashable
    db.check_and_record_block(PK2, 10, R2)  # another validator


def test_attestation_rules(db):
    db.check_and_record_attestation(PK, 2, 5, R1)
    db.check_and_record_attestation(PK, 2, 5, R1)
    with pytest.raises(SlashableError, match="double vote"):
        db.check_and_record_attestation(PK, 2, 5, R2)
    with pytest.raises(SlashableError, match="double vote"):
        db.check_and_record_attestation(PK, 3, 5, None)
    with pytest.raises(SlashableError, match="surround vote"):
        db.check_and_record_attestation(PK, 1, 6, R1)  # surrounds (2, 5)
    with pytest.raises(SlashableError, match="surrounded"):
        db.check_and_record_attestation(PK, 3, 4, R1)  # inside (2, 5)
    with pytest.raises(SlashableError, match="after target"):
        db.check_and_record_attestation(PK, 7, 6, R1)
    db.check_and_record_attestation(PK, 5, 6, R1)
    db.check_and_record_attestation(PK, 0, 1, R1)  # older, disjoint: not slashable


def test_batch_records_each_item(db):
    results = db.check_and_record_attestations(
        [
            AttestationRequest(PK, 1, 2, R1),
            AttestationRequest(PK2, 1, 2, R1),
            AttestationRequest(PK, 1, 2, R2),
        ]
    )
    assert results[:2] == [None, None]
    assert isinstance(results[2], SlashableError)


def test_import_watermarks_and_export_round_trip(db, tmp_path):
    interchange = {
        "metadata": {
            "interchange_format_version": "5",
            "genesis_validators_root": "0x" + GVR.hex(),
        },
        "data": [
            {
                "pubkey": "0x" + PK.hex(),
                "signed_blocks": [{"slot": "20"}, {"slot": "5", "signing_root": "0x" + R1.hex()}],
                "signed_attestations": [{"source_epoch": "3", "target_epoch": "9"}],
            }
        ],
    }
    assert db.import_interchange(json.dumps(interchange)) == 1
    with pytest.raises(SlashableError, match="watermark"):
        db.check_and_record_block(PK, 15, R1)
    with pytest.raises(SlashableError, match="watermark"):
        db.check_and_record_block(PK, 5, R1)  # even the identical imported block
    with pytest.raises(SlashableError, match="watermark"):
        db.check_and_record_attestation(PK, 2, 10, R1)
    with pytest.raises(SlashableError, match="watermark"):
        db.check_and_record_attestation(PK, 3, 9, R1)
    db.check_and_record_block(PK, 21, R1)
    db.check_and_record_attestation(PK, 3, 10, R1)
    # an older interchange never lowers the marks
    older = json.loads(json.dumps(interchange))
    older["data"][0]["signed_blocks"] = [{"slot": "1"}]
    db.import_interchange(older)
    with pytest.raises(SlashableError):
        db.check_and_record_block(PK, 19, R2)

    exported = db.export_interchange()
    assert exported["metadata"]["genesis_validators_root"] == "0x" + GVR.hex()
    (entry,) = exported["data"]
    assert [b["slot"] for b in entry["signed_blocks"]] == ["1", "5", "20", "21"]
    assert entry["signed_blocks"][1]["signing_root"] == "0x" + R1.hex()
    assert {(a["source_epoch"], a["target_epoch"]) for a in entry["signed_attestations"]} == {
        ("3", "9"),
        ("3", "10"),
    }
    with SlashingProtectionDB(tmp_path / "other.sqlite", GVR) as other:
        other.import_interchange(exported)
        with pytest.raises(SlashableError):
            other.check_and_record_block(PK, 21, R2)
        with pytest.raises(SlashableError):
            other.check_and_record_attestation(PK, 3, 10, R2)
        other.check_and_record_attestation(PK, 3, 11, R2)
    assert db.export_interchange([PK2])["data"] == []


def test_wrong_chain_is_refused(db, tmp_path):
    foreign = {
        "metadata": {
            "interchange_format_version": "5",
            "genesis_validators_root": "0x" + "22" * 32,
        },
        "data": [{"pubkey": "0x" + PK.hex(), "signed_blocks": [{"slot": "100"}]}],
    }
    with pytest.raises(InterchangeError, match="genesis validators root"):
        db.import_interchange(foreign)
    db.check_and_record_block(PK, 50, R1)  # nothing of the foreign file was applied
    db.close()
    with pytest.raises(DatabaseMismatchError):
        SlashingProtectionDB(tmp_path / "sp.sqlite", b"\x22" * 32)


def test_reopened_database_keeps_history(tmp_path):
    with SlashingProtectionDB(tmp_path / "sp.sqlite", GVR) as first:
        first.check_and_record_attestation(PK, 4, 8, R1)
    with SlashingProtectionDB(tmp_path / "sp.sqlite", GVR) as second, pytest.raises(SlashableError):
        second.check_and_record_attestation(PK, 5, 8, R2)


def test_concurrent_threads_record_exactly_one_winner(db):
    """16 threads race to sign conflicting messages for the same slots: one wins each."""
    wins: list[tuple[int, int]] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        for slot in range(30):
            try:
                db.check_and_record_block(PK, slot, bytes([n]) * 32)
            except SlashableError:
                continue
            with lock:
                wins.append((slot, n))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(slot for slot, _ in wins) == list(range(30))


_WRITER = """
import sys
from nektar.crypto.slashing_protection import SlashingProtectionDB
db = SlashingProtectionDB(sys.argv[1], b"\\x11" * 32)
for target in range(1, 10**6):
    db.check_and_record_attestation(b"\\xaa" * 48, target - 1, target, b"\\x01" * 32)
    print(target, flush=True)
"""


def test_crash_mid_write_leaves_a_consistent_database(tmp_path):
    path = tmp_path / "sp.sqlite"
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")},
    )
    assert proc.stdout is not None
    acknowledged = 0
    for line in proc.stdout:
        acknowledged = int(line)
        if acknowledged >= 200:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    targets = [t for (t,) in conn.execute("SELECT target_epoch FROM attestations ORDER BY 1")]
    conn.close()
    assert targets == list(range(1, len(targets) + 1))  # a prefix: no torn or partial record
    assert len(targets) >= acknowledged  # every acknowledged record survived
    with SlashingProtectionDB(path, GVR) as reopened, pytest.raises(SlashableError):
        reopened.check_and_record_attestation(PK, 0, acknowledged, R2)


def _slashable(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """consensus-specs is_slashable_attestation_data, roots differing."""
    (s1, t1), (s2, t2) = a, b
    return t1 == t2 or (s1 < s2 and t2 < t1) or (s2 < s1 and t1 < t2)


@given(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), max_size=40))
def test_random_histories_never_record_a_slashable_pair(attempts):
    with SlashingProtectionDB(":memory:", GVR) as db:
        recorded = []
        for i, (source, target) in enumerate(attempts):
            try:
                db.check_and_record_attestation(PK, source, target, i.to_bytes(32, "big"))
            except SlashableError:
                continue
            recorded.append((source, target))
    assert all(s <= t for s, t in recorded)
    for i, a in enumerate(recorded):
        for b in recorded[i + 1 :]:
            assert not _slashable(a, b), (a, b)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(st.binary(max_size=200))
def test_random_bytes_only_typed_errors(data):
    with pytest.raises(InterchangeError):
        parse_interchange(data)


@given(
    st.sampled_from(["metadata", "data", "pubkey", "signed_blocks", "slot", "signing_root"]), _json
)
def test_mutated_interchange_only_typed_errors(key, value):
    document = {
        "metadata": {
            "interchange_format_version": "5",
            "genesis_validators_root": "0x" + GVR.hex(),
        },
        "data": [
            {
                "pubkey": "0x" + PK.hex(),
                "signed_blocks": [{"slot": "1", "signing_root": "0x" + R1.hex()}],
                "signed_attestations": [],
            }
        ],
    }
    for holder in (document, document["data"][0], document["data"][0]["signed_blocks"][0]):
        if key in holder:
            holder[key] = value
    try:
        parsed = parse_interchange(json.dumps(document))
    except InterchangeError:
        return
    assert parsed.genesis_validators_root == GVR


def test_malformed_requests_are_value_errors(db):
    with pytest.raises(ValueError, match="signing root"):
        db.check_and_record_block(PK, 1, b"\x01" * 31)
    with pytest.raises(ValueError, match="pubkey"):
        db.check_and_record_attestation(b"\x01" * 47, 1, 2, R1)
    with pytest.raises(ValueError, match="source epoch"):
        db.check_and_record_attestation(PK, -1, 2, R1)
    db.check_and_record_attestation(PK, 1, 2, R1)  # nothing half-recorded before
