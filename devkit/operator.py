"""Operator commands against a deployed stage's queues (or the local stack's, through AWS_ENDPOINT_URL)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from pydantic import ValidationError

from custsync.fanout import FanOut
from custsync.model import CustomerChange
from custsync.validation import describe_validation_error

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


def queue_name(vendor: str, stage: str, *, dlq: bool = False) -> str:
    """The queue names template.yaml gives: customer-sync-<stage>-<vendor>[-dlq].fifo."""
    return f"customer-sync-{stage}-{vendor}{'-dlq' if dlq else ''}.fifo"


def _url(sqs: SQSClient, vendor: str, stage: str, *, dlq: bool = False) -> str:
    return sqs.get_queue_url(QueueName=queue_name(vendor, stage, dlq=dlq))["QueueUrl"]


def list_dlq(vendor: str, stage: str, limit: int = 100) -> list[dict[str, Any]]:
    """Peek at parked messages: each is received, noted, and made visible again at once."""
    sqs = boto3.client("sqs")
    url = _url(sqs, vendor, stage, dlq=True)
    parked: list[dict[str, Any]] = []
    seen: list[str] = []
    while len(parked) < limit:
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=30, WaitTimeSeconds=0
        ).get("Messages", [])
        if not messages:
            break
        for message in messages:
            attributes = {k: v.get("StringValue") for k, v in message.get("MessageAttributes", {}).items()}
            parked.append({"messageId": message["MessageId"], **attributes})
            seen.append(message["ReceiptHandle"])
    for receipt in seen:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=receipt, VisibilityTimeout=0)
    return parked


def redrive(vendor: str, stage: str) -> int:
    """Move every parked message back to the vendor queue, as a new delivery of the same change."""
    sqs = boto3.client("sqs")
    dlq_url, queue_url = _url(sqs, vendor, stage, dlq=True), _url(sqs, vendor, stage)
    moved = 0
    while True:
        messages = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, AttributeNames=["All"]).get(
            "Messages", []
        )
        if not messages:
            return moved
        for message in messages:
            attributes = message.get("Attributes", {})
            sqs.send_message(
                QueueUrl=queue_url,
                MessageBody=message["Body"],
                MessageGroupId=attributes.get("MessageGroupId", "redriven"),
                # A fresh id: the original one may still be inside the queue's deduplication window.
                MessageDeduplicationId=f"redrive-{uuid.uuid4().hex}",
            )
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1


def send_batch(vendor: str, stage: str, path: Path) -> tuple[list[str], int]:
    """Queue every valid line of ``path``; return the refused lines' problems and how many were queued."""
    sqs = boto3.client("sqs")
    fanout = FanOut({vendor: _url(sqs, vendor, stage)}, sqs)
    problems: list[str] = []
    sent = 0
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            change = CustomerChange.model_validate_json(line)
        except ValidationError as exc:
            problems.append(f"{path.name}:{number}: {describe_validation_error(exc)}")
            continue
        fanout.send(change)
        sent += 1
    return problems, sent
