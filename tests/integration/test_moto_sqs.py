"""moto's FIFO queues as the local stack patches them (devkit/stack/moto_sqs.py): the same answers as moto's, and
a send that no longer walks every message of a deep queue."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto.sqs.models import Message

from devkit.stack.moto_sqs import patch


@pytest.fixture
def sqs(moto_endpoint: str) -> Any:
    patch()  # the session's moto runs in this process (tests/conftest.py): patched by start_moto already
    import httpx

    httpx.post(f"{moto_endpoint}/moto-api/reset", timeout=10).raise_for_status()
    return boto3.client("sqs", endpoint_url=moto_endpoint, region_name="eu-west-1")


def fifo(sqs: Any, name: str, **attributes: str) -> str:
    url: str = sqs.create_queue(QueueName=name, Attributes={"FifoQueue": "true", **attributes})["QueueUrl"]
    return url


def depths(sqs: Any, url: str) -> tuple[int, int]:
    found = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(found["ApproximateNumberOfMessages"]), int(found["ApproximateNumberOfMessagesNotVisible"])


def send(sqs: Any, url: str, dedup: str, body: str = "{}", group: str = "g") -> None:
    sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group, MessageDeduplicationId=dedup)


def test_a_duplicate_id_is_dropped_and_counts_and_attributes_are_moto_s(sqs: Any) -> None:
    url = fifo(sqs, "dedup.fifo")
    send(sqs, url, "a", group="g1")
    send(sqs, url, "a", group="g1")  # a duplicate while the first is queued: dropped
    send(sqs, url, "b", group="g2")
    assert depths(sqs, url) == (2, 0)
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=60)
    assert depths(sqs, url) == (1, 1)
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (attributes["FifoQueue"], attributes["ContentBasedDeduplication"]) == ("true", "false")


def test_content_based_deduplication_still_drops_the_same_body(sqs: Any) -> None:
    url = fifo(sqs, "content.fifo", ContentBasedDeduplication="true")
    for body in ("{}", "{}", '{"x": 1}'):
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="g")
    assert depths(sqs, url) == (2, 0)


def test_an_id_seen_before_gets_moto_s_own_answer(sqs: Any) -> None:
    url = fifo(sqs, "seen.fifo")
    send(sqs, url, "a")
    (message,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    send(sqs, url, "a")  # moto compares with the messages it still holds: none, so it is queued again
    assert depths(sqs, url) == (1, 0)


def test_sending_to_a_deep_queue_reads_no_messages_visibility(sqs: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    url = fifo(sqs, "deep.fifo")
    for start in range(0, 300, 10):
        entries = [
            {
                "Id": str(n),
                "MessageBody": "{}",
                "MessageGroupId": f"g{start + n}",
                "MessageDeduplicationId": f"d{start + n}",
            }
            for n in range(10)
        ]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    looked_at: list[str] = []
    visible: Any = vars(Message)["visible"]

    def counted(message: Message) -> bool:
        looked_at.append(message.id)
        return bool(visible.fget(message))

    monkeypatch.setattr(Message, "visible", property(counted))
    send(sqs, url, "one-more", group="g-new")
    assert looked_at == [], "a send counted the queue's messages"
    assert depths(sqs, url) == (301, 0)
    assert looked_at, "GetQueueAttributes still counts them"
