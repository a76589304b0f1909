"""The Exigo, Centra, Expandable and Everlytic simulators refuse what the vendors would, in their shapes."""

from __future__ import annotations

import xmlrpc.client
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from devkit.simulators.base import serve
from devkit.simulators.centra import CentraSimulator
from devkit.simulators.everlytic import EverlyticSimulator
from devkit.simulators.exigo import ExigoSimulator
from devkit.simulators.expandable import ExpandableSimulator


@pytest.fixture
def exigo() -> Iterator[tuple[ExigoSimulator, str]]:
    sim = ExigoSimulator()
    with serve(sim) as server:
        yield sim, server.url


@pytest.fixture
def centra() -> Iterator[tuple[CentraSimulator, str]]:
    sim = CentraSimulator()
    with serve(sim) as server:
        yield sim, server.url + sim.path


@pytest.fixture
def expandable() -> Iterator[tuple[ExpandableSimulator, str, list[float]]]:
    now = [1000.0]
    sim = ExpandableSimulator(token_ttl_seconds=60, clock=lambda: now[0])
    with serve(sim) as server:
        yield sim, server.url, now


@pytest.fixture
def everlytic() -> Iterator[tuple[EverlyticSimulator, str]]:
    sim = EverlyticSimulator()
    sim.seed_customer(5, name="Five")
    with serve(sim) as server:
        yield sim, server.url


# -- Exigo ---------------------------------------------------------------------------------------
EXIGO_AUTH = ("sync@acme", "sync-pass")


def exigo_envelope(body: str, login: str = "sync") -> str:
    return (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header>'
        f'<ApiAuthentication xmlns="http://api.exigo.com/"><LoginName>{login}</LoginName><Password>sync-pass</Password>'
        f"<Company>acme</Company></ApiAuthentication></soap:Header><soap:Body>{body}</soap:Body></soap:Envelope>"
    )


UPDATE = '<UpdateCustomerRequest xmlns="http://api.exigo.com/"><CustomerKey>k1</CustomerKey><Email>a@b.c</Email></UpdateCustomerRequest>'
SOAP_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"https://api.exigo.com/UpdateCustomer"'}


def test_exigo_rest_checks_credentials_properties_and_ids(exigo: tuple[ExigoSimulator, str]) -> None:
    sim, url = exigo
    ok = httpx.patch(f"{url}/3.0/customers", json={"customerKey": "k1", "email": "a@b.c"}, auth=EXIGO_AUTH)
    assert (ok.status_code, ok.json()) == (200, {"result": None})
    assert (
        httpx.patch(f"{url}/3.0/customers", json={"customerKey": "k1"}, auth=("sync", "sync-pass")).status_code == 401
    )
    both = httpx.patch(f"{url}/3.0/customers", json={"customerKey": "k1", "customerID": 501}, auth=EXIGO_AUTH)
    assert (both.status_code, both.json()["message"]) == (400, "CustomerID and CustomerKey cannot both be provided.")
    unknown = httpx.patch(f"{url}/3.0/customers", json={"customerKey": "k1", "shoeSize": 42}, auth=EXIGO_AUTH)
    assert "shoeSize" in unknown.json()["message"]
    assert httpx.patch(f"{url}/3.0/customers", json={"customerID": 999}, auth=EXIGO_AUTH).status_code == 404
    assert httpx.put(f"{url}/3.0/customers", json={"customerKey": "k1"}, auth=EXIGO_AUTH).status_code == 405
    assert sim.records["501"]["Email"] == "a@b.c"


