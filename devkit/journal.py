"""What ``custsync enqueue`` has queued: (queue, change id) pairs in a SQLite file on this machine.

SQS FIFO drops a duplicate only within five minutes of the first; the journal makes a second run of the same
file, at any later time, send nothing already sent. A queue is named by its URL (the account, region, stage
and vendor), so one journal serves every stage. Pairs are recorded after SQS accepted them, in transactions of
a few thousand: a crash loses at most those, and they are sent again on the next run, where FIFO deduplication
or the state table drops them (their ids are the same).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS queues (id INTEGER PRIMARY KEY, url TEXT NOT NULL UNIQUE)",
    "CREATE TABLE IF NOT EXISTS queued (queue INTEGER NOT NULL, change_id TEXT NOT NULL, "
    "PRIMARY KEY (queue, change_id)) WITHOUT ROWID",
)
LOOKUP_CHUNK = 500  # below SQLite's bound-parameter limit
FLUSH_EVERY = 5000


class Journal:
    """Thread-safe: senders record from their own threads."""

    def __init__(self, path: Path | None) -> None:
        """``path`` None: an empty journal in memory."""
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path) if path else ":memory:", check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._pending: list[tuple[int, str]] = []
        self._queues: dict[str, int] = {}
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            for statement in SCHEMA:
                self._db.execute(statement)
            # The change ids of this run, on disk like the rest (not in memory: a file may have millions).
            self._db.execute("PRAGMA temp_store=FILE")
            self._db.execute("CREATE TEMP TABLE this_run (change_id TEXT PRIMARY KEY) WITHOUT ROWID")

    def _queue(self, url: str) -> int:
        """The queue's number (held under the lock)."""
        if url not in self._queues:
            self._db.execute("INSERT OR IGNORE INTO queues (url) VALUES (?)", [url])
            (number,) = self._db.execute("SELECT id FROM queues WHERE url = ?", [url]).fetchone()
            self._queues[url] = int(number)
        return self._queues[url]

    def queued(self, url: str, change_ids: Iterable[str]) -> set[str]:
        """Which of ``change_ids`` an earlier run queued on the queue at ``url``."""
        ids = list(change_ids)
        found: set[str] = set()
        with self._lock:
            queue = self._queue(url)
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

    def record(self, url: str, change_ids: Iterable[str]) -> None:
        """``change_ids`` are queued on ``url`` (written with the next few thousand, or at ``close``)."""
        with self._lock:
            queue = self._queue(url)
            self._pending += [(queue, change_id) for change_id in change_ids]
            if len(self._pending) >= FLUSH_EVERY:
                self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR IGNORE INTO queued (queue, change_id) VALUES (?, ?)", self._pending)
            self._db.execute("COMMIT")
            self._pending = []

    def count(self, url: str) -> int:
        with self._lock:
            self._flush()
            (count,) = self._db.execute("SELECT COUNT(*) FROM queued WHERE queue = ?", [self._queue(url)]).fetchone()
        return int(count)

    def close(self) -> None:
        with self._lock:
            self._flush()
            self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()
