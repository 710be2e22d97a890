"""EIP-3076 slashing protection: a sqlite store every signature passes through before signing.

Strategy (EIP-3076 allows "minimal" or "complete" databases; ours is a hybrid):

* locally signed messages are kept COMPLETELY: every block and attestation is stored, and a new
  one is refused if it is a double proposal, a double vote or a surround vote (both ways)
  against the whole history; re-signing the identical message (same non-null signing root) is
  allowed, as a restarted validator client needs;
* imported interchange data is applied MINIMALLY: it raises per-validator low watermarks to the
  maximum imported block slot, source epoch and target epoch, and anything at or below them is
  refused (blocks: slot ≤ mark; attestations: source < mark or target ≤ mark), re-signings
  included. The imported records are stored too, so that export gives them back.

Any attestation the watermarks allow can neither surround nor be surrounded by an imported one
(its source is ≥ every imported source and its target > every imported target), so merging
interchanges, duplicates and even slashable interchange data never weakens protection.
The EIP-3076 conformance vectors' `should_succeed` answers are those of this strategy.

Durability: WAL journal, `synchronous=FULL` (a committed record survives power loss), one
`BEGIN IMMEDIATE` transaction per check-and-record so that a check and its record are atomic and
a crash mid-write leaves the previous consistent state. One connection is shared by the threads
of a process under a lock; other processes wait on sqlite's lock (busy timeout).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from os import PathLike
from typing import Any

INTERCHANGE_VERSION = "5"
MAX_SQLITE_INT = 2**63 - 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS metadata (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS validators (
    id INTEGER PRIMARY KEY,
    pubkey BLOB NOT NULL UNIQUE,
    block_watermark INTEGER,
    source_watermark INTEGER,
    target_watermark INTEGER
);
CREATE TABLE IF NOT EXISTS blocks (
    validator_id INTEGER NOT NULL REFERENCES validators(id),
    slot INTEGER NOT NULL,
    signing_root BLOB,
    PRIMARY KEY (validator_id, slot)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS attestations (
    validator_id INTEGER NOT NULL REFERENCES validators(id),
    target_epoch INTEGER NOT NULL,
    source_epoch INTEGER NOT NULL,
    signing_root BLOB,
    PRIMARY KEY (validator_id, target_epoch)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS attestations_by_source ON attestations (validator_id, source_epoch);
"""


# Watermarks only ever rise: max(old, new) where either may be NULL (no data yet).
_RAISE_WATERMARKS = """
UPDATE validators SET
    block_watermark = max(coalesce(block_watermark, ?1), coalesce(?1, block_watermark)),
    source_watermark = max(coalesce(source_watermark, ?2), coalesce(?2, source_watermark)),
    target_watermark = max(coalesce(target_watermark, ?3), coalesce(?3, target_watermark))
WHERE id = ?4
"""


class SlashingProtectionError(Exception):
    """Base of every error of the slashing-protection store."""


class SlashableError(SlashingProtectionError):
    """Signing this message could get the validator slashed (or breaks a watermark): refused."""


class InterchangeError(SlashingProtectionError, ValueError):
    """An interchange document that is malformed, of another version, or for another chain."""


class DatabaseMismatchError(SlashingProtectionError):
    """The database file belongs to another chain (different genesis validators root)."""


@dataclass(frozen=True)
class AttestationRequest:
    """One attestation to check and record, for the batch API."""

    pubkey: bytes
    source_epoch: int
    target_epoch: int
    signing_root: bytes | None


@dataclass(frozen=True)
class _Interchange:
    genesis_validators_root: bytes
    records: list[tuple[bytes, list[tuple[int, bytes | None]], list[tuple[int, int, bytes | None]]]]


