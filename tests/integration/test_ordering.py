"""No lost update, no stale write: field-level ordering, fenced timeouts, parking only when given up.

Each test drives a vendor function in-process against its simulator over HTTP, on moto.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from custsync.model import CustomerChange
from custsync.state import DynamoStateStore
from flow import change, dlq_messages, pump, queue, queue_depth, sqs_batch

EXSALERATE = "ExsalerateFunction"


def exsalerate_record(stack: Any, ref_code: str) -> dict[str, Any]:
    (record,) = [r for r in stack.simulators["exsalerate"].records.values() if r["RefCode"] == ref_code]
    return dict(record)


def deliver_until_done(stack: Any, function: str, handler: Any, context: Any, seconds: float = 20.0) -> None:
    """Deliver as Lambda's event source would, letting hidden (backed-off) messages come back, until none is left."""
    ends = time.monotonic() + seconds
    while queue_depth(stack, function) and time.monotonic() < ends:
        pump(stack, function, handler, context)
        time.sleep(0.2)
    assert queue_depth(stack, function) == 0, "the queue did not drain"


def redeliver(stack: Any, function: str, item: CustomerChange) -> None:
    """The same change again as a new message (a sender's late redelivery, or an operator's redrive)."""
    url, _ = stack.queue_of(function)
    stack.sqs.send_message(
        QueueUrl=url,
        MessageBody=item.model_dump_json(exclude_unset=True),
        MessageGroupId=item.customer.key,
        MessageDeduplicationId=f"again-{item.change_id}-{time.monotonic_ns()}",
    )


def test_an_older_partial_change_arriving_late_still_lands_the_fields_only_it_carries(
    stack: Any, vendor_handler: Callable[..., Any], lambda_context: Any
) -> None:
    handler = vendor_handler("exsalerate")
    first = {"key": "O1", "company": "Orders AB", "email": "first@example.com", "attributes": {"industry": "Retail"}}
    queue(stack, EXSALERATE, change("o-1", "2026-11-20T09:00:00Z", first))
    pump(stack, EXSALERATE, handler, lambda_context)
    queue(stack, EXSALERATE, change("o-7", "2026-11-20T09:07:00Z", {"key": "O1", "email": "seventh@example.com"}))
    pump(stack, EXSALERATE, handler, lambda_context)
    sixth = {"key": "O1", "company": "Renamed AB", "email": "sixth@example.com", "attributes": {"industry": "Fashion"}}
    queue(stack, EXSALERATE, change("o-6", "2026-11-20T09:06:00Z", sixth))
    pump(stack, EXSALERATE, handler, lambda_context)

    record = exsalerate_record(stack, "O1")
    assert record["CustomerName"] == "Renamed AB", "only the late change carried it"
    assert record["IndustryType"] == "Fashion", "only the late change carried it"
    assert record["CompanyEmail"] == "seventh@example.com", "the newer change's value stays"


def test_a_timed_out_call_that_lands_late_never_leaves_the_vendor_with_older_data(
    stack: Any, vendor_handler: Callable[..., Any], lambda_context: Any
) -> None:
    handler = vendor_handler("exsalerate", CALL_TIMEOUT_SECONDS="0.5", SETTLE_SECONDS="2", BACKOFF_BASE_SECONDS="0")
    simulator = stack.simulators["exsalerate"]
    simulator.faults.add("timeout", delay=1.2, method="PUT")  # the vendor applies it 1.2 s later
    queue(
        stack,
        EXSALERATE,
        change("l-1", "2026-11-20T09:00:00Z", {"key": "L1", "company": "Late AB", "notes": "first"}),
        change("l-2", "2026-11-20T09:01:00Z", {"key": "L1", "company": "Fresh AB"}),
    )

    deliver_until_done(stack, EXSALERATE, handler, lambda_context)
    time.sleep(1.5)  # every late call has landed by now

    record = exsalerate_record(stack, "L1")
    assert (record["CustomerName"], record["Notes"]) == ("Fresh AB", "first")


def test_a_redelivery_of_a_change_with_the_same_time_as_a_newer_one_is_a_duplicate(
    stack: Any, vendor_handler: Callable[..., Any], lambda_context: Any
) -> None:
    handler = vendor_handler("exsalerate")
    same_second = "2026-11-20T09:00:00Z"  # Shopify's updated_at has one-second resolution
    first = change("eq-b", same_second, {"key": "E1", "company": "First AB"})
    second = change("eq-c", same_second, {"key": "E1", "company": "Second AB"})
    queue(stack, EXSALERATE, first, second)
    pump(stack, EXSALERATE, handler, lambda_context)
    redeliver(stack, EXSALERATE, first)
    pump(stack, EXSALERATE, handler, lambda_context)

    assert exsalerate_record(stack, "E1")["CustomerName"] == "Second AB"


def test_equal_times_are_ordered_by_change_id_whatever_the_arrival_order(
    stack: Any, vendor_handler: Callable[..., Any], lambda_context: Any
) -> None:
    handler = vendor_handler("exsalerate")
    same_second = "2026-11-20T09:00:00Z"
    queue(stack, EXSALERATE, change("tie-z", same_second, {"key": "T1", "company": "Zulu AB"}))
    pump(stack, EXSALERATE, handler, lambda_context)
    queue(stack, EXSALERATE, change("tie-a", same_second, {"key": "T1", "company": "Alpha AB"}))
    pump(stack, EXSALERATE, handler, lambda_context)

    assert exsalerate_record(stack, "T1")["CustomerName"] == "Zulu AB"


