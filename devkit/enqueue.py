"""``custsync enqueue FILE``: a bulk file of customers or changes onto the vendor queues, each row once.

Two passes over the file, one row in memory at a time (a million-row file in bounded memory):

1. validate every row (``devkit.rows``): the bad ones are reported by line and field, and unless
   ``skip_invalid`` nothing is sent when there is one;
2. send each valid row's change to the vendors the routing selects for its source (``custsync.routing``; a
   source the routing does not name goes to every vendor), ``SendMessageBatch`` in tens, several lanes per
   vendor (a customer's changes always in the same lane, so in order), skipping what the journal says was
   queued already (``devkit.journal``) and rows repeated in the file.

Change ids are derived from row content (``devkit.rows.derived_id``). What "nothing twice" rests on: the
journal (a second run of the file from this machine sends nothing already sent, however much later); without
it (another machine, ``--requeue``), SQS drops a duplicate id within five minutes and, after that, the vendor
function skips it (the state table knows the customer's recent change ids, and a change no newer than what
it holds is stale), so no vendor is called twice for one row.
"""

from __future__ import annotations

import functools
import io
import queue
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from custsync import routing
from custsync.fanout import message
from devkit.inputs import InputError
from devkit.journal import Journal
from devkit.rows import DERIVED_ID_CHARS, NO_ID, ColumnMapping, Defaults, FileFormat, Problem, Row, rows

if TYPE_CHECKING:
    from devkit.target import Target

BATCH = 10  # SendMessageBatch's most entries
BATCH_BYTES = 256 * 1024  # and its most bytes, bodies and attributes together
MESSAGE_BYTES = BATCH_BYTES
CHUNK = 500  # rows looked up in the journal at once
TRIES = 5
SHOWN_PROBLEMS = 20


@dataclass(frozen=True)
class Plan:
    path: Path
    fmt: FileFormat
    mapping: ColumnMapping
    defaults: Defaults
    vendors: list[str]
    skip_invalid: bool = False
    check_only: bool = False
    use_journal: bool = True
    lanes: int = 4


@dataclass
class Validation:
    rows: int = 0
    invalid: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def valid(self) -> int:
        return self.rows - self.invalid


@dataclass
class Summary:
    validation: Validation
    queued: Counter[str] = field(default_factory=Counter)
    already: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    repeated_rows: int = 0
    seconds: float = 0.0


class Progress:
    """What the passes report; the CLI draws it (``devkit.progress``), tests and benchmarks may ignore it."""

    def start(self, name: str, total: float | None) -> None:
        return

    def advance(self, name: str, amount: float) -> None:
        return

    def finish(self, name: str) -> None:
        return


def routed_vendors(routes: routing.Routing, source: str, known: list[str], chosen: list[str] | None) -> list[str]:
    """The vendors ``source``'s rows go to: the routing's (every vendor for a source it does not name),
    narrowed to ``chosen``."""
    vendors = routes.vendors_for(source, known) if source in routes.sources else list(known)
    for vendor in chosen or []:
        if vendor not in known:
            raise InputError(f"--vendor: {vendor!r} is not a vendor ({', '.join(known)})")
        if vendor not in vendors:
            raise InputError(f"--vendor: the routing sends source {source!r} to {', '.join(vendors)}, not {vendor}")
    vendors = [vendor for vendor in vendors if not chosen or vendor in chosen]
    if not vendors:
        raise InputError(f"--source: the routing sends source {source!r} to no vendor")
    return vendors


def default_occurred_at(path: Path) -> datetime:
    """When a row says nothing: the file's modification time, when its content was current. The same file
    loaded again carries the same time, so its rows are not newer than themselves."""
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


class _CountingReader(io.RawIOBase):
    def __init__(self, raw: io.BufferedReader) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        read = self.raw.readinto(buffer)
        self.count += read or 0
        return read or 0


