"""Expandable end to end in-process: auth tokens, upsert of contacts, error shapes, on moto."""

from __future__ import annotations

from typing import Any

import pytest
from flow import change, dlq_messages, pump, queue, sqs_batch

FUNCTION = "ExpandableFunction"


@pytest.fixture
def expandable(vendor_handler: Any) -> Any:
    return vendor_handler("expandable")


def simulator(stack: Any) -> Any:
    return stack.simulators["expandable"]


def contact(n: int, **fields: Any) -> dict[str, Any]:
    return {"key": f"X-{n}", "first_name": "Jane", "last_name": f"Hernandez{n}", "email": f"j{n}@example.com", **fields}


def seed_all(stack: Any, count: int) -> None:
    for n in range(count):
        simulator(stack).seed_contact(f"X-{n}", f"JHERNANDEZ{n}")


def test_one_token_serves_a_batch_of_ten(stack: Any, expandable: Any, lambda_context: Any) -> None:
    seed_all(stack, 10)
    queue(stack, FUNCTION, *(change(f"t-{n}", "2026-11-20T09:00:00Z", contact(n)) for n in range(10)))

    delivery = pump(stack, FUNCTION, expandable, lambda_context)

    assert (delivery.delivered, delivery.failed) == (10, 0)
    assert len(simulator(stack).calls_to("/api/auth-token-get")) == 1
    updates = simulator(stack).calls_to("/api/customer-contact-update")
    assert len(updates) == 10
    assert len({call.json()["AUTH_TOKEN"] for call in updates}) == 1
    record = simulator(stack).records["X-3/JHERNANDEZ3"]
    assert (record["E_MAIL"], record["LAST_NAME"], record["MODIFIED_BY"]) == ("j3@example.com", "Hernandez3", "SYNC")


def test_an_expired_token_mid_batch_is_renewed_once_and_the_batch_completes(
    stack: Any, expandable: Any, lambda_context: Any
) -> None:
    seed_all(stack, 10)
    queue(stack, FUNCTION, *(change(f"e-{n}", "2026-11-20T09:00:00Z", contact(n)) for n in range(10)))
    # Faults are taken in order: five updates pass untouched, then every token expires before the sixth.
    simulator(stack).faults.add("latency", delay=0.0, match="contact-update", count=5)
    simulator(stack).faults.add("expire_tokens", match="contact-update", count=1)

    delivery = pump(stack, FUNCTION, expandable, lambda_context)

    assert (delivery.delivered, delivery.failed) == (10, 0)
    assert len(simulator(stack).calls_to("/api/auth-token-get")) == 2
    statuses = [call.status for call in simulator(stack).calls_to("/api/customer-contact-update")]
    # Customers are applied concurrently (up to GROUP_CONCURRENCY, 10): each update already in flight with the
    # old token is refused once, and all of them share the one new token.
    assert 1 <= statuses.count(401) <= 10
    assert statuses.count(200) == 10
    assert dlq_messages(stack, FUNCTION) == []


def test_a_second_401_is_permanent(stack: Any, expandable: Any, lambda_context: Any) -> None:
    seed_all(stack, 1)
    simulator(stack).faults.add("expire_tokens", match="contact-update", count=2)
    queue(stack, FUNCTION, change("r-0", "2026-11-20T09:00:00Z", contact(0)))

    pump(stack, FUNCTION, expandable, lambda_context)

    (parked,) = dlq_messages(stack, FUNCTION)
    assert parked["errorType"] == "AuthError"
    assert "Auth Token login failure. (MESSAGE_CODE E403)" in parked["reason"]
    assert len(simulator(stack).calls_to("/api/auth-token-get")) == 2


def test_a_contact_expandable_does_not_have_is_created(stack: Any, expandable: Any, lambda_context: Any) -> None:
    queue(stack, FUNCTION, change("n-1", "2026-11-20T09:00:00Z", contact(1, notes="new")))

    pump(stack, FUNCTION, expandable, lambda_context)

    record = simulator(stack).records["X-1/JHERNANDEZ1"]
    assert (record["NOTES"], record["CREATED_BY"]) == ("new", "SYNC")
    assert [c.path for c in simulator(stack).calls] == [
        "/api/auth-token-get",
        "/api/customer-contact-update",
        "/api/customer-contact-create",
    ]


def test_the_contact_code_is_kept_when_the_name_changes(stack: Any, expandable: Any, lambda_context: Any) -> None:
    queue(stack, FUNCTION, change("c-1", "2026-11-20T09:00:00Z", contact(1)))
    queue(stack, FUNCTION, change("c-2", "2026-11-20T09:05:00Z", {"key": "X-1", "last_name": "Smith"}))

    pump(stack, FUNCTION, expandable, lambda_context)

    assert list(simulator(stack).records) == ["X-1/JHERNANDEZ1"]
    assert simulator(stack).records["X-1/JHERNANDEZ1"]["LAST_NAME"] == "Smith"


def test_a_500_is_retried_and_a_400_is_parked_with_the_vendors_message(
    stack: Any, expandable: Any, lambda_context: Any
) -> None:
    seed_all(stack, 2)
    simulator(stack).faults.add("status", status=500, message="Database locked", match="contact-update", count=1)
    queue(stack, FUNCTION, change("f-0", "2026-11-20T09:00:00Z", contact(0)))
    messages, event = sqs_batch(stack, FUNCTION)
    assert expandable(event, lambda_context)["batchItemFailures"] == [{"itemIdentifier": messages[0]["MessageId"]}]
    assert pump(stack, FUNCTION, expandable, lambda_context).failed == 0, "the retry succeeds"

    simulator(stack).faults.add(
        "status", status=400, message="Request JSON is invalid.", match="contact-update", count=1
    )
    queue(stack, FUNCTION, change("f-1", "2026-11-20T09:00:00Z", contact(1)))
    pump(stack, FUNCTION, expandable, lambda_context)

    (parked,) = dlq_messages(stack, FUNCTION)
    assert parked["body"]["change_id"] == "f-1"
    assert "Request JSON is invalid. (MESSAGE_CODE E400)" in parked["reason"]


def test_notes_over_the_limit_fail_before_any_call(stack: Any, expandable: Any, lambda_context: Any) -> None:
    queue(stack, FUNCTION, change("o-1", "2026-11-20T09:00:00Z", contact(1, notes="n" * 32_766)))

    pump(stack, FUNCTION, expandable, lambda_context)

    (parked,) = dlq_messages(stack, FUNCTION)
    assert parked["reason"].startswith("NOTES: is 32766 characters")
    assert simulator(stack).calls_to("/api/customer-contact") == []
