"""Exigo end to end in-process: REST and SOAP against the strict simulator, on moto."""

from __future__ import annotations

from typing import Any

import pytest

from custsync.transport import soap
from flow import VendorFlow, change, records_after

pytestmark = pytest.mark.vendor("exigo")
SOAP = {"customer-sync/local/exigo": {"api": "soap"}}
FULL = {
    "key": "E1",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.com",
    "phones": {"main": "+461"},
    "address": {"line1": "Main St 1", "city": "Lund", "country": "SE"},
    "status": "active",
    "attributes": {"tags": "vip"},
}


def test_rest_sends_the_base_record_and_the_extended_fields_as_two_patches(vendor: VendorFlow) -> None:
    vendor.queue(change("x-1", "2026-11-20T09:00:00Z", FULL))

    vendor.pump()

    calls = vendor.simulator.calls
    assert [(c.method, c.path) for c in calls] == [("PATCH", "/3.0/customers"), ("PATCH", "/3.0/customers/extended")]
    base, extended = calls[0].json(), calls[1].json()
    assert base["customerKey"] == "E1"
    assert "customerID" not in base
    assert (base["firstName"], base["mainCity"], base["mainCountry"], base["customerStatus"]) == (
        "Ada",
        "Lund",
        "SE",
        1,
    )
    assert extended == {"customerKey": "E1", "extendedGroupID": 1, "customerExtendedID": 1, "field1": "vip"}
    record = vendor.only_record()
    assert record["Email"] == "ada@example.com"
    assert record["extended"] == {"1/1": {"Field1": "vip"}}


def test_only_changed_fields_are_sent_and_a_call_with_nothing_to_send_is_not_made(vendor: VendorFlow) -> None:
    vendor.queue(change("x-1", "2026-11-20T09:00:00Z", FULL))
    vendor.queue(change("x-2", "2026-11-20T09:05:00Z", {"key": "E1", "attributes": {"tags": "vip, wholesale"}}))
    vendor.queue(change("x-3", "2026-11-20T09:10:00Z", {"key": "E1", "phones": {"main": "+462"}}))
    vendor.queue(change("x-4", "2026-11-20T09:15:00Z", {"key": "E1", "phones": {"main": "+462"}}))

    vendor.pump()

    calls = [(c.path, c.json()) for c in vendor.simulator.calls]
    assert calls[2:] == [
        (
            "/3.0/customers/extended",
            {"customerKey": "E1", "extendedGroupID": 1, "customerExtendedID": 1, "field1": "vip, wholesale"},
        ),
        ("/3.0/customers", {"customerKey": "E1", "phone": "+462"}),
    ]
    assert vendor.only_record()["Phone"] == "+462"


def test_a_known_customer_id_is_sent_instead_of_the_key(vendor: VendorFlow) -> None:
    vendor.simulator.records["77"] = {"CustomerID": 77, "CustomerKey": "legacy"}
    vendor.queue(
        change("x-1", "2026-11-20T09:00:00Z", {"key": "E1", "email": "a@example.com"}, vendor_ids={"exigo": "77"}),
    )

    vendor.pump()

    (call,) = vendor.simulator.calls
    assert call.json() == {"customerID": 77, "email": "a@example.com"}


@pytest.mark.parametrize("secrets", [SOAP], indirect=True)
def test_soap_calls_carry_the_action_the_header_and_land_the_same_record(vendor: VendorFlow) -> None:
    vendor.queue(change("x-1", "2026-11-20T09:00:00Z", FULL))

    vendor.pump()

    calls = vendor.simulator.calls
    assert [c.headers["Soapaction"] for c in calls] == [
        '"https://api.exigo.com/UpdateCustomer"',
        '"https://api.exigo.com/UpdateCustomerExtended"',
    ]
    assert all(c.path == "/3.0/ExigoApi.asmx" and c.headers["Content-Type"].startswith("text/xml") for c in calls)
    record = vendor.only_record()
    assert (record["FirstName"], record["Email"], record["MainCity"], record["CustomerStatus"]) == (
        "Ada",
        "ada@example.com",
        "Lund",
        1,
    )
    assert record["extended"] == {"1/1": {"Field1": "vip"}}


