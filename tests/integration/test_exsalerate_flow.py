"""The spine end to end in-process: webhook -> FIFO queue -> Exsalerate function -> simulator over HTTP, on moto."""

from __future__ import annotations

import io
import json
import time
from typing import Any

import pytest

from custsync.config import WebhookSettings
from custsync.webhook import build_webhook_app
from flow import ALL_VENDORS, VendorFlow, change, emitted_metrics, shopify_customer, shopify_event

pytestmark = pytest.mark.vendor("exsalerate")
SECRET = "test-shopify-client-secret"


@pytest.fixture
def webhook(stack: Any, function_env: Any, lambda_context: Any) -> Any:
    function_env("WebhookFunction")
    app = build_webhook_app(WebhookSettings.from_env())
    return lambda event: app.resolve(event, lambda_context)


def puts(vendor: VendorFlow) -> list[Any]:
    calls: list[Any] = vendor.simulator.calls_to("/api/Customer", "PUT")
    return calls


def test_a_shopify_update_ends_as_a_correct_put_at_exsalerate(webhook: Any, vendor: VendorFlow) -> None:
    response = webhook(shopify_event(shopify_customer(), "wh-1", SECRET))
    assert response["statusCode"] == 202
    assert json.loads(response["body"])["vendors"] == ALL_VENDORS

    delivery = vendor.pump()

    assert (delivery.delivered, delivery.failed) == (1, 0)
    assert len(puts(vendor)) == 1
    assert puts(vendor)[0].headers["Content-Type"] == "application/json"
    record = vendor.only_record()
    assert record["CustomerName"] == "Acme AB"
    assert record["CompanyEmail"] == "ada@example.com"
    assert record["CompanyPhone"] == "+46701234567"
    assert record["RefCode"] == "7001"
    assert record["Region"] == "Stockholm"
    assert record["Notes"] == "Prefers email"
    assert record["LeadStatus"] is None, "Shopify's state is its login account's: it sets no status"
    assert record["AssignedToEmail"] == "sales@example.com"
    assert record["SiteOwnerId"] == 1


def test_a_duplicate_webhook_makes_one_vendor_call(webhook: Any, vendor: VendorFlow) -> None:
    event = shopify_event(shopify_customer(), "wh-dup", SECRET)
    first = webhook(event)
    assert first["statusCode"] == 202
    assert webhook(event)["statusCode"] == 202
    vendor.pump()
    # Past the queue's deduplication window the same change arrives again: the state table stops it.
    change_id = json.loads(first["body"])["changeId"]
    vendor.queue(change(change_id, "2026-11-20T10:00:00+01:00", {"key": "7001", "notes": "redelivered"}))
    vendor.pump()

    assert len(puts(vendor)) == 1
    assert vendor.only_record()["Notes"] == "Prefers email"


def test_an_older_change_after_a_newer_one_is_skipped(vendor: VendorFlow) -> None:
    newer = change("c-new", "2026-11-20T12:00:00Z", {"key": "K1", "company": "New name AB"})
    older = change("c-old", "2026-11-20T11:00:00Z", {"key": "K1", "company": "Old name AB"})
    vendor.queue(newer, older)

    delivery = vendor.pump()

    assert delivery.failed == 0
    assert len(puts(vendor)) == 1
    assert vendor.only_record()["CustomerName"] == "New name AB"


def test_a_partial_change_leaves_the_other_fields_intact(vendor: VendorFlow) -> None:
    full = {
        "key": "K2",
        "company": "Northwind",
        "email": "info@northwind.example",
        "phones": {"main": "+4681234567", "mobile": "+46700000001"},
        "notes": "Key account",
        "attributes": {"rank": "Gold", "industry": "Retail"},
    }
    vendor.queue(change("p-1", "2026-11-20T09:00:00Z", full))
    vendor.queue(change("p-2", "2026-11-20T09:30:00Z", {"key": "K2", "phones": {"mobile": "+46700000002"}}))

    vendor.pump()

    assert len(puts(vendor)) == 2
    record = vendor.only_record()
    assert record["CompanyMobile"] == "+46700000002"
    assert (record["CompanyPhone"], record["CompanyEmail"], record["Notes"]) == (
        "+4681234567",
        "info@northwind.example",
        "Key account",
    )
    assert (record["Rank"], record["IndustryType"], record["CustomerName"]) == ("Gold", "Retail", "Northwind")


