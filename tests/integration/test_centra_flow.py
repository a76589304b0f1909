"""Centra end to end in-process: one SOAP call per SQS batch, isolation of a bad customer, on moto."""

from __future__ import annotations

from typing import Any

import pytest

from devkit.simulators.centra import SUCCESS_NEWER
from flow import FIXTURES, VendorFlow, change, element_names

pytestmark = pytest.mark.vendor("centra")


def customer(n: int, **fields: Any) -> dict[str, Any]:
    return {"key": f"C-{n}", "first_name": f"First{n}", "last_name": "Batch", "email": f"c{n}@example.com", **fields}


def test_a_batch_of_ten_with_one_bad_record_applies_nine_in_two_calls(vendor: VendorFlow) -> None:
    vendor.queue(*(change(f"b-{n}", "2026-11-20T09:00:00Z", customer(n)) for n in range(10)))
    # A rule of the shop that no mapping can know: Centra refuses the call, naming the customer.
    vendor.simulator.faults.add("soap_fault", code="Client", message="Customer C-4: blocked by a shop rule.")
    messages, event = vendor.sqs_batch()
    assert len(messages) == 10

    response = vendor.invoke(event)

    calls = vendor.simulator.calls
    assert len(calls) == 2, "the batch, then the nine good customers again"
    assert calls[0].status == 500 and calls[1].status == 200
    assert sorted(vendor.simulator.records) == sorted(f"C-{n}" for n in range(10) if n != 4)
    assert response == {"batchItemFailures": []}, "a permanent failure is parked, not retried"
    (parked,) = vendor.dlq()
    assert parked["body"]["change_id"] == "b-4"
    assert "Customer C-4: blocked by a shop rule." in parked["reason"]


def test_a_server_fault_on_the_batch_reports_every_record_for_retry(vendor: VendorFlow) -> None:
    vendor.simulator.faults.add("soap_fault", code="Server", message="Maintenance", count=1)
    vendor.queue(*(change(f"s-{n}", "2026-11-20T09:00:00Z", customer(n)) for n in range(3)))
    messages, event = vendor.sqs_batch()

    response = vendor.invoke(event)

    assert sorted(f["itemIdentifier"] for f in response["batchItemFailures"]) == sorted(
        m["MessageId"] for m in messages
    )
    assert len(vendor.simulator.calls) == 1, "a server fault is not isolated record by record"
    assert vendor.dlq() == []
    assert vendor.pump().failed == 0
    assert len(vendor.simulator.records) == 3


def test_several_changes_of_one_customer_are_coalesced_into_its_latest(vendor: VendorFlow) -> None:
    vendor.queue(
        change("m-1", "2026-11-20T09:00:00Z", customer(1, address={"city": "Lund"})),
        change("m-2", "2026-11-20T09:01:00Z", {"key": "C-1", "phones": {"main": "+4646123"}}),
        change("m-3", "2026-11-20T09:02:00Z", {"key": "C-1", "email": "latest@example.com"}),
        change("m-4", "2026-11-20T09:00:00Z", customer(2)),
    )

    delivery = vendor.pump()

    assert (delivery.delivered, delivery.failed, delivery.batches) == (4, 0, 1)
    (call,) = vendor.simulator.calls
    assert call.body.count(b"<ns0:customer>") == 2
    record = vendor.simulator.records["C-1"]
    assert (record["city"], record["telephone"], record["email"]) == ("Lund", "+4646123", "latest@example.com")


def test_wrong_login_is_refused_and_parked_after_one_refresh(vendor: VendorFlow) -> None:
    vendor.simulator.password = "rotated"
    vendor.queue(change("l-1", "2026-11-20T09:00:00Z", customer(1)))

    vendor.pump()

    (parked,) = vendor.dlq()
    assert parked["errorType"] == "AuthError"
    assert "Login failed" in parked["reason"]
    assert len(vendor.simulator.calls) == 2, "one try, one try after re-reading the secret"


def test_a_rotated_login_is_read_again_and_the_batch_applies(vendor: VendorFlow) -> None:
    vendor.queue(change("r-0", "2026-11-20T09:00:00Z", customer(0)))
    vendor.pump()
    vendor.rotate_password("rotated")
    vendor.queue(*(change(f"r-{n}", "2026-11-20T09:00:00Z", customer(n)) for n in (1, 2)))

    delivery = vendor.pump()

    assert (delivery.delivered, delivery.failed) == (2, 0)
    assert vendor.dlq() == []
    assert sorted(vendor.simulator.records) == ["C-0", "C-1", "C-2"]
    assert len(vendor.simulator.calls) == 3, "the first batch; the second refused, then sent again once"


def test_the_connector_sends_the_docs_envelope_shape(vendor: VendorFlow) -> None:
    connector = vendor.handler.runtime.engine.connector
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


def test_the_newer_ok_response_is_success_too(vendor: VendorFlow) -> None:
    """Centra's newer docs answer <customersUpdateResponse>OK</...> instead of the empty result."""
    vendor.simulator.success = SUCCESS_NEWER
    vendor.queue(change("n-1", "2026-11-20T09:00:00Z", customer(1)))

    delivery = vendor.pump()

    assert (delivery.delivered, delivery.failed) == (1, 0)
    assert vendor.dlq() == []
    assert "C-1" in vendor.simulator.records


def test_a_customer_holding_a_character_xml_cannot_carry_is_parked_and_its_batch_mates_applied(
    vendor: VendorFlow,
) -> None:
    vendor.queue(*(change(f"x-{n}", "2026-11-20T09:00:00Z", customer(n)) for n in range(3)))
    vendor.queue(change("x-bad", "2026-11-20T09:00:00Z", customer(3, first_name="Ada\bLovelace")))
    messages, event = vendor.sqs_batch()
    assert len(messages) == 4

    assert vendor.invoke(event) == {"batchItemFailures": []}, "nothing is retried"

    assert sorted(vendor.simulator.records) == ["C-0", "C-1", "C-2"]
    assert len(vendor.simulator.calls) == 1, "the good customers in one call; the bad one never sent"
    (parked,) = vendor.dlq()
    assert parked["body"]["change_id"] == "x-bad"
    assert parked["errorType"] == "ValidationFailed"
    assert parked["reason"] == "firstname: holds U+0008, a character XML cannot carry"
