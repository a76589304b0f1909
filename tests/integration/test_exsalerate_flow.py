"""The spine end to end in-process: webhook -> FIFO queue -> Exsalerate function -> simulator over HTTP, on moto."""

from __future__ import annotations

import io
import json
import time
from typing import Any

import pytest
from flow import (
    ALL_VENDORS,
    change,
    dlq_messages,
    emitted_metrics,
    pump,
    queue,
    queue_depth,
    rotate_password,
    shopify_customer,
    shopify_event,
    sqs_batch,
)

from custsync.config import WebhookSettings
from custsync.webhook import build_webhook_app

FUNCTION = "ExsalerateFunction"
SECRET = "test-shopify-client-secret"


@pytest.fixture
def webhook(stack: Any, function_env: Any, lambda_context: Any) -> Any:
    function_env("WebhookFunction")
    app = build_webhook_app(WebhookSettings.from_env())
    return lambda event: app.resolve(event, lambda_context)


def puts(stack: Any) -> list[Any]:
    calls: list[Any] = stack.simulators["exsalerate"].calls_to("/api/Customer", "PUT")
    return calls


def only_record(stack: Any) -> dict[str, Any]:
    (record,) = stack.simulators["exsalerate"].records.values()
    return dict(record)


def test_a_shopify_update_ends_as_a_correct_put_at_exsalerate(
    stack: Any, webhook: Any, exsalerate: Any, lambda_context: Any
) -> None:
    response = webhook(shopify_event(shopify_customer(), "wh-1", SECRET))
    assert response["statusCode"] == 202
    assert json.loads(response["body"]) == {"changeId": "wh-1", "vendors": ALL_VENDORS}

    delivery = pump(stack, FUNCTION, exsalerate, lambda_context)

    assert (delivery.delivered, delivery.failed) == (1, 0)
    assert len(puts(stack)) == 1
    assert puts(stack)[0].headers["Content-Type"] == "application/json"
    record = only_record(stack)
    assert record["CustomerName"] == "Acme AB"
    assert record["CompanyEmail"] == "ada@example.com"
    assert record["CompanyPhone"] == "+46701234567"
    assert record["RefCode"] == "7001"
    assert record["Region"] == "Stockholm"
    assert record["Notes"] == "Prefers email"
    assert record["LeadStatus"] == "Active"
    assert record["AssignedToEmail"] == "sales@example.com"
    assert record["SiteOwnerId"] == 1


def test_a_duplicate_webhook_makes_one_vendor_call(
    stack: Any, webhook: Any, exsalerate: Any, lambda_context: Any
) -> None:
    event = shopify_event(shopify_customer(), "wh-dup", SECRET)
    assert webhook(event)["statusCode"] == 202
    assert webhook(event)["statusCode"] == 202
    pump(stack, FUNCTION, exsalerate, lambda_context)
    # Past the queue's deduplication window the same change arrives again: the state table stops it.
    queue(stack, FUNCTION, change("wh-dup", "2026-11-20T10:00:00+01:00", {"key": "7001", "notes": "redelivered"}))
    pump(stack, FUNCTION, exsalerate, lambda_context)

    assert len(puts(stack)) == 1
    assert only_record(stack)["Notes"] == "Prefers email"


def test_an_older_change_after_a_newer_one_is_skipped(stack: Any, exsalerate: Any, lambda_context: Any) -> None:
    newer = change("c-new", "2026-11-20T12:00:00Z", {"key": "K1", "company": "New name AB"})
    older = change("c-old", "2026-11-20T11:00:00Z", {"key": "K1", "company": "Old name AB"})
    queue(stack, FUNCTION, newer, older)

    delivery = pump(stack, FUNCTION, exsalerate, lambda_context)

    assert delivery.failed == 0
    assert len(puts(stack)) == 1
    assert only_record(stack)["CustomerName"] == "New name AB"


def test_a_partial_change_leaves_the_other_fields_intact(stack: Any, exsalerate: Any, lambda_context: Any) -> None:
    full = {
        "key": "K2",
        "company": "Northwind",
        "email": "info@northwind.example",
        "phones": {"main": "+4681234567", "mobile": "+46700000001"},
        "notes": "Key account",
        "attributes": {"rank": "Gold", "industry": "Retail"},
    }
    queue(stack, FUNCTION, change("p-1", "2026-11-20T09:00:00Z", full))
    queue(stack, FUNCTION, change("p-2", "2026-11-20T09:30:00Z", {"key": "K2", "phones": {"mobile": "+46700000002"}}))

    pump(stack, FUNCTION, exsalerate, lambda_context)

    assert len(puts(stack)) == 2
    record = only_record(stack)
    assert record["CompanyMobile"] == "+46700000002"
    assert (record["CompanyPhone"], record["CompanyEmail"], record["Notes"]) == (
        "+4681234567",
        "info@northwind.example",
        "Key account",
    )
    assert (record["Rank"], record["IndustryType"], record["CustomerName"]) == ("Gold", "Retail", "Northwind")


