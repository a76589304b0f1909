"""Expandable end to end in-process: auth tokens, upsert of contacts, error shapes, on moto."""

from __future__ import annotations

from typing import Any

import pytest

from flow import VendorFlow, change

pytestmark = pytest.mark.vendor("expandable")


def contact(n: int, **fields: Any) -> dict[str, Any]:
    return {"key": f"X-{n}", "first_name": "Jane", "last_name": f"Hernandez{n}", "email": f"j{n}@example.com", **fields}


def seed_all(vendor: VendorFlow, count: int) -> None:
    for n in range(count):
        vendor.simulator.seed_contact(f"X-{n}", f"JHERNANDEZ{n}")


def test_one_token_serves_a_batch_of_ten(vendor: VendorFlow) -> None:
    seed_all(vendor, 10)
    vendor.queue(*(change(f"t-{n}", "2026-11-20T09:00:00Z", contact(n)) for n in range(10)))

    delivery = vendor.pump()

    assert (delivery.delivered, delivery.failed) == (10, 0)
    assert len(vendor.simulator.calls_to("/api/auth-token-get")) == 1
    updates = vendor.simulator.calls_to("/api/customer-contact-update")
    assert len(updates) == 10
    assert len({call.json()["AUTH_TOKEN"] for call in updates}) == 1
    record = vendor.simulator.records["X-3/JHERNANDEZ3"]
    assert (record["E_MAIL"], record["LAST_NAME"], record["MODIFIED_BY"]) == ("j3@example.com", "Hernandez3", "SYNC")


def test_an_expired_token_mid_batch_is_renewed_once_and_the_batch_completes(vendor: VendorFlow) -> None:
    seed_all(vendor, 10)
    vendor.queue(*(change(f"e-{n}", "2026-11-20T09:00:00Z", contact(n)) for n in range(10)))
    # Faults are taken in order: five updates pass untouched, then every token expires before the sixth.
    vendor.simulator.faults.add("latency", delay=0.0, match="contact-update", count=5)
    vendor.simulator.faults.add("expire_tokens", match="contact-update", count=1)

    delivery = vendor.pump()

    assert (delivery.delivered, delivery.failed) == (10, 0)
    assert len(vendor.simulator.calls_to("/api/auth-token-get")) == 2
    statuses = [call.status for call in vendor.simulator.calls_to("/api/customer-contact-update")]
    # Customers are applied concurrently (up to GROUP_CONCURRENCY, 10): each update already in flight with the
    # old token is refused once, and all of them share the one new token.
    assert 1 <= statuses.count(401) <= 10
    assert statuses.count(200) == 10
    assert vendor.dlq() == []


def test_a_second_401_is_permanent(vendor: VendorFlow) -> None:
    seed_all(vendor, 1)
    vendor.simulator.faults.add("expire_tokens", match="contact-update", count=2)
    vendor.queue(change("r-0", "2026-11-20T09:00:00Z", contact(0)))

    vendor.pump()

    (parked,) = vendor.dlq()
    assert parked["errorType"] == "AuthError"
    assert "Auth Token login failure. (MESSAGE_CODE E403)" in parked["reason"]
    assert len(vendor.simulator.calls_to("/api/auth-token-get")) == 2


def test_a_contact_expandable_does_not_have_is_created(vendor: VendorFlow) -> None:
    vendor.queue(change("n-1", "2026-11-20T09:00:00Z", contact(1, notes="new")))

    vendor.pump()

    record = vendor.simulator.records["X-1/JHERNANDEZ1"]
    assert (record["NOTES"], record["CREATED_BY"]) == ("new", "SYNC")
    assert [c.path for c in vendor.simulator.calls] == [
        "/api/auth-token-get",
        "/api/customer-contact-update",
        "/api/customer-contact-create",
    ]


def test_the_contact_code_is_kept_when_the_name_changes(vendor: VendorFlow) -> None:
    vendor.queue(change("c-1", "2026-11-20T09:00:00Z", contact(1)))
    vendor.queue(change("c-2", "2026-11-20T09:05:00Z", {"key": "X-1", "last_name": "Smith"}))

    vendor.pump()

    assert list(vendor.simulator.records) == ["X-1/JHERNANDEZ1"]
    assert vendor.simulator.records["X-1/JHERNANDEZ1"]["LAST_NAME"] == "Smith"


def test_a_500_is_retried_and_a_400_is_parked_with_the_vendors_message(vendor: VendorFlow) -> None:
    seed_all(vendor, 2)
    vendor.simulator.faults.add("status", status=500, message="Database locked", match="contact-update", count=1)
    vendor.queue(change("f-0", "2026-11-20T09:00:00Z", contact(0)))
    messages, event = vendor.sqs_batch()
    assert vendor.invoke(event)["batchItemFailures"] == [{"itemIdentifier": messages[0]["MessageId"]}]
    assert vendor.pump().failed == 0, "the retry succeeds"

    vendor.simulator.faults.add(
        "status", status=400, message="Request JSON is invalid.", match="contact-update", count=1
    )
    vendor.queue(change("f-1", "2026-11-20T09:00:00Z", contact(1)))
    vendor.pump()

    (parked,) = vendor.dlq()
    assert parked["body"]["change_id"] == "f-1"
    assert "Request JSON is invalid. (MESSAGE_CODE E400)" in parked["reason"]


def test_notes_over_the_limit_fail_before_any_call(vendor: VendorFlow) -> None:
    vendor.queue(change("o-1", "2026-11-20T09:00:00Z", contact(1, notes="n" * 32_766)))

    vendor.pump()

    (parked,) = vendor.dlq()
    assert parked["reason"].startswith("NOTES: is 32766 characters")
    assert vendor.simulator.calls_to("/api/customer-contact") == []
