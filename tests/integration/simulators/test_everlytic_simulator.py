"""The Everlytic simulator: REST and XML-RPC with one state and the page's validation."""

from __future__ import annotations

import xmlrpc.client
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest

from devkit.simulators.base import serve
from devkit.simulators.everlytic import EverlyticSimulator


@pytest.fixture
def everlytic() -> Iterator[tuple[EverlyticSimulator, str]]:
    sim = EverlyticSimulator()
    sim.seed_customer(5, name="Five")
    with serve(sim) as server:
        yield sim, server.url


# -- Everlytic -----------------------------------------------------------------------------------
EVERLYTIC_AUTH = ("sync", "sync-key")
JSON = {"Accept": "application/json"}


@pytest.mark.parametrize(
    ("properties", "status", "message"),
    [
        ({"name": "N", "status": "paused"}, 400, "status must be one of"),
        ({"name": "N", "deleted": "maybe"}, 400, "deleted must be one of"),
        ({"name": "N", "country": "SWE"}, 400, "two-character"),
        ({"name": "N", "industry": "Mining"}, 400, "industry must be one of"),
        ({"name": "N", "email_quota": "many"}, 400, "must be an integer"),
        ({"name": "N", "hash": "x"}, 400, "read-only"),
        ({"email": "a@b.c"}, 400, "name is required"),
        ({"name": "N", "shoe": "x"}, 400, "not a customer property"),
    ],
)
def test_everlytic_rest_validates_like_everlytic(
    everlytic: tuple[EverlyticSimulator, str], properties: dict[str, Any], status: int, message: str
) -> None:
    _, url = everlytic
    response = httpx.put(f"{url}/api/2.0/customers/5", json=properties, auth=EVERLYTIC_AUTH, headers=JSON)
    assert response.status_code == status
    assert message in response.json()["error"]["message"]


def test_everlytic_rest_auth_unknown_id_and_success_shape(everlytic: tuple[EverlyticSimulator, str]) -> None:
    _, url = everlytic
    denied = httpx.put(f"{url}/api/2.0/customers/5", json={"name": "N"}, auth=("sync", "bad"), headers=JSON)
    assert (denied.status_code, denied.json()) == (401, {"error": {"message": "Invalid username or API key."}})
    unknown = httpx.put(f"{url}/api/2.0/customers/6", json={"name": "N"}, auth=EVERLYTIC_AUTH, headers=JSON)
    assert (unknown.status_code, unknown.json()) == (404, {"error": {"message": "Customer 6 not found."}})
    ok = httpx.put(
        f"{url}/api/2.0/customers/5",
        json={"name": "Hospitality AB", "industry": "Hospitality, Travel & Tourism"},
        auth=EVERLYTIC_AUTH,
        headers=JSON,
    )
    assert set(ok.json()) == {"links", "item"}
    assert ok.json()["item"]["industry"] == "Hospitality, Travel & Tourism"


def test_everlytic_xmlrpc_shares_rules_and_state(everlytic: tuple[EverlyticSimulator, str]) -> None:
    sim, url = everlytic
    host = url.removeprefix("http://")
    proxy = xmlrpc.client.ServerProxy(f"http://sync:sync-key@{host}/xmlrpc")
    assert proxy.UpdateCustomer(5, {"name": "Via XML-RPC", "status": "off"}) == 5
    assert (sim.records["5"]["name"], sim.records["5"]["status"]) == ("Via XML-RPC", "off")
    with pytest.raises(xmlrpc.client.Fault) as fault:
        proxy.UpdateCustomer(5, {"name": "N", "country": "SWE"})
    assert fault.value.faultCode == 400
    with pytest.raises(xmlrpc.client.Fault) as unknown:
        proxy.GetCustomer(5)
    assert unknown.value.faultCode == -32601
    intruder = xmlrpc.client.ServerProxy(f"http://sync:bad@{host}/xmlrpc")
    with pytest.raises(xmlrpc.client.Fault) as denied:
        intruder.UpdateCustomer(5, {"name": "N"})
    assert denied.value.faultCode == 401


def test_everlytic_rest_answers_xml_unless_json_is_accepted(everlytic: tuple[EverlyticSimulator, str]) -> None:
    sim, url = everlytic
    response = httpx.put(f"{url}/api/2.0/customers/5", json={"name": "Xml AB"}, auth=EVERLYTIC_AUTH)
    assert response.headers["Content-Type"].startswith("application/xml")
    root = ElementTree.fromstring(response.text)
    assert root.tag == "response"
    assert root.findtext("item/name") == "Xml AB"
    assert root.findtext("links/item/rel") == "self"
    assert sim.records["5"]["name"] == "Xml AB"
    refused = httpx.put(f"{url}/api/2.0/customers/5", json={"email": "x@example.com"}, auth=EVERLYTIC_AUTH)
    assert (refused.status_code, ElementTree.fromstring(refused.text).findtext("error/message")) == (
        400,
        "name is required.",
    )


def test_everlytic_rest_refuses_other_methods_and_bodies(everlytic: tuple[EverlyticSimulator, str]) -> None:
    _, url = everlytic
    posted = httpx.post(f"{url}/api/2.0/customers/5", json={"name": "N"}, auth=EVERLYTIC_AUTH, headers=JSON)
    assert posted.status_code == 405
    assert "error" in posted.json()
    form = httpx.put(f"{url}/api/2.0/customers/5", data={"name": "N"}, auth=EVERLYTIC_AUTH, headers=JSON)
    assert (form.status_code, form.json()["error"]["message"]) == (415, "Content-Type must be application/json.")
    broken = httpx.put(
        f"{url}/api/2.0/customers/5",
        content=b"{",
        auth=EVERLYTIC_AUTH,
        headers={**JSON, "Content-Type": "application/json"},
    )
    assert (broken.status_code, broken.json()["error"]["message"]) == (400, "The request body is not valid JSON.")


def test_everlytic_xmlrpc_refuses_malformed_calls(everlytic: tuple[EverlyticSimulator, str]) -> None:
    sim, url = everlytic
    auth = EVERLYTIC_AUTH
    malformed = httpx.post(f"{url}/xmlrpc", content=b"<methodCall><oops>", auth=auth)
    with pytest.raises(xmlrpc.client.Fault) as parse_error:
        xmlrpc.client.loads(malformed.content)
    assert parse_error.value.faultCode == -32700
    string_id = xmlrpc.client.dumps(("5", {"name": "N"}), "UpdateCustomer")
    wrong_shape = httpx.post(f"{url}/xmlrpc", content=string_id, auth=auth)
    with pytest.raises(xmlrpc.client.Fault) as shape_error:
        xmlrpc.client.loads(wrong_shape.content)
    assert shape_error.value.faultCode == 400
    assert sim.records["5"]["name"] == "Five", "nothing applied"