def test_a_first_partial_change_keeps_what_exsalerate_already_holds(
    stack: Any, exsalerate: Any, lambda_context: Any
) -> None:
    simulator = stack.simulators["exsalerate"]
    simulator.records["555"] = {
        "CustomerId": 555,
        "SiteOwnerId": 1,
        "RefCode": "K3",
        "CustomerName": "Existing AB",
        "AssignedToEmail": "owner@example.com",
        "CompanyPhone": "+4690000",
        "Notes": "set in Exsalerate",
    }
    queue(stack, FUNCTION, change("f-1", "2026-11-20T09:00:00Z", {"key": "K3", "email": "new@existing.example"}))

    pump(stack, FUNCTION, exsalerate, lambda_context)

    put = puts(stack)[0].json()
    assert put["CustomerId"] == 555
    record = simulator.records["555"]
    assert record["CompanyEmail"] == "new@existing.example"
    assert (record["CustomerName"], record["CompanyPhone"], record["Notes"]) == (
        "Existing AB",
        "+4690000",
        "set in Exsalerate",
    )


def test_a_503_leaves_the_record_for_retry_while_its_batch_mates_succeed(
    stack: Any, vendor_handler: Any, lambda_context: Any
) -> None:
    exsalerate = vendor_handler("exsalerate", GROUP_CONCURRENCY="1")  # the fault meets the first customer's PUT
    simulator = stack.simulators["exsalerate"]
    simulator.faults.add("status", status=503, message="Service Unavailable", method="PUT", count=1)
    queue(
        stack,
        FUNCTION,
        *(change(f"r-{n}", "2026-11-20T09:00:00Z", {"key": f"R{n}", "company": f"Co {n}"}) for n in range(3)),
    )

    messages, event = sqs_batch(stack, FUNCTION)

    response = exsalerate(event, lambda_context)

    assert [item["itemIdentifier"] for item in response["batchItemFailures"]] == [messages[0]["MessageId"]]
    url, _ = stack.queue_of(FUNCTION)
    for message in messages[1:]:
        stack.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert sorted(r["RefCode"] for r in simulator.records.values()) == ["R1", "R2"]
    assert queue_depth(stack, FUNCTION) == 1, "the failed record stays on the queue"

    retry = pump(stack, FUNCTION, exsalerate, lambda_context)

    assert (retry.delivered, retry.failed) == (1, 0)
    assert sorted(r["RefCode"] for r in simulator.records.values()) == ["R0", "R1", "R2"]
    assert dlq_messages(stack, FUNCTION) == []


def test_a_400_is_a_permanent_failure_parked_with_the_vendors_message(
    stack: Any, vendor_handler: Any, lambda_context: Any
) -> None:
    exsalerate = vendor_handler("exsalerate", GROUP_CONCURRENCY="1")  # the fault meets the first customer's PUT
    simulator = stack.simulators["exsalerate"]
    simulator.faults.add("status", status=400, message="LeadStatus 'Active' is not a configured status.", method="PUT")
    queue(
        stack, FUNCTION, change("bad-1", "2026-11-20T09:00:00Z", {"key": "B1", "company": "Bad AB", "status": "active"})
    )
    queue(stack, FUNCTION, change("ok-1", "2026-11-20T09:00:00Z", {"key": "B2", "company": "Good AB"}))

    delivery = pump(stack, FUNCTION, exsalerate, lambda_context)

    assert delivery.failed == 0, "a permanent failure is not retried"
    (parked,) = dlq_messages(stack, FUNCTION)
    assert parked["body"]["change_id"] == "bad-1"
    assert parked["errorType"] == "PermanentError"
    assert "HTTP 400" in parked["reason"]
    assert "LeadStatus 'Active' is not a configured status." in parked["reason"]
    assert [r["RefCode"] for r in simulator.records.values()] == ["B2"]
    assert queue_depth(stack, FUNCTION) == 0