def test_a_first_partial_change_keeps_what_exsalerate_already_holds(vendor: VendorFlow) -> None:
    simulator = vendor.simulator
    simulator.records["555"] = {
        "CustomerId": 555,
        "SiteOwnerId": 1,
        "RefCode": "K3",
        "CustomerName": "Existing AB",
        "AssignedToEmail": "owner@example.com",
        "CompanyPhone": "+4690000",
        "Notes": "set in Exsalerate",
    }
    vendor.queue(change("f-1", "2026-11-20T09:00:00Z", {"key": "K3", "email": "new@existing.example"}))

    vendor.pump()

    put = puts(vendor)[0].json()
    assert put["CustomerId"] == 555
    record = simulator.records["555"]
    assert record["CompanyEmail"] == "new@existing.example"
    assert (record["CustomerName"], record["CompanyPhone"], record["Notes"]) == (
        "Existing AB",
        "+4690000",
        "set in Exsalerate",
    )


def test_a_503_leaves_the_record_for_retry_while_its_batch_mates_succeed(vendor: VendorFlow) -> None:
    vendor.cold_start(GROUP_CONCURRENCY="1")  # the fault meets the first customer's PUT
    simulator = vendor.simulator
    simulator.faults.add("status", status=503, message="Service Unavailable", method="PUT", count=1)
    vendor.queue(
        *(change(f"r-{n}", "2026-11-20T09:00:00Z", {"key": f"R{n}", "company": f"Co {n}"}) for n in range(3)),
    )

    messages, event = vendor.sqs_batch()

    response = vendor.invoke(event)

    assert [item["itemIdentifier"] for item in response["batchItemFailures"]] == [messages[0]["MessageId"]]
    for message in messages[1:]:
        vendor.stack.sqs.delete_message(QueueUrl=vendor.queue_url, ReceiptHandle=message["ReceiptHandle"])
    assert sorted(r["RefCode"] for r in simulator.records.values()) == ["R1", "R2"]
    assert vendor.depth() == 1, "the failed record stays on the queue"

    retry = vendor.pump()

    assert (retry.delivered, retry.failed) == (1, 0)
    assert sorted(r["RefCode"] for r in simulator.records.values()) == ["R0", "R1", "R2"]
    assert vendor.dlq() == []


def test_a_400_is_a_permanent_failure_parked_with_the_vendors_message(vendor: VendorFlow) -> None:
    vendor.cold_start(GROUP_CONCURRENCY="1")  # the fault meets the first customer's PUT
    simulator = vendor.simulator
    simulator.faults.add("status", status=400, message="LeadStatus 'Active' is not a configured status.", method="PUT")
    vendor.queue(change("bad-1", "2026-11-20T09:00:00Z", {"key": "B1", "company": "Bad AB", "status": "active"}))
    vendor.queue(change("ok-1", "2026-11-20T09:00:00Z", {"key": "B2", "company": "Good AB"}))

    delivery = vendor.pump()

    assert delivery.failed == 0, "a permanent failure is not retried"
    (parked,) = vendor.dlq()
    assert parked["body"]["change_id"] == "bad-1"
    assert parked["errorType"] == "PermanentError"
    assert "HTTP 400" in parked["reason"]
    assert "LeadStatus 'Active' is not a configured status." in parked["reason"]
    assert parked["attempts"] == "1", "the one call that reached Exsalerate"
    assert [r["RefCode"] for r in simulator.records.values()] == ["B2"]
    assert vendor.depth() == 0


