"""Canonical -> Exsalerate CustomerModel, without I/O."""

import json
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest

from custsync.config import VendorSettings
from custsync.connector import SyncContext
from custsync.errors import ConfigurationError, Incomplete, NotConfigured, ValidationFailed
from custsync.model import Customer
from custsync.transport.rest import RestClient
from exsalerate.connector import (
    DATACONTRACT_NS,
    OPERATION,
    ExsalerateConnector,
    customer_id_in,
    to_datacontract_xml,
)

SETTINGS = VendorSettings(vendor="exsalerate", state_table="t", vendor_secret_name="s", dlq_url="http://dlq")
SECRET = {
    "base_url": "http://127.0.0.1:9",
    "username": "u",
    "password": "p",
    "site_owner_id": 3,
    "assigned_to_email": "sales@example.com",
}


def connector(**secret: Any) -> ExsalerateConnector:
    return ExsalerateConnector(SETTINGS, lambda force: {**SECRET, **secret})


def payload(customer: dict[str, Any], context: SyncContext | None = None) -> dict[str, Any]:
    request = connector().to_request(Customer.model_validate(customer), context or SyncContext())
    (call,) = request.calls
    assert call.operation == OPERATION
    return dict(call.payload)


FULL = {
    "key": "C-1",
    "company": "Northwind",
    "first_name": "Nancy",
    "email": "nancy@northwind.example",
    "phones": {"main": "+4681234567", "mobile": "+46701112233"},
    "address": {"region": "Stockholm", "country": "SE"},
    "status": "active",
    "notes": "Key account",
    "attributes": {"rank": "Gold", "industry": "Retail"},
}


def test_every_documented_field_is_mapped() -> None:
    assert payload(FULL, SyncContext(ids={"id": "42"})) == {
        "AssignedToEmail": "sales@example.com",
        "CompanyEmail": "nancy@northwind.example",
        "CompanyMobile": "+46701112233",
        "CompanyPhone": "+4681234567",
        "CustomerId": 42,
        "CustomerName": "Northwind",
        "IndustryType": "Retail",
        "LeadStatus": "Active",
        "Notes": "Key account",
        "Rank": "Gold",
        "RefCode": "C-1",
        "Region": "Stockholm",
        "SiteOwnerId": 3,
    }


def test_without_a_company_the_name_is_first_and_last() -> None:
    assert payload({"key": "C-1", "first_name": "Nancy", "last_name": "Davolio"})["CustomerName"] == "Nancy Davolio"


def test_without_any_id_the_customer_id_is_omitted_so_the_put_creates() -> None:
    assert "CustomerId" not in payload(FULL)


def test_customer_name_is_required_and_may_still_come_with_another_change() -> None:
    with pytest.raises(Incomplete, match=r"^CustomerName: is required and no change has carried it yet$"):
        payload({"key": "C-1", "email": "a@example.com"})


def test_assigned_to_email_is_required() -> None:
    with pytest.raises(ValidationFailed, match="AssignedToEmail"):
        ExsalerateConnector(SETTINGS, lambda force: {**SECRET, "assigned_to_email": ""}).to_request(
            Customer.model_validate(FULL), SyncContext()
        )


@pytest.mark.parametrize(
    ("customer", "field"),
    [
        ({**FULL, "phones": {"main": "+46 8 123 456 789 0000"}}, "CompanyPhone"),
        ({**FULL, "company": "N" * 256}, "CustomerName"),
        ({**FULL, "attributes": {"rank": "R" * 151}}, "Rank"),
    ],
)
def test_over_long_values_are_refused_naming_the_field(customer: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed, match=field):
        payload(customer)


def test_what_no_change_ever_sent_comes_from_the_vendors_current_record() -> None:
    current = {
        "CustomerId": 7,
        "CompanyPhone": "+4611111",
        "Notes": "from Exsalerate",
        "Rank": "Silver",
        "CustomerName": "Old",
    }
    result = payload({"key": "C-1", "company": "Northwind"}, SyncContext(ids={"id": "7"}, vendor_record=current))
    assert result["CompanyPhone"] == "+4611111"
    assert result["Notes"] == "from Exsalerate"
    assert result["Rank"] == "Silver"
    assert result["CustomerName"] == "Northwind"


def test_a_cleared_field_is_left_out_so_the_full_replace_empties_it() -> None:
    current = {"Notes": "from Exsalerate", "CustomerName": "Old"}
    result = payload({"key": "C-1", "company": "N", "notes": None}, SyncContext(vendor_record=current))
    assert "Notes" not in result


def test_xml_is_the_datacontract_form_in_alphabetical_order() -> None:
    document = ElementTree.fromstring(
        to_datacontract_xml({"RefCode": "C-1", "CustomerName": "N", "AssignedToEmail": "a@b.c"})
    )
    assert document.tag == f"{{{DATACONTRACT_NS}}}CustomerModel"
    names = [child.tag.split("}")[1] for child in document]
    assert names == ["AssignedToEmail", "CustomerName", "RefCode"]


def test_lengths_are_counted_as_dotnet_counts_them() -> None:
    with pytest.raises(ValidationFailed, match="Notes"):
        payload({**FULL, "notes": "\U0001f600" * 2001})  # 2001 code points, 4002 UTF-16 units