def test_an_invalid_message_is_parked_naming_the_field_and_costs_no_one_else(
    stack: Any, exsalerate: Any, lambda_context: Any
) -> None:
    url, _ = stack.queue_of(FUNCTION)
    bad = {
        "change_id": "x-1",
        "source": "batch",
        "occurred_at": "2026-11-20T09:00:00Z",
        "customer": {"key": "X1", "address": {"country": "Sweden"}},
    }
    stack.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(bad), MessageGroupId="X1", MessageDeduplicationId="x-1")
    queue(stack, FUNCTION, change("x-2", "2026-11-20T09:00:00Z", {"key": "X2", "company": "Fine AB"}))

    delivery = pump(stack, FUNCTION, exsalerate, lambda_context)

    assert delivery.failed == 0
    (parked,) = dlq_messages(stack, FUNCTION)
    assert parked["errorType"] == "InvalidMessage"
    assert "customer.address.country" in parked["reason"]
    assert [r["RefCode"] for r in stack.simulators["exsalerate"].records.values()] == ["X2"]


def test_refused_credentials_are_refreshed_once_then_parked(stack: Any, exsalerate: Any, lambda_context: Any) -> None:
    stack.simulators["exsalerate"].password = "rotated-at-the-vendor"
    queue(stack, FUNCTION, change("auth-1", "2026-11-20T09:00:00Z", {"key": "A1", "company": "Auth AB"}))

    pump(stack, FUNCTION, exsalerate, lambda_context)

    (parked,) = dlq_messages(stack, FUNCTION)
    assert parked["errorType"] == "AuthError"
    assert "Authorization has been denied" in parked["reason"]
    calls = stack.simulators["exsalerate"].calls_to("/api/Customer")
    assert [c.method for c in calls] == ["GET", "GET"], "one try, one try after re-reading the secret"

    rotate_password(stack, "exsalerate", "rotated-again")
    queue(stack, FUNCTION, change("auth-2", "2026-11-20T09:05:00Z", {"key": "A2", "company": "Rotated AB"}))
    assert pump(stack, FUNCTION, exsalerate, lambda_context).failed == 0
    assert [r["RefCode"] for r in stack.simulators["exsalerate"].records.values()] == ["A2"]


def test_logs_carry_the_change_id_and_no_personal_data(
    stack: Any, webhook: Any, vendor_handler: Any, lambda_context: Any, captured_logs: io.StringIO
) -> None:
    exsalerate = vendor_handler("exsalerate", GROUP_CONCURRENCY="1")  # the fault meets the first customer's PUT
    stack.simulators["exsalerate"].faults.add("status", status=400, message="ada@example.com is taken", method="PUT")
    webhook(shopify_event(shopify_customer(), "wh-log", SECRET))
    webhook(shopify_event(shopify_customer(7002, email="grace@example.com"), "wh-log-2", SECRET))
    pump(stack, FUNCTION, exsalerate, lambda_context)

    output = captured_logs.getvalue()
    entries = [json.loads(line) for line in output.splitlines() if line.startswith("{") and '"level"' in line]
    assert any(e["message"] == "change parked in the DLQ" and e.get("correlation_id") == "wh-log" for e in entries)
    assert any(e["message"] == "change applied" and e.get("correlation_id") == "wh-log-2" for e in entries)
    for personal in ("ada@example.com", "Lovelace", "+46701234567", "Drottninggatan", "Acme AB", SECRET, "sync-pass"):
        assert personal not in output


@pytest.mark.parametrize(
    ("secrets", "content_type"),
    [
        ({"customer-sync/local/exsalerate": {"format": "xml"}}, "application/xml"),
        ({"customer-sync/local/exsalerate": {"format": "form"}}, "application/x-www-form-urlencoded"),
    ],
    indirect=["secrets"],
    ids=["xml", "form"],
)
def test_xml_and_form_wire_formats_land_the_same_record(
    stack: Any, exsalerate: Any, lambda_context: Any, content_type: str
) -> None:
    full = {
        "key": "W1",
        "company": "Wire AB",
        "email": "wire@example.com",
        "notes": "a & b < c",
        "phones": {"main": "+461"},
    }
    queue(stack, FUNCTION, change("w-1", "2026-11-20T09:00:00Z", full))

    pump(stack, FUNCTION, exsalerate, lambda_context)

    (call,) = puts(stack)
    assert call.headers["Content-Type"] == content_type
    record = only_record(stack)
    assert (record["CustomerName"], record["CompanyEmail"], record["Notes"]) == (
        "Wire AB",
        "wire@example.com",
        "a & b < c",
    )
    assert (record["CompanyPhone"], record["RefCode"], record["SiteOwnerId"]) == ("+461", "W1", 1)


