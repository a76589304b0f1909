"""What ``custsync enqueue`` has queued: (queue URL, change id) pairs in a SQLite file on this machine.

SQS FIFO drops a duplicate only within five minutes of the first; the journal makes a second run of the same
file, at any later time, send nothing already sent. The queue's URL names the account, region, stage and
vendor, so one journal serves every stage. Rows are written after SQS accepted them, so a crash between the
two sends a few changes again, which FIFO deduplication or the state table then drops (their ids are the same).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

SCHEMA = """
CREATE TABLE IF NOT EXISTS queued (
    queue TEXT NOT NULL,
    change_id TEXT NOT NULL,
    queued_at REAL NOT NULL,
    PRIMARY KEY (queue, change_id)
) WITHOUT ROWID
"""
LOOKUP_CHUNK = 500  # below SQLite's bound-parameter limit


class Journal:
    """Thread-safe: senders record from their own threads."""

    def __init__(self, path: Path | None) -> None:
        """``path`` None: an empty journal in memory (``--no-journal``)."""
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path) if path else ":memory:", check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(SCHEMA)
            # The change ids of this run, on disk like the rest (SQLite's temporary store is a file).
            self._db.execute("PRAGMA temp_store=FILE")
            self._db.execute("CREATE TEMP TABLE this_run (change_id TEXT PRIMARY KEY) WITHOUT ROWID")

    def queued(self, queue: str, change_ids: Iterable[str]) -> set[str]:
        """Which of ``change_ids`` are already queued on ``queue``."""
        ids = list(change_ids)
        found: set[str] = set()
        with self._lock:
            for start in range(0, len(ids), LOOKUP_CHUNK):
                chunk = ids[start : start + LOOKUP_CHUNK]
                marks = ",".join("?" * len(chunk))
                cursor = self._db.execute(
                    f"SELECT change_id FROM queued WHERE queue = ? AND change_id IN ({marks})",  # noqa: S608 - marks only
                    [queue, *chunk],
                )
                found.update(row[0] for row in cursor)
        return found

    def first_in_run(self, change_ids: list[str]) -> set[str]:
        """Which of ``change_ids`` this run has not had before (a file may repeat a row); remembers them."""
        fresh: set[str] = set()
        with self._lock:
            self._db.execute("BEGIN")
            for change_id in change_ids:
                cursor = self._db.execute("INSERT OR IGNORE INTO this_run (change_id) VALUES (?)", [change_id])
                if cursor.rowcount:
                    fresh.add(change_id)
            self._db.execute("COMMIT")
        return fresh

    def record(self, queue: str, change_ids: Iterable[str]) -> None:
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR IGNORE INTO queued (queue, change_id, queued_at) VALUES (?, ?, ?)",
                [(queue, change_id, now) for change_id in change_ids],
            )
            self._db.execute("COMMIT")

    def count(self, queue: str) -> int:
        with self._lock:
            (count,) = self._db.execute("SELECT COUNT(*) FROM queued WHERE queue = ?", [queue]).fetchone()
        return int(count)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()
