"""Exigo end to end in-process: REST and SOAP against the strict simulator, on moto."""

from __future__ import annotations

from typing import Any

import pytest
from flow import change, dlq_messages, pump, queue, records_after, rotate_password, sqs_batch

from custsync.transport import soap

FUNCTION = "ExigoFunction"
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


@pytest.fixture
def exigo(vendor_handler: Any) -> Any:
    return vendor_handler("exigo")


def simulator(stack: Any) -> Any:
    return stack.simulators["exigo"]


def only_record(stack: Any) -> dict[str, Any]:
    (record,) = simulator(stack).records.values()
    return dict(record)


def test_rest_sends_the_base_record_and_the_extended_fields_as_two_patches(
    stack: Any, exigo: Any, lambda_context: Any
) -> None:
    queue(stack, FUNCTION, change("x-1", "2026-11-20T09:00:00Z", FULL))

    pump(stack, FUNCTION, exigo, lambda_context)

    calls = simulator(stack).calls
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
    record = only_record(stack)
    assert record["Email"] == "ada@example.com"
    assert record["extended"] == {"1/1": {"Field1": "vip"}}


def test_only_changed_fields_are_sent_and_a_call_with_nothing_to_send_is_not_made(
    stack: Any, exigo: Any, lambda_context: Any
) -> None:
    queue(stack, FUNCTION, change("x-1", "2026-11-20T09:00:00Z", FULL))
    queue(
        stack, FUNCTION, change("x-2", "2026-11-20T09:05:00Z", {"key": "E1", "attributes": {"tags": "vip, wholesale"}})
    )
    queue(stack, FUNCTION, change("x-3", "2026-11-20T09:10:00Z", {"key": "E1", "phones": {"main": "+462"}}))
    queue(stack, FUNCTION, change("x-4", "2026-11-20T09:15:00Z", {"key": "E1", "phones": {"main": "+462"}}))

    pump(stack, FUNCTION, exigo, lambda_context)

    calls = [(c.path, c.json()) for c in simulator(stack).calls]
    assert calls[2:] == [
        (
            "/3.0/customers/extended",
            {"customerKey": "E1", "extendedGroupID": 1, "customerExtendedID": 1, "field1": "vip, wholesale"},
        ),
        ("/3.0/customers", {"customerKey": "E1", "phone": "+462"}),
    ]
    assert only_record(stack)["Phone"] == "+462"


def test_a_known_customer_id_is_sent_instead_of_the_key(stack: Any, exigo: Any, lambda_context: Any) -> None:
    simulator(stack).records["77"] = {"CustomerID": 77, "CustomerKey": "legacy"}
    queue(
        stack,
        FUNCTION,
        change("x-1", "2026-11-20T09:00:00Z", {"key": "E1", "email": "a@example.com"}, vendor_ids={"exigo": "77"}),
    )

    pump(stack, FUNCTION, exigo, lambda_context)

    (call,) = simulator(stack).calls
    assert call.json() == {"customerID": 77, "email": "a@example.com"}


@pytest.mark.parametrize("secrets", [SOAP], indirect=True)
def test_soap_calls_carry_the_action_the_header_and_land_the_same_record(
    stack: Any, exigo: Any, lambda_context: Any
) -> None:
    queue(stack, FUNCTION, change("x-1", "2026-11-20T09:00:00Z", FULL))

    pump(stack, FUNCTION, exigo, lambda_context)

    calls = simulator(stack).calls
    assert [c.headers["Soapaction"] for c in calls] == [
        '"https://api.exigo.com/UpdateCustomer"',
        '"https://api.exigo.com/UpdateCustomerExtended"',
    ]
    assert all(c.path == "/3.0/ExigoApi.asmx" and c.headers["Content-Type"].startswith("text/xml") for c in calls)
    record = only_record(stack)
    assert (record["FirstName"], record["Email"], record["MainCity"], record["CustomerStatus"]) == (
        "Ada",
        "ada@example.com",
        "Lund",
        1,
    )
    assert record["extended"] == {"1/1": {"Field1": "vip"}}


