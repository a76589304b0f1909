"""Centra end to end in-process: one SOAP call per SQS batch, isolation of a bad customer, on moto."""

from __future__ import annotations

from typing import Any

import pytest
from flow import FIXTURES, change, dlq_messages, element_names, pump, queue, rotate_password, sqs_batch

from devkit.simulators.centra import SUCCESS_NEWER

FUNCTION = "CentraFunction"


@pytest.fixture
def centra(vendor_handler: Any) -> Any:
    return vendor_handler("centra")


def simulator(stack: Any) -> Any:
    return stack.simulators["centra"]


def customer(n: int, **fields: Any) -> dict[str, Any]:
    return {"key": f"C-{n}", "first_name": f"First{n}", "last_name": "Batch", "email": f"c{n}@example.com", **fields}


def test_a_batch_of_ten_with_one_bad_record_applies_nine_in_two_calls(
    stack: Any, centra: Any, lambda_context: Any
) -> None:
    queue(stack, FUNCTION, *(change(f"b-{n}", "2026-11-20T09:00:00Z", customer(n)) for n in range(10)))
    # A rule of the shop that no mapping can know: Centra refuses the call, naming the customer.
    simulator(stack).faults.add("soap_fault", code="Client", message="Customer C-4: blocked by a shop rule.")
    messages, event = sqs_batch(stack, FUNCTION)
    assert len(messages) == 10

    response = centra(event, lambda_context)

    calls = simulator(stack).calls
    assert len(calls) == 2, "the batch, then the nine good customers again"
    assert calls[0].status == 500 and calls[1].status == 200
    assert sorted(simulator(stack).records) == sorted(f"C-{n}" for n in range(10) if n != 4)
    assert response == {"batchItemFailures": []}, "a permanent failure is parked, not retried"
    (parked,) = dlq_messages(stack, FUNCTION)
    assert parked["body"]["change_id"] == "b-4"
    assert "Customer C-4: blocked by a shop rule." in parked["reason"]


def test_a_server_fault_on_the_batch_reports_every_record_for_retry(
    stack: Any, centra: Any, lambda_context: Any
) -> None:
    simulator(stack).faults.add("soap_fault", code="Server", message="Maintenance", count=1)
    queue(stack, FUNCTION, *(change(f"s-{n}", "2026-11-20T09:00:00Z", customer(n)) for n in range(3)))
    messages, event = sqs_batch(stack, FUNCTION)

    response = centra(event, lambda_context)

    assert sorted(f["itemIdentifier"] for f in response["batchItemFailures"]) == sorted(
        m["MessageId"] for m in messages
    )
    assert len(simulator(stack).calls) == 1, "a server fault is not isolated record by record"
    assert dlq_messages(stack, FUNCTION) == []
    assert pump(stack, FUNCTION, centra, lambda_context).failed == 0
    assert len(simulator(stack).records) == 3


def test_several_changes_of_one_customer_are_coalesced_into_its_latest(
    stack: Any, centra: Any, lambda_context: Any
) -> None:
    queue(
        stack,
        FUNCTION,
        change("m-1", "2026-11-20T09:00:00Z", customer(1, address={"city": "Lund"})),
        change("m-2", "2026-11-20T09:01:00Z", {"key": "C-1", "phones": {"main": "+4646123"}}),
        change("m-3", "2026-11-20T09:02:00Z", {"key": "C-1", "email": "latest@example.com"}),
        change("m-4", "2026-11-20T09:00:00Z", customer(2)),
    )

    delivery = pump(stack, FUNCTION, centra, lambda_context)

    assert (delivery.delivered, delivery.failed, delivery.batches) == (4, 0, 1)
    (call,) = simulator(stack).calls
    assert call.body.count(b"<ns0:customer>") == 2
    record = simulator(stack).records["C-1"]
    assert (record["city"], record["telephone"], record["email"]) == ("Lund", "+4646123", "latest@example.com")


