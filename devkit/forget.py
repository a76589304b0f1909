"""``custsync forget KEY --stage S``: queue an erasure of one customer for every vendor of the template.

Each vendor function then forgets the customer where it keeps anything (its state row keeps only what ordering
needs; its DLQ loses the customer's parked messages) and logs one line, ``customer erased``, with the key. No
vendor is called. ``--local`` is the stage the local stack runs (``local``), reached through ``AWS_ENDPOINT_URL``
(the local stack's moto), never an AWS account.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
from pydantic import ValidationError

from custsync.fanout import FanOut
from custsync.model import Customer, CustomerChange
from custsync.validation import describe_validation_error
from devkit.inputs import InputError
from devkit.stack.template import Template
from devkit.target import queue_name

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

LOCAL_STAGE = "local"
SOURCE = "operator"


@dataclass(frozen=True)
class Queued:
    change_id: str
    vendors: list[str]


def erasure(customer_key: str, now: datetime | None = None) -> CustomerChange:
    """The erasure of ``customer_key``, at ``now``: every change of the customer older than that is kept out."""
    try:
        customer = Customer(key=customer_key)
    except ValidationError as exc:
        raise InputError(describe_validation_error(exc).replace("key:", "KEY:", 1)) from exc
    return CustomerChange(
        change_id=f"forget:{uuid.uuid4().hex}",
        source=SOURCE,
        occurred_at=now or datetime.now(UTC),
        kind="erase",
        customer=customer,
    )


def stage_of(stage: str, local: bool) -> str:
    """The stage to forget the customer in; ``--local`` needs the local stack's endpoint."""
    if not local:
        return stage
    if not os.environ.get("AWS_ENDPOINT_URL"):
        raise InputError("--local: set AWS_ENDPOINT_URL to the local stack's moto endpoint")
    return LOCAL_STAGE


def forget(root: Path, customer_key: str, stage: str, sqs: SQSClient | None = None) -> Queued:
    """Queue the erasure for every vendor function of ``root``'s template, in ``stage``."""
    change = erasure(customer_key)
    client = sqs or boto3.client("sqs")
    vendors = list(Template(root / "template.yaml").vendor_functions())
    urls = {vendor: client.get_queue_url(QueueName=queue_name(vendor, stage))["QueueUrl"] for vendor in vendors}
    return Queued(change.change_id, FanOut(urls, client).send(change))
