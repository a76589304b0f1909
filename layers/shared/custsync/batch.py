"""Partial batch processing of an SQS FIFO batch, by customer.

Each message group (one customer) runs in order and the groups concurrently (up to ``max_workers``
threads); what belongs to one invocation (a batch vendor's one array call) is made before the records
are handled. The first record of a group to fail fails the group's later records unprocessed (FIFO
order), and they are hidden for as long as it is, so a back-off or ``Retry-After`` governs the
customer, not the queue's visibility timeout. The answer is Lambda's partial batch response
(``{"batchItemFailures": [{"itemIdentifier": messageId}]}``), failures in the batch's order.

Written here rather than on Powertools' ``BatchProcessor``: this class had already replaced its
``process``, preparation, clean-up and failure handling, and importing Powertools' batch module (it
loads asyncio and the data classes of every event source) was about a tenth of a cold start
(BENCHMARKS.md). ``SQSRecord`` reads the fields of an SQS record by the names Powertools' data class
gives them.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

RecordHandler = Callable[["SQSRecord", Any], Any]


class SQSAttributes:
    def __init__(self, raw: Mapping[str, Any]) -> None:
        self._raw = raw

    @property
    def message_group_id(self) -> str | None:
        return self._raw.get("MessageGroupId")

    @property
    def message_deduplication_id(self) -> str | None:
        return self._raw.get("MessageDeduplicationId")

    @property
    def approximate_receive_count(self) -> str | None:
        return self._raw.get("ApproximateReceiveCount")


class SQSRecord:
    """One record of an SQS event (``Records[n]``, as Lambda's event source mapping sends it)."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw
        self.attributes = SQSAttributes(raw.get("attributes") or {})

    @property
    def message_id(self) -> str:
        return str(self.raw["messageId"])

    @property
    def receipt_handle(self) -> str:
        return str(self.raw["receiptHandle"])

    @property
    def body(self) -> str:
        return str(self.raw["body"])

    @property
    def event_source_arn(self) -> str:
        return str(self.raw["eventSourceARN"])

    @property
    def group(self) -> str:
        """The message group (a customer), or the message alone when it has none."""
        return self.attributes.message_group_id or self.message_id


class RetryLater(Exception):
    """A record failed back to the queue, hidden for ``delay_seconds``."""

    def __init__(self, reason: str, delay_seconds: float) -> None:
        super().__init__(reason)
        self.delay_seconds = delay_seconds


class CustomerBatchProcessor:
    def __init__(
        self,
        handle: RecordHandler,
        *,
        max_workers: int,
        prepare: Callable[[list[SQSRecord]], Any] | None = None,
        delay: Callable[[list[SQSRecord], float], None] | None = None,
    ) -> None:
        self._handle = handle
        self._prepare_batch = prepare
        self._delay = delay
        self.max_workers = max_workers

    def run(self, records: list[dict[str, Any]]) -> dict[str, list[dict[str, str]]]:
        """Handle every record; the ones that failed, for Lambda to leave on the queue."""
        batch = [SQSRecord(raw) for raw in records]
        prepared = self._prepare_batch(batch) if self._prepare_batch is not None else None
        groups: dict[str, list[SQSRecord]] = {}
        for record in batch:
            groups.setdefault(record.group, []).append(record)
        if self.max_workers <= 1 or len(groups) <= 1:
            failed = [self._process_group(records, prepared) for records in groups.values()]
        else:
            # Each group runs in a copy of this context: the invocation's deadline and log keys go with it.
            tasks = [(contextvars.copy_context(), records) for records in groups.values()]
            with ThreadPoolExecutor(max_workers=min(self.max_workers, len(tasks))) as pool:
                failed = list(pool.map(lambda task: task[0].run(self._process_group, task[1], prepared), tasks))
        ids = {record.message_id for group in failed for record in group}
        return {"batchItemFailures": [{"itemIdentifier": r.message_id} for r in batch if r.message_id in ids]}

    def _process_group(self, records: list[SQSRecord], prepared: Any) -> list[SQSRecord]:
        """Handle one customer's records in order; the ones failed (the first failure and every later one)."""
        for index, record in enumerate(records):
            try:
                self._handle(record, prepared)
            except RetryLater as retry:
                later = records[index + 1 :]
                if later and self._delay is not None:
                    self._delay(later, retry.delay_seconds)  # hidden as long as the record before them
                return records[index:]
            except Exception:
                return records[index:]
        return []