def test_a_400_to_the_look_up_before_the_put_counts_the_call_that_reached_exsalerate(vendor: VendorFlow) -> None:
    vendor.cold_start()
    simulator = vendor.simulator
    simulator.faults.add("status", status=400, message="The refCode is not valid.", method="GET")
    vendor.queue(change("bad-1", "2026-11-20T09:00:00Z", {"key": "B1", "company": "Bad AB"}))

    vendor.pump()

    (parked,) = vendor.dlq()
    assert (parked["errorType"], parked["attempts"]) == ("PermanentError", "1"), "the look-up reached Exsalerate"
    assert "The refCode is not valid." in parked["reason"]
    assert simulator.calls_to("api/Customer", "PUT") == []


def test_an_invalid_message_is_parked_naming_the_field_and_costs_no_one_else(vendor: VendorFlow) -> None:
    bad = {
        "change_id": "x-1",
        "source": "batch",
        "occurred_at": "2026-11-20T09:00:00Z",
        "customer": {"key": "X1", "address": {"country": "Sweden"}},
    }
    vendor.send_raw(bad)
    vendor.queue(change("x-2", "2026-11-20T09:00:00Z", {"key": "X2", "company": "Fine AB"}))

    delivery = vendor.pump()

    assert delivery.failed == 0
    (parked,) = vendor.dlq()
    assert parked["errorType"] == "InvalidMessage"
    assert "customer.address.country" in parked["reason"]
    assert [r["RefCode"] for r in vendor.simulator.records.values()] == ["X2"]


def test_refused_credentials_are_refreshed_once_then_parked(vendor: VendorFlow) -> None:
    vendor.simulator.password = "rotated-at-the-vendor"
    vendor.queue(change("auth-1", "2026-11-20T09:00:00Z", {"key": "A1", "company": "Auth AB"}))

    vendor.pump()

    (parked,) = vendor.dlq()
    assert parked["errorType"] == "AuthError"
    assert "Authorization has been denied" in parked["reason"]
    calls = vendor.simulator.calls_to("/api/Customer")
    assert [c.method for c in calls] == ["GET", "GET"], "one try, one try after re-reading the secret"

    vendor.rotate_password("rotated-again")
    vendor.queue(change("auth-2", "2026-11-20T09:05:00Z", {"key": "A2", "company": "Rotated AB"}))
    assert vendor.pump().failed == 0
    assert [r["RefCode"] for r in vendor.simulator.records.values()] == ["A2"]


def test_logs_carry_the_change_id_and_no_personal_data(
    webhook: Any, vendor: VendorFlow, captured_logs: io.StringIO
) -> None:
    vendor.cold_start(GROUP_CONCURRENCY="1")  # the fault meets the first customer's PUT
    vendor.simulator.faults.add("status", status=400, message="ada@example.com is taken", method="PUT")
    parked = webhook(shopify_event(shopify_customer(), "wh-log", SECRET))
    applied = webhook(shopify_event(shopify_customer(7002, email="grace@example.com"), "wh-log-2", SECRET))
    parked_id, applied_id = (json.loads(response["body"])["changeId"] for response in (parked, applied))
    vendor.pump()

    output = captured_logs.getvalue()
    entries = [json.loads(line) for line in output.splitlines() if line.startswith("{") and '"level"' in line]
    assert any(e["message"] == "change parked in the DLQ" and e.get("correlation_id") == parked_id for e in entries)
    assert any(e["message"] == "change applied" and e.get("correlation_id") == applied_id for e in entries)
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
def test_xml_and_form_wire_formats_land_the_same_record(vendor: VendorFlow, content_type: str) -> None:
    full = {
        "key": "W1",
        "company": "Wire AB",
        "email": "wire@example.com",
        "notes": "a & b < c",
        "phones": {"main": "+461"},
    }
    vendor.queue(change("w-1", "2026-11-20T09:00:00Z", full))

    vendor.pump()

    (call,) = puts(vendor)
    assert call.headers["Content-Type"] == content_type
    record = vendor.only_record()
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
    vendor: VendorFlow,
    fault: str,
    options: dict[str, Any],
) -> None:
    vendor.cold_start(CALL_TIMEOUT_SECONDS="0.3", SETTLE_SECONDS="1")
    vendor.simulator.faults.add(fault, method="PUT", **options)
    vendor.queue(change("t-1", "2026-11-20T09:00:00Z", {"key": "T1", "company": "Slow AB"}))
    messages, event = vendor.sqs_batch()

    response = vendor.invoke(event)

    assert response["batchItemFailures"] == [{"itemIdentifier": messages[0]["MessageId"]}]
    assert vendor.dlq() == []
    assert vendor.pump().delivered == 0, "held back while the outcome settles"
    time.sleep(1.2)
    assert vendor.pump().failed == 0
    assert vendor.only_record()["CustomerName"] == "Slow AB"