@pytest.mark.parametrize(
    ("body", "headers", "fault"),
    [
        (exigo_envelope(UPDATE, login="intruder"), SOAP_HEADERS, "Invalid login credentials."),
        (
            exigo_envelope(UPDATE),
            {**SOAP_HEADERS, "SOAPAction": '"https://api.exigo.com/DeleteCustomer"'},
            "did not recognize",
        ),
        (
            exigo_envelope(UPDATE),
            {**SOAP_HEADERS, "SOAPAction": '"https://api.exigo.com/UpdateCustomerExtended"'},
            "does not match",
        ),
        (exigo_envelope(UPDATE.replace("<Email>", "<Shoe>").replace("</Email>", "</Shoe>")), SOAP_HEADERS, "schema"),
        (exigo_envelope(UPDATE)[:-20], SOAP_HEADERS, "Malformed XML"),
        (exigo_envelope(UPDATE), {**SOAP_HEADERS, "Content-Type": "application/soap+xml"}, "Content-Type"),
    ],
    ids=["credentials", "unknown-action", "action-body-mismatch", "schema", "malformed", "soap12-content-type"],
)
def test_exigo_soap_refuses_with_client_faults(
    exigo: tuple[ExigoSimulator, str], body: str, headers: dict[str, str], fault: str
) -> None:
    _, url = exigo
    response = httpx.post(f"{url}/3.0/ExigoApi.asmx", content=body, headers=headers)
    assert response.status_code == 500
    assert b"<faultcode>soap:Client</faultcode>" in response.content
    assert fault in response.text


def test_exigo_injected_faults_have_their_side(exigo: tuple[ExigoSimulator, str]) -> None:
    sim, url = exigo
    sim.faults.add("soap_fault", code="Server", message="Busy")
    response = httpx.post(f"{url}/3.0/ExigoApi.asmx", content=exigo_envelope(UPDATE), headers=SOAP_HEADERS)
    assert b"<faultcode>soap:Server</faultcode>" in response.content


# -- Centra --------------------------------------------------------------------------------------
CENTRA_HEADERS = {"Content-Type": "text/xml", "SOAPAction": '"http://www.centra.com/webservices/Customers_Update"'}


