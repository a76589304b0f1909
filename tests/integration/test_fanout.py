"""The webhook's fan-out: one change to every vendor queue, the sends at once (moto's SQS)."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError

from custsync.fanout import FanOut
from flow import change

VENDORS = 5


def vendor_queues(stack: Any, count: int = VENDORS) -> dict[str, str]:
    return {
        f"vendor{n}": stack.sqs.create_queue(QueueName=f"fanout-{n}.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
        for n in range(count)
    }


def received(stack: Any, url: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = stack.sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages", [])
    return messages


def test_the_sends_of_one_change_are_in_flight_together(stack: Any) -> None:
    queues = vendor_queues(stack)
    sqs = stack.sqs
    # Every SendMessage waits here until all of them have started: sent one after another, the first would
    # wait alone until the barrier broke (its timeout only bounds a failing run).
    together = threading.Barrier(VENDORS, timeout=30)

    def wait_for_the_others(**_: Any) -> None:
        together.wait()  # and answer None: botocore takes a before-send handler's answer as the reply

    sqs.meta.events.register("before-send.sqs.SendMessage", wait_for_the_others)
    sent = change("c-1", "2026-11-20T09:00:00Z", {"key": "K1", "company": "Fan AB"})

    assert FanOut(queues, sqs).send(sent) == list(queues)

    for url in queues.values():
        (message,) = received(stack, url)
        assert json.loads(message["Body"])["change_id"] == "c-1"
        assert message["MessageAttributes"]["changeId"]["StringValue"] == "c-1"


def test_a_queue_that_refuses_fails_the_send_once_every_other_queue_has_the_change(stack: Any) -> None:
    queues = vendor_queues(stack)
    queues["gone"] = queues["vendor0"].replace("fanout-0", "no-such-queue")
    sent = change("c-2", "2026-11-20T09:00:00Z", {"key": "K2", "company": "Fan AB"})

    with pytest.raises(ClientError):
        FanOut(queues, stack.sqs).send(sent)

    for vendor, url in queues.items():
        if vendor != "gone":
            assert [json.loads(m["Body"])["change_id"] for m in received(stack, url)] == ["c-2"], vendor