def test_an_unknown_wire_format_or_field_map_target_fails_at_cold_start() -> None:
    with pytest.raises(NotConfigured, match="secret s: format: Input should be 'json', 'xml' or 'form'"):
        connector(format="yaml")
    settings = SETTINGS.model_copy(update={"field_map": {"Shoesize": "shoe"}})
    with pytest.raises(ConfigurationError, match="routing field_map: Exsalerate's CustomerModel has no field Shoesize"):
        ExsalerateConnector(settings, lambda force: SECRET)


def test_a_cleared_status_is_left_out_and_an_unsent_one_comes_from_the_vendor() -> None:
    current = {"LeadStatus": "Working", "CustomerName": "Old"}
    assert "LeadStatus" not in payload({"key": "C-1", "status": None}, SyncContext(vendor_record=current))
    assert payload({"key": "C-1"}, SyncContext(vendor_record=current))["LeadStatus"] == "Working"


@pytest.mark.parametrize(
    ("content", "content_type", "expected"),
    [
        (b'{"CustomerId": 1001, "RefCode": "C-1", "CustomerName": "N"}', "application/json", "1001"),
        (b'{"CustomerId": "1001"}', "application/json", "1001"),
        (b"1001", "application/json", "1001"),
        (b'"1001"', "application/json", "1001"),
        (b"1001\r\n", "text/plain", "1001"),
        (b"01001", "text/plain", "1001"),
        (b"", "", None),
        (b"", "application/json", None),
        (b"null", "application/json", None),
        (b'{"RefCode": "C-1"}', "application/json", None),
        (b'{"CustomerId": null}', "application/json", None),
        (b'{"CustomerId": 0}', "application/json", None),
        (b"0", "application/json", None),
        (b"-5", "application/json", None),
        (b"10.5", "application/json", None),
        (b"true", "application/json", None),
        (b"[1001]", "application/json", None),
        (b'"abc"', "application/json", None),
        (b"OK", "text/plain", None),
        ("\u0661\u0662".encode(), "text/plain", None),  # digits, but not ASCII ones
        (b"<int>1001</int>", "application/xml", None),
    ],
)
def test_the_customer_id_is_learned_from_any_shape_of_put_reply(
    content: bytes, content_type: str, expected: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    assert customer_id_in(httpx.Response(200, content=content, headers=headers)) == expected


SEEN = Customer.model_validate({"key": "C-1", "company": "Northwind"})
AT_EXSALERATE = {"CustomerId": 55, "RefCode": "C-1", "CustomerName": "Old", "Notes": "theirs"}


def looking_up(answer: httpx.Response) -> tuple[ExsalerateConnector, list[httpx.Request]]:
    """A connector whose look-ups get ``answer``, and the list of requests it makes."""
    made: list[httpx.Request] = []

    def reply(request: httpx.Request) -> httpx.Response:
        made.append(request)
        return answer

    instance = connector()
    instance.client = RestClient("exsalerate", "http://exsalerate.test", transport=httpx.MockTransport(reply))
    return instance, made


def found(record: dict[str, Any]) -> httpx.Response:
    return httpx.Response(200, content=json.dumps(record).encode(), headers={"Content-Type": "application/json"})


def test_the_first_sighting_looks_up_the_id_and_the_vendors_record() -> None:
    instance, made = looking_up(found(AT_EXSALERATE))
    context = instance.prepare(SEEN, SyncContext())
    assert (context.ids, context.vendor_record) == ({"id": "55"}, AT_EXSALERATE)
    assert [(r.method, dict(r.url.params)) for r in made] == [("GET", {"siteOwnerId": "3", "refCode": "C-1"})]


def test_the_first_sighting_with_a_known_id_keeps_it_and_still_reads_the_vendors_record() -> None:
    instance, made = looking_up(found(AT_EXSALERATE))
    context = instance.prepare(SEEN, SyncContext(ids={"id": "7"}))
    assert (context.ids, context.vendor_record) == ({"id": "7"}, AT_EXSALERATE)
    assert len(made) == 1


def test_a_customer_seen_before_without_an_id_is_looked_up_for_the_id_only() -> None:
    instance, made = looking_up(found(AT_EXSALERATE))
    context = instance.prepare(SEEN, SyncContext(previous=SEEN))
    assert (context.ids, context.vendor_record, context.previous) == ({"id": "55"}, None, SEEN)
    assert len(made) == 1


def test_a_customer_seen_before_with_an_id_is_not_looked_up() -> None:
    instance, made = looking_up(found(AT_EXSALERATE))
    context = SyncContext(ids={"id": "7"}, previous=SEEN)
    assert instance.prepare(SEEN, context) is context
    assert made == []


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(404, content=b'{"Message": "No customer with refCode C-1."}'),
        httpx.Response(200, content=b""),
        httpx.Response(200, content=b"[]"),
    ],
    ids=["not-there-yet", "empty", "not-a-record"],
)
@pytest.mark.parametrize("previous", [None, SEEN], ids=["first-sighting", "seen-before"])
def test_a_look_up_that_finds_nothing_leaves_the_id_unknown(answer: httpx.Response, previous: Customer | None) -> None:
    instance, _ = looking_up(answer)
    context = instance.prepare(SEEN, SyncContext(previous=previous))
    assert (context.ids, context.vendor_record) == ({}, None)
