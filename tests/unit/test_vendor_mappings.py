"""Canonical -> Exigo, Centra, Expandable and Everlytic requests, without I/O."""

from __future__ import annotations

from typing import Any

import pytest

from centra.connector import CentraConnector
from custsync.config import VendorSettings
from custsync.connector import Connector, SyncContext
from custsync.errors import ConfigurationError, NotConfigured, ValidationFailed
from custsync.model import Customer
from everlytic.connector import INDUSTRIES, EverlyticConnector
from exigo.connector import ExigoConnector, camel
from expandable.connector import ExpandableConnector, contact_code

SECRETS: dict[str, dict[str, Any]] = {
    "exigo": {"base_url": "http://127.0.0.1:9", "api": "rest", "login_name": "l", "password": "p", "company": "c"},
    "centra": {"base_url": "http://127.0.0.1:9/api", "username": "u", "password": "p", "store": 2},
    "expandable": {"base_url": "http://127.0.0.1:9", "data_source": "D", "user_name": "u", "password": "p"},
    "everlytic": {"base_url": "http://127.0.0.1:9", "username": "u", "api_key": "k"},
}


def connector(cls: type[Connector], **settings: Any) -> Any:
    config = VendorSettings(vendor=cls.name, state_table="t", vendor_secret_name="s", dlq_url="q", **settings)
    return cls(config, lambda force: SECRETS[cls.name])


def payloads(conn: Connector, customer: dict[str, Any], context: SyncContext | None = None) -> dict[str, Any]:
    request = conn.to_request(Customer.model_validate(customer), context or SyncContext())
    return {call.operation: dict(call.payload) for call in request.calls}


ADA = {
    "key": "K1",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "company": "Analytical AB",
    "email": "ada@example.com",
    "phones": {"main": "+461", "mobile": "+462"},
    "address": {"line1": "Main St 1", "city": "Lund", "region": "Skåne", "postal_code": "22100", "country": "SE"},
    "status": "inactive",
    "attributes": {"tags": "vip", "industry": "Automotive"},
}

# -- Exigo -------------------------------------------------------------------------------------


def test_exigo_rest_names_are_camel_case() -> None:
    assert [camel(n) for n in ("CustomerID", "ExtendedGroupID", "MainAddress1", "Field12")] == [
        "customerID", "extendedGroupID", "mainAddress1", "field12",
    ]  # fmt: skip


def test_exigo_maps_the_base_record_and_the_extended_fields() -> None:
    exigo = connector(
        ExigoConnector, field_map={"Field3": "tags"}, vendor_options={"extended_group_id": 4, "customer_extended_id": 9}
    )
    calls = payloads(exigo, ADA)
    assert calls["UpdateCustomer"] == {
        "CustomerKey": "K1", "FirstName": "Ada", "LastName": "Lovelace", "Company": "Analytical AB",
        "Email": "ada@example.com", "Phone": "+461", "MobilePhone": "+462", "MainAddress1": "Main St 1",
        "MainCity": "Lund", "MainState": "Skåne", "MainZip": "22100", "MainCountry": "SE", "CustomerStatus": 2,
    }  # fmt: skip
    assert calls["UpdateCustomerExtended"] == {
        "CustomerKey": "K1",
        "ExtendedGroupID": 4,
        "CustomerExtendedID": 9,
        "Field3": "vip",
    }


def test_exigo_sends_only_what_changed_and_never_both_ids() -> None:
    exigo = connector(
        ExigoConnector, field_map={"Field3": "tags"}, vendor_options={"extended_group_id": 4, "customer_extended_id": 9}
    )
    previous = Customer.model_validate(ADA)
    changed = {**ADA, "email": "new@example.com"}
    calls = payloads(exigo, changed, SyncContext(ids={"id": "55"}, previous=previous))
    assert calls == {"UpdateCustomer": {"CustomerID": 55, "Email": "new@example.com"}}


def test_exigo_extended_ids_are_required_for_custom_fields() -> None:
    exigo = connector(ExigoConnector, field_map={"Field3": "tags"})
    with pytest.raises(ValidationFailed, match="ExtendedGroupID"):
        payloads(exigo, ADA)


def test_exigo_field_map_targets_only_field1_to_field30() -> None:
    with pytest.raises(ConfigurationError, match="Field31"):
        connector(ExigoConnector, field_map={"Field31": "tags"})


@pytest.mark.parametrize("cls", [ExigoConnector, ExpandableConnector, EverlyticConnector])
def test_a_field_map_naming_a_field_the_vendor_lacks_fails_at_cold_start(cls: type[Connector]) -> None:
    with pytest.raises(ConfigurationError, match=r"routing field_map: .* has no field NotAField"):
        connector(cls, field_map={"NotAField": "tags"})


