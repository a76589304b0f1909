"""Several consumers of one queue, as Lambda's event source runs many containers of one function: each worker
receives a batch, invokes its own emulator (its own container) and deletes what passed, until stopped."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from devkit.stack.emulator import Emulator
from devkit.stack.pump import sqs_event

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


@dataclass
class Worker:
    """One of a queue's consumers: receive a batch, invoke the function under the emulator, delete what passed."""

    vendor: str
    emulator: Emulator
    sqs: SQSClient
    queue_url: str
    queue_arn: str
    invoke_timeout: float
    invocations: int = 0
    failed_invocations: int = 0
    busy: bool = False
    stopping: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stopping.is_set():
            messages = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=10,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            ).get("Messages", [])
            if not messages:
                time.sleep(0.1)
                continue
            self.busy = True
            response = self.emulator.invoke(sqs_event(messages, self.queue_arn), timeout=self.invoke_timeout)
            self.busy = False
            self.invocations += 1
            if isinstance(response, dict) and "errorType" in response:
                self.failed_invocations += 1
                continue  # Lambda leaves the whole batch for the queue's visibility timeout
            failed = {item["itemIdentifier"] for item in (response or {}).get("batchItemFailures", [])}
            for message in messages:
                if message["MessageId"] not in failed:
                    self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


@contextmanager
def running(workers: Sequence[Worker]) -> Iterator[Sequence[Worker]]:
    """Each worker in its own thread while inside; stopped (and waited for) on the way out."""
    threads = [threading.Thread(target=worker.run, daemon=True) for worker in workers]
    for thread in threads:
        thread.start()
    try:
        yield workers
    finally:
        for worker in workers:
            worker.stopping.set()
        for worker, thread in zip(workers, threads, strict=True):
            thread.join(timeout=worker.invoke_timeout + 5)
