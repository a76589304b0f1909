"""Canonical -> Exsalerate CustomerModel, without I/O."""

from typing import Any
from xml.etree import ElementTree

import pytest

from custsync.config import VendorSettings
from custsync.connector import SyncContext
from custsync.errors import ConfigurationError, ValidationFailed
from custsync.model import Customer
from exsalerate.connector import DATACONTRACT_NS, OPERATION, ExsalerateConnector, to_datacontract_xml

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


def test_customer_name_is_required() -> None:
    with pytest.raises(ValidationFailed, match="CustomerName"):
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
    with pytest.raises(ConfigurationError, match="secret format: 'yaml' is not one of json, "):
        connector(format="yaml")
    settings = SETTINGS.model_copy(update={"field_map": {"Shoesize": "shoe"}})
    with pytest.raises(ConfigurationError, match="FIELD_MAP: Exsalerate's CustomerModel has no field Shoesize"):
        ExsalerateConnector(settings, lambda force: SECRET)
