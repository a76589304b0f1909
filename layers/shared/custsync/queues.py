"""What a vendor function does to SQS messages besides answering: park one in its DLQ with why, or hide
some until their next try."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from custsync.batch import SQSRecord
from custsync.observability import logger, metrics, redact_payload

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import ChangeMessageVisibilityBatchRequestEntryTypeDef

# SQS cannot hide a message for longer.
MAX_VISIBILITY_SECONDS = 12 * 60 * 60


class Queues:
    def __init__(self, vendor: str, dlq_url: str, sqs: Callable[[], SQSClient]) -> None:
        self.vendor = vendor
        self.dlq_url = dlq_url
        self._sqs = sqs
        self._queue_urls: dict[str, str] = {}

    def park(self, record: SQSRecord, reason: str, error_type: str, attempts: int | None = None) -> None:
        """Move the record to the DLQ now, with why. If SQS refuses, the error escapes and the record is
        retried instead: it is never dropped."""
        attributes = record.attributes
        self._sqs().send_message(
            QueueUrl=self.dlq_url,
            MessageBody=record.body,
            MessageGroupId=attributes.message_group_id or "ungrouped",
            MessageDeduplicationId=attributes.message_deduplication_id or record.message_id,
            MessageAttributes={
                "reason": {"DataType": "String", "StringValue": reason[:4096]},
                "errorType": {"DataType": "String", "StringValue": error_type},
                "vendor": {"DataType": "String", "StringValue": self.vendor},
                "attempts": {"DataType": "Number", "StringValue": str(attempts or 0)},
                "deliveries": {"DataType": "Number", "StringValue": attributes.approximate_receive_count or "1"},
                "sourceMessageId": {"DataType": "String", "StringValue": record.message_id},
            },
        )
        metrics.add_metric(name="ChangesParked", unit="Count", value=1)
        logger.error(
            "change parked in the DLQ",
            extra={"reason": reason, "error_type": error_type, "parked_message": _loggable(record.body)},
        )

    def delay(self, records: Sequence[SQSRecord], seconds: float) -> None:
        """Hide ``records`` for ``seconds``. If SQS refuses (an expired receipt handle, say), the records still
        fail back to the queue: they come back after the queue's visibility timeout instead."""
        visibility = int(min(max(seconds, 0), MAX_VISIBILITY_SECONDS))
        for queue_arn in {record.event_source_arn for record in records}:
            entries: list[ChangeMessageVisibilityBatchRequestEntryTypeDef] = [
                {"Id": str(n), "ReceiptHandle": record.receipt_handle, "VisibilityTimeout": visibility}
                for n, record in enumerate(records)
                if record.event_source_arn == queue_arn
            ]
            try:
                answer = self._sqs().change_message_visibility_batch(QueueUrl=self._url(queue_arn), Entries=entries)
                failed = [entry.get("Code", "") for entry in answer.get("Failed", [])]
            except (BotoCoreError, ClientError) as exc:
                failed = [type(exc).__name__]
            if failed:
                logger.warning(
                    "could not delay the retry; the queue's visibility timeout applies",
                    extra={"reason": ", ".join(sorted(set(failed))), "wanted_delay_seconds": visibility},
                )

    def _url(self, queue_arn: str) -> str:
        if queue_arn not in self._queue_urls:
            *_, account, name = queue_arn.split(":")
            self._queue_urls[queue_arn] = self._sqs().get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)[
                "QueueUrl"
            ]
        return self._queue_urls[queue_arn]


def _loggable(body: str) -> Any:
    """The message as far as it can be logged: JSON with every personal field erased, else its size."""
    try:
        parsed = json.loads(body)
    except json.JSONDecodeError:
        return {"unparseable_bytes": len(body)}
    return redact_payload(parsed) if isinstance(parsed, dict) else {"json_type": type(parsed).__name__}