def test_a_change_waiting_for_another_workers_lease_is_retried_never_parked(
    stack: Any, vendor_handler: Callable[..., Any], lambda_context: Any
) -> None:
    handler = vendor_handler("exsalerate", MAX_ATTEMPTS="1")
    other_worker = DynamoStateStore(stack.physical["SyncStateTable"]["Ref"], "exsalerate")
    other_worker.claim("B1", lease_seconds=60)
    queue(stack, EXSALERATE, change("b-1", "2026-11-20T09:00:00Z", {"key": "B1", "company": "Busy AB"}))
    messages, event = sqs_batch(stack, EXSALERATE)

    response = handler(event, lambda_context)

    assert response["batchItemFailures"] == [{"itemIdentifier": messages[0]["MessageId"]}]
    assert dlq_messages(stack, EXSALERATE) == []


def test_waiting_behind_a_failing_change_does_not_use_up_a_changes_own_attempts(
    stack: Any, vendor_handler: Callable[..., Any], lambda_context: Any
) -> None:
    handler = vendor_handler("exsalerate", MAX_ATTEMPTS="2", BACKOFF_BASE_SECONDS="0")
    # The first change fails twice (parked), the second once, then the vendor recovers.
    stack.simulators["exsalerate"].faults.add("status", status=503, method="PUT", count=3)
    queue(
        stack,
        EXSALERATE,
        change("w-1", "2026-11-20T09:00:00Z", {"key": "W1", "company": "Head AB"}),
        change("w-2", "2026-11-20T09:01:00Z", {"key": "W1", "company": "Behind AB"}),
    )

    deliver_until_done(stack, EXSALERATE, handler, lambda_context)

    parked = dlq_messages(stack, EXSALERATE)
    assert [p["body"]["change_id"] for p in parked] == ["w-1"]
    assert parked[0]["reason"].startswith("gave up after 2 attempts: exsalerate answered HTTP 503")
    assert exsalerate_record(stack, "W1")["CustomerName"] == "Behind AB"


def test_a_failing_change_holds_back_its_customers_later_records_for_the_same_wait(
    stack: Any, vendor_handler: Callable[..., Any], lambda_context: Any
) -> None:
    handler = vendor_handler("exsalerate")
    stack.simulators["exsalerate"].faults.add("status", status=429, retry_after=1, method="PUT")
    queue(
        stack,
        EXSALERATE,
        change("g-1", "2026-11-20T09:00:00Z", {"key": "G1", "company": "Throttled AB"}),
        change("g-2", "2026-11-20T09:01:00Z", {"key": "G1", "company": "Later AB"}),
        change("g-3", "2026-11-20T09:02:00Z", {"key": "G1", "company": "Latest AB"}),
    )
    messages, event = sqs_batch(stack, EXSALERATE)

    response = handler(event, lambda_context)
    assert len(response["batchItemFailures"]) == 3

    url, _ = stack.queue_of(EXSALERATE)
    assert stack.sqs.receive_message(QueueUrl=url).get("Messages", []) == [], "hidden for Retry-After"
    time.sleep(1.5)
    came_back = []
    for _ in messages:  # one at a time, deleting each: moto hands out one message of a group it delivered before
        (message,) = stack.sqs.receive_message(QueueUrl=url).get("Messages", [None])
        assert message is not None, "the customer's later records come back with it, not after the queue's 180 s"
        came_back.append(message["MessageId"])
        stack.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert sorted(came_back) == sorted(m["MessageId"] for m in messages)


def test_every_log_line_of_a_batch_vendors_change_carries_its_change_id(
    stack: Any, vendor_handler: Callable[..., Any], lambda_context: Any, captured_logs: io.StringIO
) -> None:
    handler = vendor_handler("centra")
    queue(
        stack,
        "CentraFunction",
        change("c-1", "2026-11-20T09:00:00Z", {"key": "C1", "first_name": "Ada"}),
        change("c-2", "2026-11-20T09:00:00Z", {"key": "C2", "first_name": "Grace"}),
        change("c-3", "2026-11-20T09:01:00Z", {"key": "C1", "first_name": "Ada L."}),
    )
    pump(stack, "CentraFunction", handler, lambda_context)

    entries = [json.loads(line) for line in captured_logs.getvalue().splitlines() if line.startswith("{")]
    outcomes = [e for e in entries if e.get("message") in ("change applied", "change skipped")]
    assert sorted(e["change_id"] for e in outcomes) == ["c-1", "c-2", "c-3"]
    for entry in outcomes:
        assert entry["correlation_id"] == entry["change_id"]


@pytest.mark.parametrize("vendor", ["exsalerate", "centra"])
def test_a_stale_change_redelivered_after_a_newer_one_is_skipped_and_lands_nothing(
    stack: Any, vendor_handler: Callable[..., Any], lambda_context: Any, vendor: str
) -> None:
    handler = vendor_handler(vendor)
    function = f"{vendor.capitalize()}Function"
    queue(
        stack,
        function,
        change("s-2", "2026-11-20T09:02:00Z", {"key": "S1", "company": "Newer AB", "first_name": "New"}),
    )
    pump(stack, function, handler, lambda_context)
    calls_before = len(stack.simulators[vendor].calls)
    queue(stack, function, change("s-1", "2026-11-20T09:01:00Z", {"key": "S1", "first_name": "Old"}))
    pump(stack, function, handler, lambda_context)

    assert len(stack.simulators[vendor].calls) == calls_before, "nothing newer: no vendor call"