def centra_envelope(*customers: str, password: str = "demo") -> str:
    return (
        '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:ns1="http://www.centra.com/webservices/"><SOAP-ENV:Body><ns1:customers_Update>'
        f"<ns1:login><ns1:username>demo</ns1:username><ns1:password>{password}</ns1:password></ns1:login>"
        f"<ns1:customers>{''.join(customers)}</ns1:customers></ns1:customers_Update></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    )


def customer(customer_id: str, **fields: str) -> str:
    inner = "".join(
        f"<ns1:{name}>{value}</ns1:{name}>" for name, value in {"id": customer_id, "store": "1", **fields}.items()
    )
    return f"<ns1:customer>{inner}</ns1:customer>"


@pytest.mark.parametrize(
    ("envelope", "fault"),
    [
        (centra_envelope(customer("a"), password="wrong"), "Login failed"),
        (centra_envelope(customer("a"), customer("b", store="7")), "Customer b: store 7 does not exist."),
        (centra_envelope(customer("a", firstname="x" * 65)), "Customer a: firstname is longer than 64"),
        (centra_envelope(customer("a", country="Sweden")), "Customer a: country"),
        (centra_envelope(customer("a", store="one")), "schema"),
        (centra_envelope(), "schema"),
    ],
    ids=["login", "unknown-store", "too-long", "country", "store-not-int", "no-customers"],
)
def test_centra_refuses_the_whole_call_naming_the_bad_customer(
    centra: tuple[CentraSimulator, str], envelope: str, fault: str
) -> None:
    sim, url = centra
    response = httpx.post(url, content=envelope, headers=CENTRA_HEADERS)
    assert response.status_code == 500
    assert b"<faultcode>soap:Client</faultcode>" in response.content
    assert fault in response.text
    assert sim.records == {}


def test_centra_upserts_by_id_and_checks_the_soap_action(centra: tuple[CentraSimulator, str]) -> None:
    sim, url = centra
    assert (
        httpx.post(url, content=centra_envelope(customer("a", city="Lund")), headers=CENTRA_HEADERS).status_code == 200
    )
    assert (
        httpx.post(url, content=centra_envelope(customer("a", email="a@b.c")), headers=CENTRA_HEADERS).status_code
        == 200
    )
    assert sim.records["a"] == {"id": "a", "store": 1, "city": "Lund", "email": "a@b.c"}
    wrong = httpx.post(
        url, content=centra_envelope(customer("a")), headers={**CENTRA_HEADERS, "SOAPAction": "Customers_Update"}
    )
    assert b"did not recognize" in wrong.content


# -- Expandable ----------------------------------------------------------------------------------


def token(url: str, password: str = "sync-pass") -> httpx.Response:
    return httpx.post(
        f"{url}/api/auth-token-get", json={"DATA_SOURCE": "DEMO", "USER_NAME": "sync", "PASSWORD": password}
    )


def test_expandable_tokens_expire_and_can_be_revoked(expandable: tuple[ExpandableSimulator, str, list[float]]) -> None:
    sim, url, now = expandable
    sim.seed_contact("ABCCORP", "JH")
    assert token(url, "wrong").json() == {"MESSAGE": "Auth Token login failure.", "MESSAGE_CODE": "E403"}
    auth = token(url).json()["AUTH_TOKEN"]
    update = {"CUSTOMER_ID": "ABCCORP", "CUST_CONTACT": "JH", "E_MAIL": "jh@abc.example", "AUTH_TOKEN": auth}
    ok = httpx.post(f"{url}/api/customer-contact-update", json=update)
    assert ok.status_code == 200
    assert ok.json()["E_MAIL"] == "jh@abc.example"
    assert ok.json()["MODIFIED_BY"] == "SYNC"
    now[0] += 61
    assert (
        httpx.post(f"{url}/api/customer-contact-update", json=update).json()["MESSAGE"] == "Auth Token login failure."
    )
    update["AUTH_TOKEN"] = token(url).json()["AUTH_TOKEN"]
    sim.revoke_tokens()
    assert httpx.post(f"{url}/api/customer-contact-update", json=update).status_code == 401


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"AUTH_TOKEN": None}, 401, "Auth Token was not provided."),
        ({"AUTH_TOKEN": "garbage"}, 401, "Auth Token is malformed."),
        ({"CUST_CONTACT": None}, 400, "CUST_CONTACT is required"),
        ({"E_MAIL": None}, 400, "at least one field"),
        ({"FAVOURITE_COLOUR": "blue"}, 400, "unknown fields FAVOURITE_COLOUR"),
        ({"NOTES": "n" * 32_766}, 400, "NOTES is longer than 32765"),
        ({"E_MAIL": 5}, 400, "E_MAIL must be a string"),
        ({"CUST_CONTACT": "NOBODY"}, 400, "Customer Contact not found."),
    ],
)
def test_expandable_refuses_in_its_error_shape(
    expandable: tuple[ExpandableSimulator, str, list[float]], change: dict[str, Any], status: int, message: str
) -> None:
    sim, url, _ = expandable
    sim.seed_contact("ABCCORP", "JH")
    body = {
        "CUSTOMER_ID": "ABCCORP",
        "CUST_CONTACT": "JH",
        "E_MAIL": "jh@abc.example",
        "AUTH_TOKEN": token(url).json()["AUTH_TOKEN"],
    }
    body = {k: v for k, v in {**body, **change}.items() if v is not None}
    response = httpx.post(f"{url}/api/customer-contact-update", json=body)
    assert response.status_code == status
    assert message in response.json()["MESSAGE"]
    assert set(response.json()) == {"MESSAGE", "MESSAGE_CODE"}


def test_expandable_is_post_only(expandable: tuple[ExpandableSimulator, str, list[float]]) -> None:
    _, url, _ = expandable
    response = httpx.get(f"{url}/api/customer-contact-update")
    assert (response.status_code, response.json()["MESSAGE"]) == (405, "Request method must be POST.")


# -- Everlytic -----------------------------------------------------------------------------------
EVERLYTIC_AUTH = ("sync", "sync-key")


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
    response = httpx.put(f"{url}/api/2.0/customers/5", json=properties, auth=EVERLYTIC_AUTH)
    assert response.status_code == status
    assert message in response.json()["error"]["message"]


def test_everlytic_rest_auth_unknown_id_and_success_shape(everlytic: tuple[EverlyticSimulator, str]) -> None:
    _, url = everlytic
    assert httpx.put(f"{url}/api/2.0/customers/5", json={"name": "N"}, auth=("sync", "bad")).status_code == 401
    assert httpx.put(f"{url}/api/2.0/customers/6", json={"name": "N"}, auth=EVERLYTIC_AUTH).status_code == 404
    ok = httpx.put(
        f"{url}/api/2.0/customers/5",
        json={"name": "Hospitality AB", "industry": "Hospitality, Travel & Tourism"},
        auth=EVERLYTIC_AUTH,
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