@pytest.mark.parametrize("cls", [ExigoConnector, EverlyticConnector])
def test_an_unknown_api_in_the_secret_is_named(cls: type[Connector], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(SECRETS, cls.name, {**SECRETS[cls.name], "api": "graphql"})
    with pytest.raises(NotConfigured, match="secret s: api: Input should be 'rest' or "):
        connector(cls)


# -- Centra ------------------------------------------------------------------------------------


def test_centra_record_uses_the_key_as_id_and_the_secrets_store() -> None:
    (record,) = payloads(connector(CentraConnector), ADA).values()
    assert record == {
        "id": "K1", "store": 2, "status": "inactive", "firstname": "Ada", "lastname": "Lovelace",
        "address1": "Main St 1", "city": "Lund", "state": "Skåne", "zipcode": "22100", "country": "SE",
        "email": "ada@example.com", "telephone": "+461",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [("first_name", "F" * 65, "firstname"), ("address", {"postal_code": "1" * 17}, "zipcode")],
)
def test_centra_refuses_a_field_longer_than_its_soap_module_takes_before_any_call(
    field: str, value: Any, named: str
) -> None:
    with pytest.raises(ValidationFailed, match=f"^{named}: is .* characters; centra allows at most"):
        payloads(connector(CentraConnector), {**ADA, field: value})


# -- Expandable --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "last", "code"),
    [("Jane", "Hernandez", "JHERNANDEZ"), ("Åsa", "O'Brien-Smith", "OBRIENSMITH"), (None, None, "PRIMARY"),
     ("Maximilian", "Wolfeschlegelsteinhausen", "MWOLFESCHLEGELSTEINH")],
)  # fmt: skip
def test_expandable_contact_code_rule(first: str | None, last: str | None, code: str) -> None:
    assert contact_code(Customer.model_validate({"key": "k", "first_name": first, "last_name": last})) == code


def test_expandable_maps_every_field_and_the_field_map() -> None:
    expandable = connector(ExpandableConnector, field_map={"SOFCT_USER_3": "tags"})
    (contact,) = payloads(expandable, ADA).values()
    assert contact == {
        "CUSTOMER_ID": "K1", "CUST_CONTACT": "ALOVELACE", "FIRST_NAME": "Ada", "LAST_NAME": "Lovelace",
        "ADDRESS_1": "Main St 1", "CITY": "Lund", "STATE": "Skåne", "ZIP_CODE": "22100", "COUNTRY": "SE",
        "PHONE_NO": "+461", "CELL_PHONE_NO": "+462", "E_MAIL": "ada@example.com", "CONTACT_STATUS": "I",
        "SOFCT_USER_3": "vip",
    }  # fmt: skip


def test_expandable_needs_a_field_besides_the_keys() -> None:
    with pytest.raises(ValidationFailed, match="at least one field"):
        payloads(
            connector(ExpandableConnector),
            {"key": "K1", "company": "only the company, which Expandable has no field for"},
        )


def test_expandable_ids_come_from_vendor_ids_first() -> None:
    (contact,) = payloads(
        connector(ExpandableConnector), ADA, SyncContext(ids={"id": "ABCCORP", "contact": "JH"})
    ).values()
    assert (contact["CUSTOMER_ID"], contact["CUST_CONTACT"]) == ("ABCCORP", "JH")


# -- Everlytic ---------------------------------------------------------------------------------


def test_everlytic_industries_are_the_pages_nineteen_values() -> None:
    assert len(INDUSTRIES) == 19
    assert "Hospitality, Travel & Tourism" in INDUSTRIES


def test_everlytic_maps_properties_and_validates_enumerations() -> None:
    everlytic = connector(EverlyticConnector)
    (call,) = payloads(everlytic, ADA, SyncContext(ids={"id": "12"})).values()
    assert call["id"] == 12
    assert call["properties"] == {
        "unique_id": "K1", "name": "Analytical AB", "email": "ada@example.com", "state_provinces": "Skåne",
        "postal_code": "22100", "telephone": "+461", "country": "SE", "address": "Main St 1", "status": "off",
        "deleted": "no", "industry": "Automotive",
    }  # fmt: skip
    with pytest.raises(ValidationFailed, match="industry"):
        payloads(everlytic, {**ADA, "attributes": {"industry": "Space"}}, SyncContext(ids={"id": "12"}))


def test_everlytic_needs_its_integer_id() -> None:
    with pytest.raises(ValidationFailed, match=r"vendor_ids\.everlytic"):
        payloads(connector(EverlyticConnector), ADA)
    with pytest.raises(ValidationFailed, match="integer"):
        payloads(connector(EverlyticConnector), ADA, SyncContext(ids={"id": "abc"}))