@pytest.mark.parametrize("secrets", [SOAP], indirect=True)
def test_a_server_fault_is_retried_and_a_client_fault_is_not(vendor: VendorFlow) -> None:
    vendor.simulator.faults.add("soap_fault", code="Server", message="Database timeout", count=1)
    vendor.queue(change("x-1", "2026-11-20T09:00:00Z", {"key": "E1", "email": "a@example.com"}))
    messages, event = vendor.sqs_batch()

    response = vendor.invoke(event)

    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [messages[0]["MessageId"]]
    assert vendor.dlq() == []
    assert vendor.pump().failed == 0, "the retry succeeds"

    vendor.simulator.faults.add("soap_fault", code="Client", message="Field1 is not a valid value", count=1)
    vendor.queue(change("x-2", "2026-11-20T09:10:00Z", {"key": "E1", "email": "b@example.com"}))
    assert vendor.pump().failed == 0
    (parked,) = vendor.dlq()
    assert parked["errorType"] == "PermanentError"
    assert "SOAP fault Client: Field1 is not a valid value" in parked["reason"]


@pytest.mark.parametrize("secrets", [SOAP], indirect=True)
def test_a_character_xml_cannot_carry_is_refused_before_any_call(vendor: VendorFlow) -> None:
    vendor.queue(change("x-1", "2026-11-20T09:00:00Z", {"key": "E1", "last_name": "Love\x00lace"}))

    assert vendor.pump().failed == 0, "parked at once, not retried"

    (parked,) = vendor.dlq()
    assert parked["reason"] == "LastName: holds U+0000, a character XML cannot carry"
    assert vendor.simulator.calls == []


@pytest.mark.parametrize("secrets", [SOAP], indirect=True)
def test_a_refused_soap_login_is_read_again_once(vendor: VendorFlow) -> None:
    vendor.queue(change("x-1", "2026-11-20T09:00:00Z", {"key": "E1", "email": "a@example.com"}))
    vendor.pump()
    vendor.rotate_password("rotated")
    vendor.queue(change("x-2", "2026-11-20T09:10:00Z", {"key": "E1", "email": "b@example.com"}))

    assert vendor.pump().failed == 0
    assert vendor.dlq() == []
    assert vendor.only_record()["Email"] == "b@example.com"
    assert len(vendor.simulator.calls) == 3, "the first change; the second refused, then sent again once"

    vendor.simulator.password = "rotated-again"  # and the secret not updated: refused twice, parked
    vendor.queue(change("x-3", "2026-11-20T09:20:00Z", {"key": "E1", "email": "c@example.com"}))
    vendor.pump()
    (parked,) = vendor.dlq()
    assert parked["errorType"] == "AuthError"
    assert "Invalid login credentials" in parked["reason"]
    assert len(vendor.simulator.calls) == 5


@pytest.mark.parametrize("secrets", [SOAP], indirect=True)
def test_a_failure_status_inside_a_200_is_an_error_with_its_errors(vendor: VendorFlow) -> None:
    vendor.simulator.fail_next.append(["Email is already in use", "Customer is locked"])
    vendor.queue(change("x-1", "2026-11-20T09:00:00Z", {"key": "E1", "email": "taken@example.com"}))

    vendor.pump()

    (parked,) = vendor.dlq()
    assert "Customer is locked" in parked["reason"]


@pytest.mark.parametrize("secrets", [SOAP], indirect=True)
def test_the_wsdl_is_parsed_once_per_container(vendor: VendorFlow) -> None:
    soap.load_wsdl.cache_clear()
    vendor.cold_start()
    for n in range(3):
        vendor.queue(change(f"x-{n}", f"2026-11-20T09:0{n}:00Z", {"key": f"E{n}", "email": f"e{n}@example.com"}))
        vendor.pump()
    vendor.handler.runtime.engine.connector.refresh_credentials()  # a rebuilt client reuses the parsed WSDL

    assert len(vendor.simulator.calls) == 3
    assert soap.wsdl_loads() == 1


def test_rest_and_soap_leave_the_same_state(secrets: Any, tmp_path: Any) -> None:
    changes = [
        change("x-1", "2026-11-20T09:00:00Z", FULL),
        change("x-2", "2026-11-20T09:05:00Z", {"key": "E1", "phones": {"main": "+462"}}),
    ]
    rest = records_after(secrets, "exigo", {"api": "rest"}, changes, tmp_path / "rest")
    soap_records = records_after(secrets, "exigo", {"api": "soap"}, changes, tmp_path / "soap")
    assert rest == soap_records
    assert rest["501"]["Phone"] == "+462"
