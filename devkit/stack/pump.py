"""Delivers queued messages to a function as SQS events, as Lambda's event source mapping does.

Messages the function reports in ``batchItemFailures`` stay on the queue (the
function may have changed their visibility for backoff); all others are deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from devkit.stack.template import REGION

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

Invoke = Callable[[dict[str, Any]], Any]


@dataclass
class Delivery:
    delivered: int = 0
    failed: int = 0
    batches: int = 0
    responses: list[Any] = field(default_factory=list)


def sqs_event(messages: list[MessageTypeDef], queue_arn: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": {
                    name: {
                        "stringValue": value.get("StringValue"),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": value["DataType"],
                    }
                    for name, value in message.get("MessageAttributes", {}).items()
                },
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
            for message in messages
        ]
    }


def deliver(
    sqs: SQSClient, queue_url: str, queue_arn: str, invoke: Invoke, *, batch_size: int = 10, max_batches: int = 50
) -> Delivery:
    """Poll ``queue_url`` and invoke until it has nothing visible (or ``max_batches``)."""
    delivery = Delivery()
    for _ in range(max_batches):
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=batch_size,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0,
        ).get("Messages", [])
        if not messages:
            break
        response = invoke(sqs_event(messages, queue_arn))
        delivery.batches += 1
        delivery.responses.append(response)
        if isinstance(response, dict) and "errorType" in response:
            # The whole invocation failed: Lambda leaves every message on the queue.
            failed = {message["MessageId"] for message in messages}
        else:
            failed = {item["itemIdentifier"] for item in (response or {}).get("batchItemFailures", [])}
        delivery.delivered += len(messages)
        delivery.failed += len(failed)
        for message in messages:
            if message["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return delivery
