"""The duty store: the value the cluster agreed on for each duty, kept across restarts.

Charon calls its DutyDB "the slashing database of the workflow": once a value is stored for
(duty, committee), a different value for the same key is refused, so a node that restarts in
the middle of a slot (and runs a new consensus instance) can never sign two values for one
duty. Signing still goes through the EIP-3076 store as well.
"""

from __future__ import annotations

import sqlite3
import threading
from os import PathLike

from nektar.stinger.duties import Duty

_SCHEMA = """
CREATE TABLE IF NOT EXISTS duties (
    duty_type INTEGER NOT NULL,
    slot INTEGER NOT NULL,
    committee BLOB NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (duty_type, slot, committee)
) WITHOUT ROWID
"""


class DutyConflictError(Exception):
    """A second, different value for a duty that already has one: refused."""


class DutyStore:
    """sqlite (WAL, synchronous=FULL): a value the node acted on survives a crash."""

    def __init__(self, path: str | PathLike[str]) -> None:
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute(_SCHEMA)

    def store(self, duty: Duty, committee: bytes, value: bytes) -> None:
        """Record the agreed value; the identical value again is fine, another one is not."""
        with self._lock:
            cur = self._conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                row = cur.execute(
                    "SELECT value FROM duties WHERE duty_type=? AND slot=? AND committee=?",
                    (int(duty.type), duty.slot, committee),
                ).fetchone()
                if row is None:
                    cur.execute(
                        "INSERT INTO duties VALUES (?, ?, ?, ?)",
                        (int(duty.type), duty.slot, committee, value),
                    )
                elif bytes(row[0]) != value:
                    raise DutyConflictError(
                        f"{duty} already has a different agreed value for committee "
                        f"0x{committee.hex()[:16]}"
                    )
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    def get(self, duty: Duty, committee: bytes) -> bytes | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT value FROM duties WHERE duty_type=? AND slot=? AND committee=?",
                (int(duty.type), duty.slot, committee),
            ).fetchone()
        return None if row is None else bytes(row[0])

    def prune(self, before_slot: int) -> int:
        """Forget duties older than `before_slot` (slashing protection keeps the history)."""
        with self._lock:
            cur = self._conn.execute("DELETE FROM duties WHERE slot < ?", (before_slot,))
        return cur.rowcount

    def close(self) -> None:
        with self._lock:
            self._conn.close()