def validate(plan: Plan, progress: Progress) -> Validation:
    """Pass 1: every row checked, the first problems kept; progress in bytes of the file."""
    found = Validation()
    progress.start("validating", plan.path.stat().st_size)
    counted = 0
    reader = _Rows(plan, derive_ids=False)
    for item in reader:
        found.rows += 1
        problem = item if isinstance(item, Problem) else _too_large(item)
        if problem is not None:
            found.invalid += 1
            if len(found.problems) < SHOWN_PROBLEMS:
                found.problems.append(problem)
        if found.rows % 256 == 0:
            progress.advance("validating", reader.bytes_read - counted)
            counted = reader.bytes_read
    progress.advance("validating", reader.bytes_read - counted)
    progress.finish("validating")
    return found


def _too_large(row: Row) -> Problem | None:
    """Over SQS's size. A row checked without its derived id (pass 1) is measured as it will be sent, with it: the
    same size in both passes, so pass 2 sends exactly the rows pass 1 accepted."""
    placeholder = row.change.change_id == NO_ID
    size = len(message(row.change)["MessageBody"].encode()) + (DERIVED_ID_CHARS - len(NO_ID) if placeholder else 0)
    if size > MESSAGE_BYTES:
        return Problem(row.line, f"the change is {size} bytes; an SQS message holds at most {MESSAGE_BYTES}")
    return None


class _Rows:
    """``devkit.rows.rows`` over a file whose bytes read so far are known (the validation pass's progress)."""

    def __init__(self, plan: Plan, *, derive_ids: bool = True) -> None:
        self.plan = plan
        self.derive_ids = derive_ids
        self.counter: _CountingReader | None = None

    @property
    def bytes_read(self) -> int:
        return self.counter.count if self.counter else 0

    def __iter__(self) -> Iterator[Row | Problem]:
        plan = self.plan
        try:
            raw = plan.path.open("rb")
        except OSError as exc:
            raise InputError(f"{plan.path}: {exc.strerror or exc}") from exc
        self.counter = _CountingReader(raw)
        # utf-8-sig: a byte-order mark, as spreadsheets write one, is not part of the first column's name.
        with io.TextIOWrapper(io.BufferedReader(self.counter), encoding="utf-8-sig", newline="") as text:
            try:
                yield from rows(text, plan.path, plan.fmt, plan.mapping, plan.defaults, self.derive_ids)
            except UnicodeDecodeError as exc:
                raise InputError(f"{plan.path}: not UTF-8 text (byte {self.counter.count}: {exc.reason})") from exc


def enqueue(target: Target, plan: Plan, progress: Progress, journal: Journal) -> Summary:
    """Both passes; sends only when every row is valid or ``plan.skip_invalid``."""
    started = time.perf_counter()
    summary = Summary(validate(plan, progress))
    if plan.check_only or (summary.validation.invalid and not plan.skip_invalid):
        summary.seconds = time.perf_counter() - started
        return summary
    urls = {vendor: target.queue_url(vendor) for vendor in plan.vendors}
    senders = _Senders(target, urls, plan.lanes, journal, summary)
    progress.start("sending", summary.validation.valid)
    try:
        chunk: list[Row] = []
        for item in _Rows(plan):
            if isinstance(item, Problem) or _too_large(item) is not None:
                continue
            chunk.append(item)
            if len(chunk) == CHUNK:
                _send_chunk(chunk, urls, journal, senders, summary, plan.use_journal)
                progress.advance("sending", len(chunk))
                chunk = []
        if chunk:
            _send_chunk(chunk, urls, journal, senders, summary, plan.use_journal)
            progress.advance("sending", len(chunk))
    finally:
        senders.close()
        progress.finish("sending")
    summary.seconds = time.perf_counter() - started
    return summary


def _send_chunk(
    chunk: list[Row], urls: dict[str, str], journal: Journal, senders: _Senders, summary: Summary, use_journal: bool
) -> None:
    ids = [row.change.change_id for row in chunk]
    fresh = journal.first_in_run(ids)
    already = {vendor: journal.queued(url, ids) if use_journal else set() for vendor, url in urls.items()}
    for row in chunk:
        change_id = row.change.change_id
        if change_id not in fresh:
            summary.repeated_rows += 1
            continue
        fresh.discard(change_id)  # a second copy later in this chunk is a repeat too
        entry = message(row.change)
        for vendor in urls:
            if change_id in already[vendor]:
                summary.already[vendor] += 1
            else:
                senders.put(vendor, row.change.customer.key, entry)
    senders.check()


