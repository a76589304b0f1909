"""Sends one canonical change to every enabled vendor's FIFO queue, to all of them at once.

The sends of one change go out together from a small thread pool (boto3's clients are thread-safe), so
fanning out to N vendors costs about one SendMessage, not N one after another: the webhook's sender waits
for it. A change's sends all end before ``send`` returns; if one failed, its error is raised then (the
webhook answers 503 and the sender redelivers: FIFO deduplication drops what already went out).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any

from custsync import aws
from custsync.model import CustomerChange

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

# botocore's default connection pool holds 10: more threads would only wait for a connection.
MAX_CONCURRENT_SENDS = 10


@functools.cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=MAX_CONCURRENT_SENDS, thread_name_prefix="fanout")


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
        sqs = self.sqs  # made here, once, not by each thread

        def send_to(vendor: str) -> None:
            sqs.send_message(QueueUrl=self.vendor_queues[vendor], **fields)

        if len(chosen) == 1:
            send_to(chosen[0])
            return chosen
        sends = [_pool().submit(send_to, vendor) for vendor in chosen]
        wait(sends)
        for sent in sends:
            sent.result()  # the first failure, once every send has ended
        return chosen