class SlashingProtectionDB:
    """The store of one node, bound to one chain by its genesis validators root."""

    def __init__(self, path: str | PathLike[str], genesis_validators_root: bytes) -> None:
        if len(genesis_validators_root) != 32:
            raise ValueError("the genesis validators root is 32 bytes")
        self.genesis_validators_root = bytes(genesis_validators_root)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=30.0
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        with self._transaction() as cur:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    cur.execute(statement)
            row = cur.execute(
                "SELECT value FROM metadata WHERE key = 'genesis_validators_root'"
            ).fetchone()
            if row is None:
                cur.execute(
                    "INSERT INTO metadata VALUES ('genesis_validators_root', ?)",
                    (self.genesis_validators_root,),
                )
            elif bytes(row[0]) != self.genesis_validators_root:
                raise DatabaseMismatchError(
                    f"{path} protects chain 0x{bytes(row[0]).hex()}, "
                    f"not 0x{self.genesis_validators_root.hex()}"
                )

    # --- plumbing --------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Cursor]:
        """One write transaction, taken before any read so the check and the record are one."""
        with self._lock:
            cur = self._conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    def _validator(self, cur: sqlite3.Cursor, pubkey: bytes) -> tuple[int, Any, Any, Any]:
        """(id, block mark, source mark, target mark) of a validator, created on first use."""
        if len(pubkey) != 48:
            raise ValueError(f"a validator pubkey is 48 bytes, got {len(pubkey)}")
        row = cur.execute(
            "SELECT id, block_watermark, source_watermark, target_watermark "
            "FROM validators WHERE pubkey = ?",
            (pubkey,),
        ).fetchone()
        if row is None:
            cur.execute("INSERT INTO validators (pubkey) VALUES (?)", (pubkey,))
            return (cur.lastrowid, None, None, None)
        return row

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SlashingProtectionDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- signing checks --------------------------------------------------------------------

    def check_and_record_block(self, pubkey: bytes, slot: int, signing_root: bytes | None) -> None:
        """Record a block proposal about to be signed, or raise SlashableError."""
        _check_int(slot, "slot")
        _check_root(signing_root)
        with self._transaction() as cur:
            vid, block_mark, _, _ = self._validator(cur, pubkey)
            if block_mark is not None and slot <= block_mark:
                raise SlashableError(
                    f"block at slot {slot} is at or below the imported watermark {block_mark}"
                )
            row = cur.execute(
                "SELECT signing_root FROM blocks WHERE validator_id = ? AND slot = ?", (vid, slot)
            ).fetchone()
            if row is not None:
                if signing_root is not None and row[0] == signing_root:
                    return
                raise SlashableError(f"double proposal: a different block at slot {slot}")
            cur.execute("INSERT INTO blocks VALUES (?, ?, ?)", (vid, slot, signing_root))

    def check_and_record_attestation(
        self, pubkey: bytes, source_epoch: int, target_epoch: int, signing_root: bytes | None
    ) -> None:
        """Record an attestation about to be signed, or raise SlashableError."""
        request = AttestationRequest(pubkey, source_epoch, target_epoch, signing_root)
        with self._transaction() as cur:
            self._attest(cur, request)

    def check_and_record_attestations(
        self, requests: Sequence[AttestationRequest]
    ) -> list[SlashableError | None]:
        """Many attestations in one transaction (one fsync): a node signs all its validators'
        attestations of a slot together. Returns, per request, None (recorded) or the refusal."""
        results: list[SlashableError | None] = []
        with self._transaction() as cur:
            for request in requests:
                try:
                    self._attest(cur, request)
                    results.append(None)
                except SlashableError as refusal:
                    results.append(refusal)
        return results

    def _attest(self, cur: sqlite3.Cursor, request: AttestationRequest) -> None:
        source, target, root = request.source_epoch, request.target_epoch, request.signing_root
        _check_int(source, "source epoch")
        _check_int(target, "target epoch")
        _check_root(root)
        if source > target:
            raise SlashableError(f"source epoch {source} is after target epoch {target}")
        vid, _, source_mark, target_mark = self._validator(cur, request.pubkey)
        if source_mark is not None and source < source_mark:
            raise SlashableError(f"source {source} is below the imported watermark {source_mark}")
        if target_mark is not None and target <= target_mark:
            raise SlashableError(
                f"target {target} is at or below the imported watermark {target_mark}"
            )
        row = cur.execute(
            "SELECT signing_root FROM attestations WHERE validator_id = ? AND target_epoch = ?",
            (vid, target),
        ).fetchone()
        if row is not None:
            if root is not None and row[0] == root:
                return
            raise SlashableError(f"double vote: a different attestation for target {target}")
        surrounding = cur.execute(
            "SELECT source_epoch, target_epoch FROM attestations WHERE validator_id = ? "
            "AND target_epoch > ? AND source_epoch < ? LIMIT 1",
            (vid, target, source),
        ).fetchone()
        if surrounding is not None:
            raise SlashableError(
                f"surrounded vote: ({source}, {target}) is inside signed {tuple(surrounding)}"
            )
        surrounded = cur.execute(
            "SELECT source_epoch, target_epoch FROM attestations WHERE validator_id = ? "
            "AND source_epoch > ? AND target_epoch < ? LIMIT 1",
            (vid, source, target),
        ).fetchone()
        if surrounded is not None:
            raise SlashableError(
                f"surround vote: ({source}, {target}) surrounds signed {tuple(surrounded)}"
            )
        cur.execute("INSERT INTO attestations VALUES (?, ?, ?, ?)", (vid, target, source, root))

    # --- interchange -----------------------------------------------------------------------

    def import_interchange(self, document: str | bytes | dict[str, Any]) -> int:
        """Merge an EIP-3076 v5 interchange; returns the number of validators in it.

        The document is validated completely before anything is written, and the whole merge
        is one transaction. Slashable interchanges are accepted (they only raise watermarks).
        """
        interchange = parse_interchange(document)
        if interchange.genesis_validators_root != self.genesis_validators_root:
            raise InterchangeError(
                "interchange is for genesis validators root "
                f"0x{interchange.genesis_validators_root.hex()}, this database protects "
                f"0x{self.genesis_validators_root.hex()}"
            )
        with self._transaction() as cur:
            for pubkey, blocks, attestations in interchange.records:
                vid, _, _, _ = self._validator(cur, pubkey)
                cur.executemany(
                    "INSERT OR IGNORE INTO blocks VALUES (?, ?, ?)",
                    [(vid, slot, root) for slot, root in blocks],
                )
                cur.executemany(
                    "INSERT OR IGNORE INTO attestations VALUES (?, ?, ?, ?)",
                    [(vid, target, source, root) for source, target, root in attestations],
                )
                marks = (
                    max((slot for slot, _ in blocks), default=None),
                    max((source for source, _, _ in attestations), default=None),
                    max((target for _, target, _ in attestations), default=None),
                )
                cur.execute(_RAISE_WATERMARKS, (*marks, vid))
        return len(interchange.records)

    def export_interchange(self, pubkeys: Iterable[bytes] | None = None) -> dict[str, Any]:
        """The EIP-3076 v5 interchange of every (or the given) validator's full history."""
        wanted = None if pubkeys is None else {bytes(p) for p in pubkeys}
        data = []
        with self._transaction() as cur:
            for vid, pubkey in cur.execute(
                "SELECT id, pubkey FROM validators ORDER BY id"
            ).fetchall():
                if wanted is not None and bytes(pubkey) not in wanted:
                    continue
                blocks = cur.execute(
                    "SELECT slot, signing_root FROM blocks WHERE validator_id = ? ORDER BY slot",
                    (vid,),
                ).fetchall()
                attestations = cur.execute(
                    "SELECT source_epoch, target_epoch, signing_root FROM attestations "
                    "WHERE validator_id = ? ORDER BY target_epoch",
                    (vid,),
                ).fetchall()
                data.append(
                    {
                        "pubkey": "0x" + bytes(pubkey).hex(),
                        "signed_blocks": [
                            _with_root({"slot": str(slot)}, root) for slot, root in blocks
                        ],
                        "signed_attestations": [
                            _with_root({"source_epoch": str(s), "target_epoch": str(t)}, root)
                            for s, t, root in attestations
                        ],
                    }
                )
        return {
            "metadata": {
                "interchange_format_version": INTERCHANGE_VERSION,
                "genesis_validators_root": "0x" + self.genesis_validators_root.hex(),
            },
            "data": data,
        }