@pytest.mark.parametrize("secrets", [SOAP], indirect=True)
def test_a_server_fault_is_retried_and_a_client_fault_is_not(stack: Any, exigo: Any, lambda_context: Any) -> None:
    simulator(stack).faults.add("soap_fault", code="Server", message="Database timeout", count=1)
    queue(stack, FUNCTION, change("x-1", "2026-11-20T09:00:00Z", {"key": "E1", "email": "a@example.com"}))
    messages, event = sqs_batch(stack, FUNCTION)

    response = exigo(event, lambda_context)

    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [messages[0]["MessageId"]]
    assert dlq_messages(stack, FUNCTION) == []
    assert pump(stack, FUNCTION, exigo, lambda_context).failed == 0, "the retry succeeds"

    simulator(stack).faults.add("soap_fault", code="Client", message="Field1 is not a valid value", count=1)
    queue(stack, FUNCTION, change("x-2", "2026-11-20T09:10:00Z", {"key": "E1", "email": "b@example.com"}))
    assert pump(stack, FUNCTION, exigo, lambda_context).failed == 0
    (parked,) = dlq_messages(stack, FUNCTION)
    assert parked["errorType"] == "PermanentError"
    assert "SOAP fault Client: Field1 is not a valid value" in parked["reason"]


@pytest.mark.parametrize("secrets", [SOAP], indirect=True)
def test_a_character_xml_cannot_carry_is_refused_before_any_call(stack: Any, exigo: Any, lambda_context: Any) -> None:
    queue(stack, FUNCTION, change("x-1", "2026-11-20T09:00:00Z", {"key": "E1", "last_name": "Love\x00lace"}))

    assert pump(stack, FUNCTION, exigo, lambda_context).failed == 0, "parked at once, not retried"

    (parked,) = dlq_messages(stack, FUNCTION)
    assert parked["reason"] == "LastName: holds U+0000, a character XML cannot carry"
    assert simulator(stack).calls == []


@pytest.mark.parametrize("secrets", [SOAP], indirect=True)
def test_a_refused_soap_login_is_read_again_once(stack: Any, exigo: Any, lambda_context: Any) -> None:
    queue(stack, FUNCTION, change("x-1", "2026-11-20T09:00:00Z", {"key": "E1", "email": "a@example.com"}))
    pump(stack, FUNCTION, exigo, lambda_context)
    rotate_password(stack, "exigo", "rotated")
    queue(stack, FUNCTION, change("x-2", "2026-11-20T09:10:00Z", {"key": "E1", "email": "b@example.com"}))

    assert pump(stack, FUNCTION, exigo, lambda_context).failed == 0
    assert dlq_messages(stack, FUNCTION) == []
    assert only_record(stack)["Email"] == "b@example.com"
    assert len(simulator(stack).calls) == 3, "the first change; the second refused, then sent again once"

    simulator(stack).password = "rotated-again"  # and the secret not updated: refused twice, parked
    queue(stack, FUNCTION, change("x-3", "2026-11-20T09:20:00Z", {"key": "E1", "email": "c@example.com"}))
    pump(stack, FUNCTION, exigo, lambda_context)
    (parked,) = dlq_messages(stack, FUNCTION)
    assert parked["errorType"] == "AuthError"
    assert "Invalid login credentials" in parked["reason"]
    assert len(simulator(stack).calls) == 5


@pytest.mark.parametrize("secrets", [SOAP], indirect=True)
def test_a_failure_status_inside_a_200_is_an_error_with_its_errors(stack: Any, exigo: Any, lambda_context: Any) -> None:
    simulator(stack).fail_next.append(["Email is already in use", "Customer is locked"])
    queue(stack, FUNCTION, change("x-1", "2026-11-20T09:00:00Z", {"key": "E1", "email": "taken@example.com"}))

    pump(stack, FUNCTION, exigo, lambda_context)

    (parked,) = dlq_messages(stack, FUNCTION)
    assert "Customer is locked" in parked["reason"]


@pytest.mark.parametrize("secrets", [SOAP], indirect=True)
def test_the_wsdl_is_parsed_once_per_container(stack: Any, vendor_handler: Any, lambda_context: Any) -> None:
    soap.load_wsdl.cache_clear()
    handler = vendor_handler("exigo")
    for n in range(3):
        queue(
            stack, FUNCTION, change(f"x-{n}", f"2026-11-20T09:0{n}:00Z", {"key": f"E{n}", "email": f"e{n}@example.com"})
        )
        pump(stack, FUNCTION, handler, lambda_context)
    handler.runtime.engine.connector.refresh_credentials()  # a rebuilt client reuses the parsed WSDL

    assert len(simulator(stack).calls) == 3
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
