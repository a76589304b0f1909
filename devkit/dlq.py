"""A vendor's dead-letter queue as an operator sees it: the parked changes with why, counted by reason,
filtered by reason or customer, and a selection redriven to the vendor's queue.

Each parked message carries its reason as message attributes (``custsync/queues.py``: ``reason``,
``errorType``, ``attempts``, ``deliveries``); its group id is the customer key and its deduplication id the
change id. Reading a FIFO queue hides what was read: every message read is shown again (its visibility reset)
when the command ends, except those redriven. In a FIFO queue a customer's later parked changes are behind its
first: they show once that one is redriven (or gone).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

# Long enough for a big DLQ to be read through once before the first message read shows again.
HIDE_SECONDS = 300
KIND_CHARS = 80


def reason_kind(reason: str) -> str:
    """What a reason says before its details: ``exsalerate answered HTTP 400: ...`` -> ``exsalerate answered HTTP
    400``; ``not configured: password`` -> ``not configured``; ``CustomerName: is required`` -> ``CustomerName``."""
    return reason.split(": ", 1)[0][:KIND_CHARS]


@dataclass(frozen=True)
class Parked:
    message_id: str
    receipt_handle: str
    body: str
    customer_key: str
    change_id: str
    parked_at: datetime
    attributes: dict[str, str]

    @property
    def reason(self) -> str:
        return self.attributes.get("reason", "")

    @property
    def error_type(self) -> str:
        return self.attributes.get("errorType", "")

    @property
    def kind(self) -> str:
        return reason_kind(self.reason)

    def as_dict(self) -> dict[str, Any]:
        """What ``custsync dlq list`` prints: ids, when, and every attribute the function parked it with."""
        return {
            "messageId": self.message_id,
            "customerKey": self.customer_key,
            "changeId": self.change_id,
            "parkedAt": self.parked_at.isoformat(),
            **self.attributes,
        }

    @classmethod
    def of(cls, message: MessageTypeDef) -> Parked:
        system = message.get("Attributes", {})
        sent = int(system.get("SentTimestamp", "0")) / 1000
        return cls(
            message_id=message["MessageId"],
            receipt_handle=message["ReceiptHandle"],
            body=message["Body"],
            customer_key=system.get("MessageGroupId", ""),
            change_id=system.get("MessageDeduplicationId", ""),
            parked_at=datetime.fromtimestamp(sent, UTC),
            attributes={
                name: str(value.get("StringValue", "")) for name, value in message.get("MessageAttributes", {}).items()
            },
        )


@dataclass(frozen=True)
class Selection:
    """Which parked changes: every one, or those whose reason holds ``reason`` (any case), or ``customer``'s."""

    reason: str | None = None
    customer: str | None = None

    def __call__(self, parked: Parked) -> bool:
        if self.reason is not None and self.reason.lower() not in parked.reason.lower():
            return False
        return self.customer is None or parked.customer_key == self.customer


def _read(sqs: SQSClient, url: str, received: list[Parked]) -> Iterator[Parked]:
    """Every message the queue gives, each once, hidden for ``HIDE_SECONDS``; each is added to ``received`` as it
    arrives (ten at a time), so what the caller never got to is shown again too."""
    seen: set[str] = set()
    while True:
        messages = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            VisibilityTimeout=HIDE_SECONDS,
            WaitTimeSeconds=0,
        ).get("Messages", [])
        new = [message for message in messages if message["MessageId"] not in seen]
        if not new:
            return
        batch = [Parked.of(message) for message in new]
        seen.update(message["MessageId"] for message in new)
        received += batch
        yield from batch


def _show_again(sqs: SQSClient, url: str, parked: list[Parked]) -> None:
    for start in range(0, len(parked), 10):
        entries = [
            {"Id": str(n), "ReceiptHandle": item.receipt_handle, "VisibilityTimeout": 0}
            for n, item in enumerate(parked[start : start + 10])
        ]
        sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)  # type: ignore[arg-type]


def peek(sqs: SQSClient, url: str, limit: int, selection: Selection | None = None) -> list[Parked]:
    """Up to ``limit`` parked changes (``selection``'s), all shown again afterwards."""
    read: list[Parked] = []
    chosen: list[Parked] = []
    try:
        for parked in _read(sqs, url, read):
            if selection is None or selection(parked):
                chosen.append(parked)
                if len(chosen) >= limit:
                    break
    finally:
        _show_again(sqs, url, read)
    return chosen


def counts(parked: list[Parked]) -> Counter[tuple[str, str]]:
    """How many of each (error type, reason kind)."""
    return Counter((item.error_type, item.kind) for item in parked)


def depth(sqs: SQSClient, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes.get("ApproximateNumberOfMessages", 0)) + int(
        attributes.get("ApproximateNumberOfMessagesNotVisible", 0)
    )


def redrive(
    sqs: SQSClient,
    dlq_url: str,
    queue_url: str,
    selection: Selection,
    limit: int | None = None,
    moved: Callable[[Parked], None] | None = None,
) -> int:
    """Move ``selection``'s parked changes (at most ``limit``) back to the vendor's queue, each as a new delivery of
    the same change; the rest stay parked. The state table skips one that is stale or applied by now."""
    count = 0
    read: list[Parked] = []
    gone: set[str] = set()
    try:
        for parked in _read(sqs, dlq_url, read):
            if limit is not None and count >= limit:
                break
            if not selection(parked):
                continue
            sqs.send_message(
                QueueUrl=queue_url,
                MessageBody=parked.body,
                MessageGroupId=parked.customer_key or "redriven",
                # A fresh id: the original one may still be inside the queue's deduplication window.
                MessageDeduplicationId=f"redrive-{uuid.uuid4().hex}",
            )
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=parked.receipt_handle)
            gone.add(parked.message_id)
            count += 1
            if moved is not None:
                moved(parked)
    finally:
        _show_again(sqs, dlq_url, [parked for parked in read if parked.message_id not in gone])
    return count