@pytest.mark.parametrize(
    ("fault", "options"),
    [("timeout", {"delay": 1.0}), ("reset", {})],
)
def test_a_timeout_or_a_dropped_connection_is_retried(
    stack: Any,
    vendor_handler: Any,
    lambda_context: Any,
    fault: str,
    options: dict[str, Any],
) -> None:
    handler = vendor_handler("exsalerate", CALL_TIMEOUT_SECONDS="0.3", SETTLE_SECONDS="1")
    stack.simulators["exsalerate"].faults.add(fault, method="PUT", **options)
    queue(stack, FUNCTION, change("t-1", "2026-11-20T09:00:00Z", {"key": "T1", "company": "Slow AB"}))
    messages, event = sqs_batch(stack, FUNCTION)

    response = handler(event, lambda_context)

    assert response["batchItemFailures"] == [{"itemIdentifier": messages[0]["MessageId"]}]
    assert dlq_messages(stack, FUNCTION) == []
    assert pump(stack, FUNCTION, handler, lambda_context).delivered == 0, "held back while the outcome settles"
    time.sleep(1.2)
    assert pump(stack, FUNCTION, handler, lambda_context).failed == 0
    assert only_record(stack)["CustomerName"] == "Slow AB"


def test_a_429_backs_off_for_the_vendors_retry_after(stack: Any, exsalerate: Any, lambda_context: Any) -> None:
    stack.simulators["exsalerate"].faults.add("status", status=429, retry_after=120, method="PUT")
    queue(stack, FUNCTION, change("r-1", "2026-11-20T09:00:00Z", {"key": "R1", "company": "Busy AB"}))
    messages, event = sqs_batch(stack, FUNCTION)

    assert exsalerate(event, lambda_context)["batchItemFailures"] == [{"itemIdentifier": messages[0]["MessageId"]}]

    url, _ = stack.queue_of(FUNCTION)
    assert stack.sqs.receive_message(QueueUrl=url).get("Messages", []) == [], "hidden for Retry-After, not redelivered"
    assert queue_depth(stack, FUNCTION) == 1


def test_retries_end_in_the_dlq_with_the_last_reason(stack: Any, exsalerate: Any, lambda_context: Any) -> None:
    stack.simulators["exsalerate"].faults.add(
        "status", status=503, message="Down for maintenance", method="PUT", count=99
    )
    queue(stack, FUNCTION, change("d-1", "2026-11-20T09:00:00Z", {"key": "D1", "company": "Never AB"}))

    delivery = pump(stack, FUNCTION, exsalerate, lambda_context)

    assert delivery.batches == 5, "MAX_ATTEMPTS deliveries"
    (parked,) = dlq_messages(stack, FUNCTION)
    assert parked["reason"].startswith("gave up after 5 attempts: exsalerate answered HTTP 503")
    assert parked["attempts"] == "5"
    assert queue_depth(stack, FUNCTION) == 0


