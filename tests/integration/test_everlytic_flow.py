"""Everlytic end to end in-process: REST and XML-RPC against one strict simulator, on moto."""

from __future__ import annotations

from typing import Any

import pytest

from flow import VendorFlow, change, records_after

pytestmark = pytest.mark.vendor("everlytic")
XMLRPC = {"customer-sync/local/everlytic": {"api": "xmlrpc"}}
CHANGE = {
    "key": "V1",
    "company": "Acme AB",
    "email": "info@acme.example",
    "phones": {"main": "+4681234"},
    "address": {"line1": "Main St 1", "line2": "Floor 2", "region": "Gauteng", "postal_code": "2000", "country": "ZA"},
    "website": "https://acme.example",
    "status": "active",
    "attributes": {"industry": "Retail & Wholesale"},
}


def seeded(vendor: VendorFlow) -> Any:
    """The simulator, holding customer 4242."""
    sim = vendor.simulator
    if "4242" not in sim.records:
        sim.seed_customer(4242, name="Old name")
    return sim


def test_rest_puts_the_properties_and_keeps_the_item(vendor: VendorFlow) -> None:
    sim = seeded(vendor)
    vendor.queue(change("v-1", "2026-11-20T09:00:00Z", CHANGE, vendor_ids={"everlytic": "4242"}))

    vendor.pump()

    (call,) = sim.calls
    assert (call.method, call.path, call.headers["Accept"]) == ("PUT", "/api/2.0/customers/4242", "application/json")
    assert call.json() == {
        "name": "Acme AB",
        "email": "info@acme.example",
        "telephone": "+4681234",
        "address": "Main St 1, Floor 2",
        "state_provinces": "Gauteng",
        "postal_code": "2000",
        "country": "ZA",
        "website_url": "https://acme.example",
        "status": "on",
        "deleted": "no",
        "industry": "Retail & Wholesale",
        "unique_id": "V1",
    }
    assert sim.records["4242"]["name"] == "Acme AB"


def test_only_changed_properties_and_the_name_are_sent_next_time(vendor: VendorFlow) -> None:
    sim = seeded(vendor)
    vendor.queue(change("v-1", "2026-11-20T09:00:00Z", CHANGE, vendor_ids={"everlytic": "4242"}))
    vendor.queue(change("v-2", "2026-11-20T09:05:00Z", {"key": "V1", "email": "new@acme.example"}))

    vendor.pump()

    assert sim.calls[1].json() == {"name": "Acme AB", "email": "new@acme.example"}


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("attributes", {"industry": "Mining"}, "industry: 'Mining' is not one of Everlytic's values"),
        ("address", {"country": "ZAF"}, "customer.address.country: must be an ISO-3166 alpha-2 country code"),
    ],
)
def test_an_invalid_industry_or_country_is_permanent_before_any_call(
    vendor: VendorFlow, field: str, value: Any, reason: str
) -> None:
    sim = seeded(vendor)
    body = {
        "change_id": "bad-1",
        "source": "test",
        "occurred_at": "2026-11-20T09:00:00Z",
        "customer": {**CHANGE, field: value},
        "vendor_ids": {"everlytic": "4242"},
    }
    vendor.send_raw(body)

    vendor.pump()

    (parked,) = vendor.dlq()
    assert reason in parked["reason"]
    assert sim.calls == []


def test_an_unknown_everlytic_id_is_parked_naming_it(vendor: VendorFlow) -> None:
    vendor.queue(change("u-1", "2026-11-20T09:00:00Z", CHANGE))

    vendor.pump()

    (parked,) = vendor.dlq()
    assert parked["reason"] == "vendor_ids.everlytic: is required"


@pytest.mark.parametrize("secrets", [XMLRPC], indirect=True)
def test_xmlrpc_calls_update_customer(vendor: VendorFlow) -> None:
    sim = seeded(vendor)
    vendor.queue(change("x-1", "2026-11-20T09:00:00Z", CHANGE, vendor_ids={"everlytic": "4242"}))

    vendor.pump()

    (call,) = sim.calls
    assert (call.path, call.headers["Content-Type"]) == ("/xmlrpc", "text/xml")
    assert b"<methodName>UpdateCustomer</methodName>" in call.body
    assert sim.records["4242"]["industry"] == "Retail & Wholesale"


@pytest.mark.parametrize("secrets", [XMLRPC], indirect=True)
def test_xmlrpc_faults_are_classified_like_http_errors(vendor: VendorFlow) -> None:
    vendor.queue(change("x-1", "2026-11-20T09:00:00Z", CHANGE, vendor_ids={"everlytic": "999"}))

    vendor.pump()

    (parked,) = vendor.dlq()
    assert parked["errorType"] == "PermanentError"
    assert "XML-RPC fault 404: Customer 999 not found." in parked["reason"]


def test_rest_and_xmlrpc_leave_the_same_state(secrets: Any, tmp_path: Any) -> None:
    changes = [
        change("s-1", "2026-11-20T09:00:00Z", CHANGE, vendor_ids={"everlytic": "4242"}),
        change("s-2", "2026-11-20T09:05:00Z", {"key": "V1", "status": "suspended"}),
    ]
    seed = {"everlytic": {"4242": {"id": 4242, "name": "Old name", "hash": "abc"}}}
    rest = records_after(secrets, "everlytic", {"api": "rest"}, changes, tmp_path / "rest", seed)
    xmlrpc = records_after(secrets, "everlytic", {"api": "xmlrpc"}, changes, tmp_path / "xmlrpc", seed)
    assert rest == xmlrpc
    assert (rest["4242"]["status"], rest["4242"]["industry"]) == ("suspended", "Retail & Wholesale")
