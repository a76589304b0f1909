"""Partial batch processing of an SQS FIFO batch, by customer.

A Powertools ``BatchProcessor`` whose ``process`` runs each message group (one customer) in order
and the groups concurrently (up to ``max_workers`` threads), as Powertools' custom-processor example
shapes one: what belongs to one invocation is made in ``_prepare`` (a batch vendor's one array call)
and dropped in ``_clean``. The first record of a group to fail fails the group's later records
unprocessed (FIFO order), and they are hidden for as long as it is, so a back-off or ``Retry-After``
governs the customer, not the queue's visibility timeout. The partial batch response lists failures
in the batch's order.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

RecordHandler = Callable[[SQSRecord, Any], Any]


class RetryLater(Exception):
    """A record failed back to the queue, hidden for ``delay_seconds``."""

    def __init__(self, reason: str, delay_seconds: float) -> None:
        super().__init__(reason)
        self.delay_seconds = delay_seconds


class WaitsForItsGroup(Exception):
    """An earlier record of the same customer failed in this batch: this one waits with it, unprocessed."""


class CustomerBatchProcessor(BatchProcessor):
    def __init__(
        self,
        handle: RecordHandler,
        *,
        max_workers: int,
        prepare: Callable[[list[SQSRecord]], Any] | None = None,
        delay: Callable[[list[SQSRecord], float], None] | None = None,
    ) -> None:
        super().__init__(EventType.SQS, raise_on_entire_batch_failure=False)
        self._handle = handle
        self._prepare_batch = prepare
        self._delay = delay
        self.max_workers = max_workers
        self.prepared: Any = None
        self._group_delays: dict[str, float] = {}
        self._waiting: dict[str, list[SQSRecord]] = {}

    # -- one invocation --------------------------------------------------------------------------
    def run(self, records: list[dict[str, Any]]) -> PartialItemFailureResponse:
        with self(records, self._handle_record):
            self.process()
        return self.response()

    def _prepare(self) -> None:
        super()._prepare()  # type: ignore[no-untyped-call]  # Powertools leaves it untyped
        self._group_delays, self._waiting = {}, {}
        if self._prepare_batch is not None:
            self.prepared = self._prepare_batch([SQSRecord(raw) for raw in self.records])

    def _clean(self) -> None:
        if self._delay is not None:
            for group, waiting in self._waiting.items():
                if group in self._group_delays:
                    self._delay(waiting, self._group_delays[group])
        order = {raw["messageId"]: index for index, raw in enumerate(self.records)}
        self.fail_messages.sort(key=lambda record: order.get(getattr(record, "message_id", ""), len(order)))
        self.prepared = None
        super()._clean()  # type: ignore[no-untyped-call]  # Powertools leaves it untyped

    def _handle_record(self, record: SQSRecord) -> Any:
        return self._handle(record, self.prepared)

    # -- groups in order, concurrently -----------------------------------------------------------
    def process(self) -> list[tuple[Any, ...]]:
        groups: dict[str, list[dict[str, Any]]] = {}
        for raw in self.records:
            group = raw.get("attributes", {}).get("MessageGroupId") or raw["messageId"]
            groups.setdefault(group, []).append(raw)
        if self.max_workers <= 1 or len(groups) <= 1:
            return [entry for group in groups.items() for entry in self._process_group(group)]
        # Each group runs in a copy of this context: the invocation's deadline and log keys go with it.
        tasks = [(contextvars.copy_context(), group) for group in groups.items()]
        with ThreadPoolExecutor(max_workers=min(self.max_workers, len(tasks))) as pool:
            done = pool.map(lambda task: task[0].run(self._process_group, task[1]), tasks)
            return [entry for entries in done for entry in entries]

    def _process_group(self, group: tuple[str, list[dict[str, Any]]]) -> list[tuple[Any, ...]]:
        name, records = group
        entries: list[tuple[Any, ...]] = []
        for index, raw in enumerate(records):
            entry = self._process_record(raw)
            entries.append(entry)
            if entry[0] == "fail":
                later = [SQSRecord(r) for r in records[index + 1 :]]
                self._waiting[name] = later
                exception = (WaitsForItsGroup, WaitsForItsGroup("an earlier record of its customer failed"), None)
                entries.extend(self.failure_handler(record, exception) for record in later)
                break
        return entries

    def failure_handler(self, record: Any, exception: Any) -> Any:
        error = exception[1]
        if isinstance(error, RetryLater) and isinstance(record, SQSRecord):
            self._group_delays[record.attributes.message_group_id or record.message_id] = error.delay_seconds
        return super().failure_handler(record, exception)