class _Lane(threading.Thread):
    """Sends one vendor's batches for one slice of the customers, in order."""

    def __init__(self, send: Callable[[list[dict[str, Any]]], None]) -> None:
        super().__init__(daemon=True)
        self.inbox: queue.Queue[list[dict[str, Any]] | None] = queue.Queue(maxsize=4)
        self.send = send
        self.buffer: list[dict[str, Any]] = []
        self.buffered_bytes = 0
        self.error: BaseException | None = None

    def put(self, entry: dict[str, Any]) -> None:
        size = len(entry["MessageBody"].encode()) + 200  # its attributes, generously
        if self.buffer and (len(self.buffer) == BATCH or self.buffered_bytes + size > BATCH_BYTES):
            self.flush()
        self.buffer.append(entry)
        self.buffered_bytes += size

    def flush(self) -> None:
        if self.buffer:
            self.inbox.put(self.buffer)
            self.buffer, self.buffered_bytes = [], 0

    def run(self) -> None:
        while True:
            batch = self.inbox.get()
            if batch is None:
                return
            if self.error is not None:
                continue  # failed: drain, so the reader never blocks on a full inbox
            try:
                self.send(batch)
            except BaseException as exc:  # reported by the reading thread
                self.error = exc


class _Senders:
    def __init__(self, target: Target, urls: dict[str, str], lanes: int, journal: Journal, summary: Summary) -> None:
        self.sqs = target.sqs
        self.urls = urls
        self.journal = journal
        self.summary = summary
        self.lock = threading.Lock()
        self.lanes = {vendor: [_Lane(functools.partial(self._send, vendor)) for _ in range(lanes)] for vendor in urls}
        for lane in self._all():
            lane.start()

    def _all(self) -> list[_Lane]:
        return [lane for lanes in self.lanes.values() for lane in lanes]

    def put(self, vendor: str, customer_key: str, entry: dict[str, Any]) -> None:
        lanes = self.lanes[vendor]
        lanes[zlib.crc32(customer_key.encode()) % len(lanes)].put(entry)

    def check(self) -> None:
        """Raise a lane's error in the reading thread: the run stops there."""
        for lane in self._all():
            if lane.error is not None:
                raise lane.error

    def close(self) -> None:
        for lane in self._all():
            lane.flush()
            lane.inbox.put(None)
        for lane in self._all():
            lane.join()
        self.check()

    def _send(self, vendor: str, batch: list[dict[str, Any]]) -> None:
        url = self.urls[vendor]
        pending = {str(n): entry for n, entry in enumerate(batch)}
        for attempt in range(TRIES):
            entries: Any = [{"Id": key, **entry} for key, entry in pending.items()]
            answer = self.sqs.send_message_batch(QueueUrl=url, Entries=entries)
            accepted = [pending.pop(item["Id"])["MessageDeduplicationId"] for item in answer.get("Successful", [])]
            self.journal.record(url, accepted)
            refused = []
            for item in answer.get("Failed", []):
                if item.get("SenderFault"):
                    entry = pending.pop(item["Id"])
                    refused.append(f"{vendor}: {entry['MessageDeduplicationId']}: {item.get('Message', item['Code'])}")
            with self.lock:
                self.summary.queued[vendor] += len(accepted)
                self.summary.failed[vendor] += len(refused)
                self.summary.failures.extend(refused[: max(0, SHOWN_PROBLEMS - len(self.summary.failures))])
            if not pending:
                return
            time.sleep(0.2 * 2**attempt)  # SQS's own fault: the rest again, later
        with self.lock:
            self.summary.failed[vendor] += len(pending)
            self.summary.failures.append(f"{vendor}: {len(pending)} change(s) not accepted after {TRIES} tries")