def test_metrics_count_applied_skipped_and_parked_per_vendor(
    stack: Any, exsalerate: Any, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    queue(
        stack,
        FUNCTION,
        change("m-new", "2026-11-20T09:05:00Z", {"key": "M1", "company": "Metric AB"}),
        change("m-old", "2026-11-20T09:00:00Z", {"key": "M1", "company": "Older AB"}),
        change("m-long", "2026-11-20T09:00:00Z", {"key": "M2", "company": "Long AB", "notes": "n" * 4001}),
    )
    capsys.readouterr()

    pump(stack, FUNCTION, exsalerate, lambda_context)

    totals = emitted_metrics(capsys.readouterr().out)
    assert totals[("exsalerate", "ChangesApplied")] == 1
    assert totals[("exsalerate", "ChangesSkipped")] == 1
    assert totals[("exsalerate", "ChangesParked")] == 1
    assert totals[("exsalerate", "VendorLatency")] >= 1, "one latency sample per vendor call"


# The PUT's reply body is not documented: Exsalerate may answer with the whole record, the bare
# CustomerId or nothing. Whatever it answers, one customer must stay one record there.
@pytest.fixture(params=["record", "id", "empty"])
def put_reply(request: pytest.FixtureRequest, stack: Any) -> str:
    reply: str = request.param
    stack.simulators["exsalerate"].put_reply = reply
    return reply


def the_record_for(stack: Any, ref_code: str) -> dict[str, Any]:
    """The one record Exsalerate holds for ``ref_code``; more than one is a duplicate customer."""
    records = [dict(r) for r in stack.simulators["exsalerate"].records.values() if r["RefCode"] == ref_code]
    assert len(records) == 1, f"{len(records)} records for {ref_code}: CustomerIds {[r['CustomerId'] for r in records]}"
    return records[0]


def lookups(stack: Any) -> int:
    return len(stack.simulators["exsalerate"].calls_to("/api/Customer", "GET"))


def test_changes_in_separate_invocations_update_one_record_whatever_the_put_replies(
    stack: Any, exsalerate: Any, lambda_context: Any, put_reply: str
) -> None:
    changes = [
        change("one-1", "2026-11-20T09:00:00Z", {"key": "N1", "company": "Once AB", "notes": "first"}),
        change("one-2", "2026-11-20T09:05:00Z", {"key": "N1", "notes": "second"}),
        change("one-3", "2026-11-20T09:10:00Z", {"key": "N1", "phones": {"main": "+461"}}),
    ]
    for item in changes:
        queue(stack, FUNCTION, item)
        delivery = pump(stack, FUNCTION, exsalerate, lambda_context)
        assert (delivery.batches, delivery.delivered, delivery.failed) == (1, 1, 0)

    record = the_record_for(stack, "N1")
    assert (record["CustomerName"], record["Notes"], record["CompanyPhone"]) == ("Once AB", "second", "+461")
    assert [call.json().get("CustomerId") for call in puts(stack)] == [None, record["CustomerId"], record["CustomerId"]]
    # An id the reply carries is learned from it; without one, the next change finds it by RefCode, once.
    assert lookups(stack) == (2 if put_reply == "empty" else 1)


def test_changes_in_one_batch_update_one_record_whatever_the_put_replies(
    stack: Any, exsalerate: Any, lambda_context: Any, put_reply: str
) -> None:
    queue(
        stack,
        FUNCTION,
        change("batch-1", "2026-11-20T09:00:00Z", {"key": "N2", "company": "Batch AB", "notes": "first"}),
        change("batch-2", "2026-11-20T09:05:00Z", {"key": "N2", "notes": "second"}),
    )
    messages, event = sqs_batch(stack, FUNCTION)
    assert len(messages) == 2, "both changes in one SQS batch"

    assert exsalerate(event, lambda_context)["batchItemFailures"] == []

    record = the_record_for(stack, "N2")
    assert (record["CustomerName"], record["Notes"]) == ("Batch AB", "second")
    assert [call.json().get("CustomerId") for call in puts(stack)] == [None, record["CustomerId"]]


def test_what_exsalerate_ends_with_does_not_depend_on_the_put_reply(
    stack: Any, exsalerate: Any, lambda_context: Any
) -> None:
    simulator = stack.simulators["exsalerate"]
    ends_with = {}
    for reply in ("record", "id", "empty"):
        simulator.put_reply = reply
        key = f"L-{reply}"
        first = {"key": key, "company": "Lost AB", "notes": "ours", "status": "active"}
        queue(stack, FUNCTION, change(f"{key}-1", "2026-11-20T09:00:00Z", first))
        pump(stack, FUNCTION, exsalerate, lambda_context)
        created = the_record_for(stack, key)
        # Edited in Exsalerate meanwhile: fields changes have sent, and one none has.
        edits = {"Notes": "edited in Exsalerate", "LeadStatus": "Working", "Rank": "Gold"}
        simulator.records[str(created["CustomerId"])].update(edits)
        later = {"key": key, "phones": {"main": "+461"}, "status": None}
        queue(stack, FUNCTION, change(f"{key}-2", "2026-11-20T09:05:00Z", later))
        assert pump(stack, FUNCTION, exsalerate, lambda_context).failed == 0

        record = the_record_for(stack, key)
        assert record["CustomerId"] == created["CustomerId"]
        ends_with[reply] = {name: value for name, value in record.items() if name not in ("CustomerId", "RefCode")}

    assert ends_with["id"] == ends_with["record"]
    assert ends_with["empty"] == ends_with["record"], "a look-up for the lost id brings back none of its fields"
    record = ends_with["record"]
    assert (record["CustomerName"], record["Notes"], record["CompanyPhone"]) == ("Lost AB", "ours", "+461")
    assert record["LeadStatus"] is None, "cleared by the change"