def test_a_429_backs_off_for_the_vendors_retry_after(vendor: VendorFlow) -> None:
    vendor.simulator.faults.add("status", status=429, retry_after=120, method="PUT")
    vendor.queue(change("r-1", "2026-11-20T09:00:00Z", {"key": "R1", "company": "Busy AB"}))
    messages, event = vendor.sqs_batch()

    assert vendor.invoke(event)["batchItemFailures"] == [{"itemIdentifier": messages[0]["MessageId"]}]

    assert vendor.stack.sqs.receive_message(QueueUrl=vendor.queue_url).get("Messages", []) == [], (
        "hidden for Retry-After, not redelivered"
    )
    assert vendor.depth() == 1


def test_retries_end_in_the_dlq_with_the_last_reason(vendor: VendorFlow) -> None:
    vendor.simulator.faults.add("status", status=503, message="Down for maintenance", method="PUT", count=99)
    vendor.queue(change("d-1", "2026-11-20T09:00:00Z", {"key": "D1", "company": "Never AB"}))

    delivery = vendor.pump()

    assert delivery.batches == 5, "MAX_ATTEMPTS deliveries"
    (parked,) = vendor.dlq()
    assert parked["reason"].startswith("gave up after 5 attempts: exsalerate answered HTTP 503")
    assert parked["attempts"] == "5"
    assert vendor.depth() == 0


def test_metrics_count_applied_skipped_and_parked_per_vendor(
    vendor: VendorFlow, capsys: pytest.CaptureFixture[str]
) -> None:
    vendor.queue(
        change("m-new", "2026-11-20T09:05:00Z", {"key": "M1", "company": "Metric AB"}),
        change("m-old", "2026-11-20T09:00:00Z", {"key": "M1", "company": "Older AB"}),
        change("m-long", "2026-11-20T09:00:00Z", {"key": "M2", "company": "Long AB", "notes": "n" * 4001}),
    )
    capsys.readouterr()

    vendor.pump()

    totals = emitted_metrics(capsys.readouterr().out)
    assert totals[("exsalerate", "ChangesApplied")] == 1
    assert totals[("exsalerate", "ChangesSkipped")] == 1
    assert totals[("exsalerate", "ChangesParked")] == 1
    assert totals[("exsalerate", "VendorLatency")] >= 1, "one latency sample per vendor call"


# The PUT's reply body is not documented: Exsalerate may answer with the whole record, the bare
# CustomerId or nothing. Whatever it answers, one customer must stay one record there.
@pytest.fixture(params=["record", "id", "empty"])
def put_reply(request: pytest.FixtureRequest, vendor: VendorFlow) -> str:
    reply: str = request.param
    vendor.simulator.put_reply = reply
    return reply


