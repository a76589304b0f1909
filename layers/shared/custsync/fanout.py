"""Sends one canonical change to every enabled vendor's FIFO queue."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from custsync import aws
from custsync.model import CustomerChange

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


def message(change: CustomerChange) -> dict[str, Any]:
    """The queue message of ``change``: its body (exclude_unset keeps "not sent" apart from "cleared" on the
    wire), group = customer key (one customer in order), dedup id = change id (a redelivery is dropped)."""
    return {
        "MessageBody": change.model_dump_json(exclude_unset=True),
        "MessageGroupId": change.customer.key,
        "MessageDeduplicationId": change.change_id,
        "MessageAttributes": {
            "source": {"DataType": "String", "StringValue": change.source},
            "changeId": {"DataType": "String", "StringValue": change.change_id},
        },
    }


class FanOut:
    def __init__(self, vendor_queues: dict[str, str], sqs: SQSClient | None = None) -> None:
        self.vendor_queues = vendor_queues
        self._sqs = sqs

    @property
    def sqs(self) -> SQSClient:
        if self._sqs is None:
            self._sqs = aws.sqs()
        return self._sqs

    def send(self, change: CustomerChange, vendors: Iterable[str] | None = None) -> list[str]:
        """Queue ``change`` for ``vendors`` (every one by default)."""
        fields = message(change)
        chosen = list(self.vendor_queues) if vendors is None else [v for v in self.vendor_queues if v in set(vendors)]
        for vendor in chosen:
            self.sqs.send_message(QueueUrl=self.vendor_queues[vendor], **fields)
        return chosen