def test_wrong_login_is_refused_and_parked_after_one_refresh(stack: Any, centra: Any, lambda_context: Any) -> None:
    simulator(stack).password = "rotated"
    queue(stack, FUNCTION, change("l-1", "2026-11-20T09:00:00Z", customer(1)))

    pump(stack, FUNCTION, centra, lambda_context)

    (parked,) = dlq_messages(stack, FUNCTION)
    assert parked["errorType"] == "AuthError"
    assert "Login failed" in parked["reason"]
    assert len(simulator(stack).calls) == 2, "one try, one try after re-reading the secret"


def test_a_rotated_login_is_read_again_and_the_batch_applies(stack: Any, centra: Any, lambda_context: Any) -> None:
    queue(stack, FUNCTION, change("r-0", "2026-11-20T09:00:00Z", customer(0)))
    pump(stack, FUNCTION, centra, lambda_context)
    rotate_password(stack, "centra", "rotated")
    queue(stack, FUNCTION, *(change(f"r-{n}", "2026-11-20T09:00:00Z", customer(n)) for n in (1, 2)))

    delivery = pump(stack, FUNCTION, centra, lambda_context)

    assert (delivery.delivered, delivery.failed) == (2, 0)
    assert dlq_messages(stack, FUNCTION) == []
    assert sorted(simulator(stack).records) == ["C-0", "C-1", "C-2"]
    assert len(simulator(stack).calls) == 3, "the first batch; the second refused, then sent again once"


def test_the_connector_sends_the_docs_envelope_shape(stack: Any, vendor_handler: Any) -> None:
    handler = vendor_handler("centra")
    connector = handler.runtime.engine.connector
    full = customer(
        1,
        address={"line1": "a", "line2": "b", "city": "c", "region": "d", "postal_code": "e", "country": "SE"},
        phones={"main": "1"},
        status="active",
    )
    from custsync.connector import SyncContext
    from custsync.model import Customer

    connector.customer_type = "B2B"
    request = connector.to_request(Customer.model_validate(full), SyncContext())
    envelope = connector.soap.client.create_message(
        connector.soap.service,
        "customers_Update",
        login=connector.login,
        customers={"customer": [request.calls[0].payload]},
    )
    from lxml import etree

    assert element_names(etree.tostring(envelope)) == element_names(
        (FIXTURES / "centra-sample-request.xml").read_text()
    )


def test_the_newer_ok_response_is_success_too(stack: Any, centra: Any, lambda_context: Any) -> None:
    """Centra's newer docs answer <customersUpdateResponse>OK</...> instead of the empty result."""
    simulator(stack).success = SUCCESS_NEWER
    queue(stack, FUNCTION, change("n-1", "2026-11-20T09:00:00Z", customer(1)))

    delivery = pump(stack, FUNCTION, centra, lambda_context)

    assert (delivery.delivered, delivery.failed) == (1, 0)
    assert dlq_messages(stack, FUNCTION) == []
    assert "C-1" in simulator(stack).records


def test_a_customer_holding_a_character_xml_cannot_carry_is_parked_and_its_batch_mates_applied(
    stack: Any, centra: Any, lambda_context: Any
) -> None:
    queue(stack, FUNCTION, *(change(f"x-{n}", "2026-11-20T09:00:00Z", customer(n)) for n in range(3)))
    queue(stack, FUNCTION, change("x-bad", "2026-11-20T09:00:00Z", customer(3, first_name="Ada\bLovelace")))
    messages, event = sqs_batch(stack, FUNCTION)
    assert len(messages) == 4

    assert centra(event, lambda_context) == {"batchItemFailures": []}, "nothing is retried"

    assert sorted(simulator(stack).records) == ["C-0", "C-1", "C-2"]
    assert len(simulator(stack).calls) == 1, "the good customers in one call; the bad one never sent"
    (parked,) = dlq_messages(stack, FUNCTION)
    assert parked["body"]["change_id"] == "x-bad"
    assert parked["errorType"] == "ValidationFailed"
    assert parked["reason"] == "firstname: holds U+0008, a character XML cannot carry"