def the_record_for(vendor: VendorFlow, ref_code: str) -> dict[str, Any]:
    """The one record Exsalerate holds for ``ref_code``; more than one is a duplicate customer."""
    records = [dict(r) for r in vendor.simulator.records.values() if r["RefCode"] == ref_code]
    assert len(records) == 1, f"{len(records)} records for {ref_code}: CustomerIds {[r['CustomerId'] for r in records]}"
    return records[0]


def lookups(vendor: VendorFlow) -> int:
    return len(vendor.simulator.calls_to("/api/Customer", "GET"))


def test_changes_in_separate_invocations_update_one_record_whatever_the_put_replies(
    vendor: VendorFlow, put_reply: str
) -> None:
    changes = [
        change("one-1", "2026-11-20T09:00:00Z", {"key": "N1", "company": "Once AB", "notes": "first"}),
        change("one-2", "2026-11-20T09:05:00Z", {"key": "N1", "notes": "second"}),
        change("one-3", "2026-11-20T09:10:00Z", {"key": "N1", "phones": {"main": "+461"}}),
    ]
    for item in changes:
        vendor.queue(item)
        delivery = vendor.pump()
        assert (delivery.batches, delivery.delivered, delivery.failed) == (1, 1, 0)

    record = the_record_for(vendor, "N1")
    assert (record["CustomerName"], record["Notes"], record["CompanyPhone"]) == ("Once AB", "second", "+461")
    assert [call.json().get("CustomerId") for call in puts(vendor)] == [
        None,
        record["CustomerId"],
        record["CustomerId"],
    ]
    # An id the reply carries is learned from it; without one, the next change finds it by RefCode, once.
    assert lookups(vendor) == (2 if put_reply == "empty" else 1)


def test_changes_in_one_batch_update_one_record_whatever_the_put_replies(vendor: VendorFlow, put_reply: str) -> None:
    vendor.queue(
        change("batch-1", "2026-11-20T09:00:00Z", {"key": "N2", "company": "Batch AB", "notes": "first"}),
        change("batch-2", "2026-11-20T09:05:00Z", {"key": "N2", "notes": "second"}),
    )
    messages, event = vendor.sqs_batch()
    assert len(messages) == 2, "both changes in one SQS batch"

    assert vendor.invoke(event)["batchItemFailures"] == []

    record = the_record_for(vendor, "N2")
    assert (record["CustomerName"], record["Notes"]) == ("Batch AB", "second")
    assert [call.json().get("CustomerId") for call in puts(vendor)] == [None, record["CustomerId"]]


def test_what_exsalerate_ends_with_does_not_depend_on_the_put_reply(vendor: VendorFlow) -> None:
    simulator = vendor.simulator
    ends_with = {}
    for reply in ("record", "id", "empty"):
        simulator.put_reply = reply
        key = f"L-{reply}"
        first = {"key": key, "company": "Lost AB", "notes": "ours", "status": "active"}
        vendor.queue(change(f"{key}-1", "2026-11-20T09:00:00Z", first))
        vendor.pump()
        created = the_record_for(vendor, key)
        # Edited in Exsalerate meanwhile: fields changes have sent, and one none has.
        edits = {"Notes": "edited in Exsalerate", "LeadStatus": "Working", "Rank": "Gold"}
        simulator.records[str(created["CustomerId"])].update(edits)
        later = {"key": key, "phones": {"main": "+461"}, "status": None}
        vendor.queue(change(f"{key}-2", "2026-11-20T09:05:00Z", later))
        assert vendor.pump().failed == 0

        record = the_record_for(vendor, key)
        assert record["CustomerId"] == created["CustomerId"]
        ends_with[reply] = {name: value for name, value in record.items() if name not in ("CustomerId", "RefCode")}

    assert ends_with["id"] == ends_with["record"]
    assert ends_with["empty"] == ends_with["record"], "a look-up for the lost id brings back none of its fields"
    record = ends_with["record"]
    assert (record["CustomerName"], record["Notes"], record["CompanyPhone"]) == ("Lost AB", "ours", "+461")
    assert record["LeadStatus"] is None, "cleared by the change"