def _with_root(entry: dict[str, str], root: bytes | None) -> dict[str, str]:
    if root is not None:
        entry["signing_root"] = "0x" + bytes(root).hex()
    return entry


def _check_root(root: bytes | None) -> None:
    if root is not None and (not isinstance(root, bytes) or len(root) != 32):
        raise ValueError(f"a signing root is 32 bytes or None, got {root!r}")


def _check_int(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_SQLITE_INT:
        raise ValueError(f"{what} must be an integer in [0, 2^63), got {value!r}")
    return value


# --- interchange parsing ----------------------------------------------------------------------


def _field(obj: Any, key: str, where: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise InterchangeError(f"{where}: missing {key!r}")
    return obj[key]


def _uint(value: Any, where: str) -> int:
    """A decimal-string (as the schema says) or integer value that fits the database."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raise InterchangeError(f"{where}: expected a decimal string, got {value!r}")
    if not 0 <= number <= MAX_SQLITE_INT:
        raise InterchangeError(f"{where}: {number} is out of range")
    return number


def _hex(value: Any, length: int, where: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise InterchangeError(f"{where}: expected 0x-prefixed hex, got {value!r}")
    try:
        raw = bytes.fromhex(value[2:])
    except ValueError:
        raise InterchangeError(f"{where}: invalid hex {value!r}") from None
    if len(raw) != length:
        raise InterchangeError(f"{where}: expected {length} bytes, got {len(raw)}")
    return raw


def _optional_root(entry: dict[str, Any], where: str) -> bytes | None:
    root = entry.get("signing_root")
    return None if root is None else _hex(root, 32, f"{where}.signing_root")


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise InterchangeError(f"{where}: expected a list")
    return value


def parse_interchange(document: str | bytes | dict[str, Any]) -> _Interchange:
    """Validate an EIP-3076 interchange document (v5) and return its records."""
    if isinstance(document, str | bytes):
        try:
            document = json.loads(document)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InterchangeError(f"interchange is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise InterchangeError("an interchange is a JSON object")
    metadata = _field(document, "metadata", "interchange")
    version = _field(metadata, "interchange_format_version", "metadata")
    if version != INTERCHANGE_VERSION:
        raise InterchangeError(f"unsupported interchange_format_version {version!r} (need '5')")
    gvr = _hex(
        _field(metadata, "genesis_validators_root", "metadata"),
        32,
        "metadata.genesis_validators_root",
    )
    records = []
    for i, entry in enumerate(_list(_field(document, "data", "interchange"), "data")):
        where = f"data[{i}]"
        pubkey = _hex(_field(entry, "pubkey", where), 48, f"{where}.pubkey")
        blocks = []
        for j, block in enumerate(_list(entry.get("signed_blocks", []), f"{where}.signed_blocks")):
            at = f"{where}.signed_blocks[{j}]"
            blocks.append((_uint(_field(block, "slot", at), at), _optional_root(block, at)))
        attestations = []
        signed = _list(entry.get("signed_attestations", []), f"{where}.signed_attestations")
        for j, att in enumerate(signed):
            at = f"{where}.signed_attestations[{j}]"
            attestations.append(
                (
                    _uint(_field(att, "source_epoch", at), at),
                    _uint(_field(att, "target_epoch", at), at),
                    _optional_root(att, at),
                )
            )
        records.append((pubkey, blocks, attestations))
    return _Interchange(gvr, records)
