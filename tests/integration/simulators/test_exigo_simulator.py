"""The Exigo simulator refuses what Exigo would, in Exigo's own error shapes (REST JSON, SOAP Faults)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import zeep
from lxml import etree
from zeep.exceptions import Fault as ZeepFault
from zeep.exceptions import TransportError

from devkit.simulators.base import SimulatorServer, serve
from devkit.simulators.exigo import ExigoSimulator
from hostile_xml import ENTITY_ATTACKS, bait, malformed, with_doctype
from soap_answers import SOAP_ENV, assert_refused_unread, fault_of

ROOT = Path(__file__).resolve().parents[3]
WSDL = ROOT / "functions" / "exigo" / "exigo.wsdl"
FIXTURES = ROOT / "tests" / "fixtures"
NS = "http://api.exigo.com/"
BINDING = "{http://api.exigo.com/}ExigoApiSoap"
ASMX = "/3.0/ExigoApi.asmx"
EXTENDED_ACTION = '"https://api.exigo.com/UpdateCustomerExtended"'
CUSTOMER_ACTION = '"https://api.exigo.com/UpdateCustomer"'
REST_AUTH = ("sync@acme", "sync-pass")
ZeepClient: Any = zeep.Client  # zeep is unannotated: its calls go through Any under strict mypy


@pytest.fixture
def simulator() -> ExigoSimulator:
    return ExigoSimulator()


@pytest.fixture
def server(simulator: ExigoSimulator) -> Iterator[SimulatorServer]:
    with serve(simulator) as running:
        yield running


@pytest.fixture
def http(server: SimulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url) as client:
        yield client


@pytest.fixture
def zeep_client() -> Any:
    return ZeepClient(str(WSDL))


def names(xml: bytes | str) -> list[str]:
    """Every element's {namespace}name in document order."""
    root = etree.fromstring(xml.encode() if isinstance(xml, str) else xml)
    return [str(element.tag) for element in root.iter() if isinstance(element.tag, str)]


def doc_sample(*, customer_key: bool = False, login: tuple[str, str, str] = ("sync", "sync-pass", "acme")) -> str:
    """The page's own request envelope with real values in place of its placeholders."""
    text = (FIXTURES / "exigo-sample-request.xml").read_text()
    text = text.replace(">int<", ">7<").replace(">dateTime<", ">2026-11-20T09:00:00Z<")
    for name, value in zip(("LoginName", "Password", "Company"), login, strict=True):
        text = text.replace(f"<{name}>string</{name}>", f"<{name}>{value}</{name}>")
    if not customer_key:  # the page's sample sends both ids, which Exigo itself refuses
        text = text.replace("<CustomerKey>string</CustomerKey>", "")
    return text


def soap_post(http: httpx.Client, body: str | bytes, action: str = EXTENDED_ACTION, **headers: str) -> httpx.Response:
    sent = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": action, **headers}
    return http.post(ASMX, content=body, headers=sent)


def soap_envelope(body: str, *, login: tuple[str, str, str] = ("sync", "sync-pass", "acme")) -> str:
    auth = "".join(
        f"<{name}>{value}</{name}>" for name, value in zip(("LoginName", "Password", "Company"), login, strict=True)
    )
    return (
        f'<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Header><ApiAuthentication xmlns="{NS}">{auth}'
        f'</ApiAuthentication></soap:Header><soap:Body><UpdateCustomerRequest xmlns="{NS}">{body}'
        "</UpdateCustomerRequest></soap:Body></soap:Envelope>"
    )


def service(client: Any, server: SimulatorServer) -> Any:
    return client.create_service(BINDING, f"{server.url}{ASMX}")


def auth_header(client: Any, password: str = "sync-pass") -> Any:
    return client.get_element(f"{{{NS}}}ApiAuthentication")(LoginName="sync", Password=password, Company="acme")


# -- the documented contract ---------------------------------------------------------------------
def test_the_docs_sample_envelope_is_accepted_and_answered_as_the_doc_shows(
    http: httpx.Client, simulator: ExigoSimulator
) -> None:
    simulator.records["7"] = {"CustomerID": 7, "CustomerKey": "k7"}

    response = soap_post(http, doc_sample())

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert names(response.content) == names((FIXTURES / "exigo-sample-response.xml").read_text())
    assert simulator.records["7"]["extended"]["7/7"] == {f"Field{n}": "string" for n in range(1, 31)}


def test_zeep_from_the_shipped_wsdl_sends_the_docs_envelope(zeep_client: Any) -> None:
    header = zeep_client.get_element(f"{{{NS}}}ApiAuthentication")(
        LoginName="sync",
        Password="sync-pass",
        Company="acme",
        Identity="i",
        RequestTimeUtc="2026-11-20T09:00:00Z",
        Signature="s",
    )
    message = zeep_client.create_message(
        zeep_client.create_service(BINDING, "https://yourcompany-api.exigo.com/3.0/ExigoApi.asmx"),
        "UpdateCustomerExtended",
        CustomerID=7,
        ExtendedGroupID=7,
        CustomerExtendedID=7,
        **{f"Field{n}": "string" for n in range(1, 31)},
        CustomerKey="string",
        _soapheaders=[header],
    )

    assert names(etree.tostring(message)) == names(doc_sample(customer_key=True))
    port = zeep_client.wsdl.services["ExigoApi"].ports["ExigoApiSoap"]
    assert port.binding_options["address"] == "https://yourcompany-api.exigo.com/3.0/ExigoApi.asmx"


def test_a_zeep_client_updates_the_base_and_the_extended_record(
    zeep_client: Any, server: SimulatorServer, simulator: ExigoSimulator
) -> None:
    api = service(zeep_client, server)
    header = auth_header(zeep_client)

    created = api.UpdateCustomer(CustomerKey="E1", FirstName="Ada", CustomerStatus=1, _soapheaders=[header])
    api.UpdateCustomerExtended(
        CustomerID=501, ExtendedGroupID=2, CustomerExtendedID=3, Field1="vip", _soapheaders=[header]
    )
    api.UpdateCustomer(CustomerID=501, Email="ada@example.com", SubscribeToBroadcasts=True, _soapheaders=[header])

    assert (created.Status, created.Errors) == (None, None), "the doc's empty result element"
    assert simulator.records == {
        "501": {
            "CustomerID": 501,
            "CustomerKey": "E1",
            "FirstName": "Ada",
            "CustomerStatus": 1,
            "Email": "ada@example.com",
            "SubscribeToBroadcasts": True,
            "extended": {"2/3": {"Field1": "vip"}},
        }
    }
    calls = simulator.calls_to(ASMX, "POST")
    assert [c.headers["Soapaction"] for c in calls] == [CUSTOMER_ACTION, EXTENDED_ACTION, CUSTOMER_ACTION]


def test_the_wsdl_is_served_at_asmx_query_wsdl(http: httpx.Client) -> None:
    response = http.get(f"{ASMX}?WSDL")
    assert response.status_code == 200
    assert response.content == WSDL.read_bytes()


def test_rest_patches_only_the_sent_fields_and_upserts_by_key(http: httpx.Client, simulator: ExigoSimulator) -> None:
    first = http.patch(
        "/3.0/customers", json={"customerKey": "E1", "firstName": "Ada", "lastName": "L"}, auth=REST_AUTH
    )
    http.patch("/3.0/customers", json={"customerID": 501, "lastName": "Lovelace"}, auth=REST_AUTH)
    extended = {"customerKey": "E1", "extendedGroupID": 1, "customerExtendedID": 1, "field30": "x"}
    http.patch("/3.0/customers/extended", json=extended, auth=REST_AUTH)
    http.patch("/3.0/customers/extended", json={**extended, "field30": None, "field2": "y"}, auth=REST_AUTH)

    assert (first.status_code, first.json()) == (200, {"result": None})
    record = simulator.records["501"]
    assert (record["FirstName"], record["LastName"]) == ("Ada", "Lovelace")
    assert record["extended"] == {"1/1": {"Field30": "x", "Field2": "y"}}, "null counts as not sent"


# -- REST refusals -------------------------------------------------------------------------------
@pytest.mark.parametrize("credentials", ["sync@acme:wrong", "sync:sync-pass", "sync@other:sync-pass", None])
def test_rest_wrong_credentials_are_401(http: httpx.Client, credentials: str | None) -> None:
    headers = {"Authorization": f"Basic {base64.b64encode(credentials.encode()).decode()}"} if credentials else {}
    response = http.patch("/3.0/customers", json={"customerKey": "E1"}, headers=headers)
    assert response.status_code == 401
    assert set(response.json()) == {"message"}


@pytest.mark.parametrize(
    ("path", "body", "says"),
    [
        ("/3.0/customers", {"customerID": 1, "customerKey": "E1"}, "cannot both be provided"),
        ("/3.0/customers", {"firstName": "Ada"}, "CustomerID or CustomerKey is required"),
        ("/3.0/customers", {"customerKey": "E1", "FirstName": "Ada"}, "Unknown properties: FirstName"),
        ("/3.0/customers", {"customerKey": "E1", "nickname": "A"}, "Unknown properties: nickname"),
        ("/3.0/customers", {"customerID": "1"}, "'customerID' is not a valid integer"),
        ("/3.0/customers", {"customerKey": 1}, "'customerKey' is not a valid string"),
        ("/3.0/customers", {"customerKey": "E1", "customerType": True}, "'customerType' is not a valid integer"),
        ("/3.0/customers", {"customerKey": "E1", "subscribeToBroadcasts": "yes"}, "not a valid boolean"),
        ("/3.0/customers", {"customerKey": "E1", "birthDate": "20 Nov"}, "'birthDate' is not a valid date"),
        ("/3.0/customers", {"customerKey": "E1", "field16": "x"}, "Unknown properties: field16"),
        ("/3.0/customers/extended", {"customerKey": "E1", "field1": "x"}, "ExtendedGroupID and CustomerExtendedID"),
        ("/3.0/customers/extended", {"customerKey": "E1", "firstName": "x"}, "Unknown properties: firstName"),
    ],
)
def test_rest_validation_errors_are_400_with_a_message(
    http: httpx.Client, simulator: ExigoSimulator, path: str, body: dict[str, Any], says: str
) -> None:
    response = http.patch(path, json=body, auth=REST_AUTH)

    assert response.status_code == 400
    assert says in response.json()["message"]
    assert simulator.records == {}


def test_rest_an_unknown_customer_id_is_404_with_a_message(http: httpx.Client, simulator: ExigoSimulator) -> None:
    response = http.patch("/3.0/customers", json={"customerID": 999, "firstName": "Ada"}, auth=REST_AUTH)
    assert (response.status_code, response.json()) == (404, {"message": "Customer 999 not found."})
    assert simulator.records == {}


def test_rest_bodies_must_be_json_objects(http: httpx.Client) -> None:
    not_json = http.patch("/3.0/customers", content=b"{", headers={"Content-Type": "application/json"}, auth=REST_AUTH)
    a_list = http.patch("/3.0/customers", json=[{"customerKey": "E1"}], auth=REST_AUTH)
    form = http.patch("/3.0/customers", data={"customerKey": "E1"}, auth=REST_AUTH)
    assert (not_json.status_code, a_list.status_code, form.status_code) == (400, 400, 415)


def test_rest_other_methods_are_405_in_the_rest_shape(http: httpx.Client) -> None:
    response = http.put("/3.0/customers", json={"customerKey": "E1"}, auth=REST_AUTH)
    assert response.status_code == 405
    assert "PUT" in response.json()["message"]


# -- SOAP refusals -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "login", [("sync", "wrong", "acme"), ("other", "sync-pass", "acme"), ("sync", "sync-pass", "other")]
)
def test_soap_wrong_credentials_are_a_client_fault(
    http: httpx.Client, simulator: ExigoSimulator, login: tuple[str, str, str]
) -> None:
    simulator.records["7"] = {"CustomerID": 7}
    assert fault_of(soap_post(http, doc_sample(login=login))) == ("soap:Client", "Invalid login credentials.")
    assert "extended" not in simulator.records["7"]


def test_soap_without_the_auth_header_is_a_client_fault(http: httpx.Client) -> None:
    body = soap_envelope("<CustomerKey>E1</CustomerKey>")
    without = body.replace(body[body.index("<soap:Header>") : body.index("<soap:Body>")], "")
    code, text = fault_of(soap_post(http, without, CUSTOMER_ACTION))
    assert (code, text) == ("soap:Client", "The ApiAuthentication SOAP header is required.")


def test_soap_auth_header_without_company_breaks_the_schema(http: httpx.Client) -> None:
    body = soap_envelope("<CustomerKey>E1</CustomerKey>").replace("<Company>acme</Company>", "")
    code, text = fault_of(soap_post(http, body, CUSTOMER_ACTION))
    assert code == "soap:Client" and "does not match the schema" in text


@pytest.mark.parametrize(
    ("action", "says"),
    [
        ('"https://api.exigo.com/UpdateCustomer"', "does not match the body element"),
        ('"https://api.exigo.com/DeleteCustomer"', "did not recognize the value of HTTP Header SOAPAction"),
        ('"http://api.exigo.com/UpdateCustomerExtended"', "did not recognize"),
        ("", "did not recognize"),
    ],
)
def test_soap_wrong_soapaction_is_a_client_fault(http: httpx.Client, action: str, says: str) -> None:
    code, text = fault_of(soap_post(http, doc_sample(), action))
    assert code == "soap:Client" and says in text


def test_soap_must_be_text_xml(http: httpx.Client) -> None:
    code, text = fault_of(soap_post(http, doc_sample(), **{"Content-Type": "application/soap+xml; charset=utf-8"}))
    assert code == "soap:Client" and "text/xml" in text


def test_soap_malformed_xml_is_a_client_fault(http: httpx.Client) -> None:
    code, text = fault_of(soap_post(http, doc_sample()[:-20]))
    assert code == "soap:Client" and text.startswith("Malformed XML")


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("<CustomerID>seven</CustomerID>", "does not match the schema"),
        ("<FirstName>Ada</FirstName><CustomerKey>E1</CustomerKey>", "does not match the schema"),  # out of order
        ("<CustomerKey>E1</CustomerKey><Nickname>A</Nickname>", "does not match the schema"),
        ("<CustomerKey>E1</CustomerKey><BirthDate>20 Nov</BirthDate>", "does not match the schema"),
        (
            "<CustomerID>1</CustomerID><CustomerKey>E1</CustomerKey>",
            "CustomerID and CustomerKey cannot both be provided",
        ),
        ("<FirstName>Ada</FirstName>", "CustomerID or CustomerKey is required"),
        ("<CustomerID>9</CustomerID><FirstName>Ada</FirstName>", "Customer 9 not found"),
    ],
)
def test_soap_invalid_requests_are_client_faults(
    http: httpx.Client, simulator: ExigoSimulator, body: str, says: str
) -> None:
    code, text = fault_of(soap_post(http, soap_envelope(body), CUSTOMER_ACTION))
    assert code == "soap:Client" and says in text
    assert simulator.records == {}


def test_zeep_sees_a_client_fault_for_both_ids(zeep_client: Any, server: SimulatorServer) -> None:
    with pytest.raises(ZeepFault) as raised:
        service(zeep_client, server).UpdateCustomer(
            CustomerID=1, CustomerKey="E1", _soapheaders=[auth_header(zeep_client)]
        )
    assert raised.value.code == "soap:Client"
    assert raised.value.message == "CustomerID and CustomerKey cannot both be provided."


# -- injected faults -----------------------------------------------------------------------------
@pytest.mark.parametrize("side", ["Server", "Client"])
def test_injected_soap_faults_carry_their_faultcode(
    http: httpx.Client, zeep_client: Any, server: SimulatorServer, simulator: ExigoSimulator, side: str
) -> None:
    simulator.faults.add("soap_fault", code=side, message="Database timeout", count=2)

    assert fault_of(soap_post(http, doc_sample())) == (f"soap:{side}", "Database timeout")
    with pytest.raises(ZeepFault) as raised:
        service(zeep_client, server).UpdateCustomer(CustomerKey="E1", _soapheaders=[auth_header(zeep_client)])
    assert raised.value.code == f"soap:{side}"
    assert simulator.records == {}


def test_a_soap_fault_injected_over_http_hits_the_rest_path_in_the_rest_shape(
    http: httpx.Client, simulator: ExigoSimulator
) -> None:
    http.post("/_sim/faults", json={"kind": "soap_fault", "code": "Server", "message": "Down", "match": "/customers"})
    response = http.patch("/3.0/customers", json={"customerKey": "E1"}, auth=REST_AUTH)
    assert (response.status_code, response.json()) == (500, {"message": "Down"})


def test_an_injected_503_on_soap_is_an_http_error_with_retry_after(
    http: httpx.Client, zeep_client: Any, server: SimulatorServer, simulator: ExigoSimulator
) -> None:
    simulator.faults.add("status", status=503, retry_after=7, count=2)

    response = soap_post(http, doc_sample())
    assert (response.status_code, response.headers["Retry-After"]) == (503, "7")
    with pytest.raises(TransportError) as raised:
        service(zeep_client, server).UpdateCustomer(CustomerKey="E1", _soapheaders=[auth_header(zeep_client)])
    assert raised.value.status_code == 503


def test_fail_next_answers_status_failure_inside_a_200_and_applies_nothing(
    zeep_client: Any, server: SimulatorServer, simulator: ExigoSimulator
) -> None:
    simulator.fail_next.append(["Email is already in use", "Customer is locked"])
    api = service(zeep_client, server)

    result = api.UpdateCustomer(CustomerKey="E1", Email="taken@example.com", _soapheaders=[auth_header(zeep_client)])

    assert result.Status == "Failure"
    assert result.Errors.string == ["Email is already in use", "Customer is locked"]
    assert simulator.records == {}
    assert api.UpdateCustomer(CustomerKey="E1", _soapheaders=[auth_header(zeep_client)]).Status is None, "only once"
    assert list(simulator.records) == ["501"]


def test_a_failure_injected_over_http_still_checks_the_call(http: httpx.Client, simulator: ExigoSimulator) -> None:
    http.post("/_sim/faults", json={"kind": "soap_fault", "code": "Failure", "message": "Customer is locked"})

    response = soap_post(http, soap_envelope("<CustomerKey>E1</CustomerKey>"), CUSTOMER_ACTION)

    assert response.status_code == 200
    result = etree.fromstring(response.content).find(f"{{{SOAP_ENV}}}Body/{{{NS}}}UpdateCustomerResult")
    assert result is not None
    assert result.findtext(f"{{{NS}}}Status") == "Failure"
    assert [e.text for e in result.iterfind(f"{{{NS}}}Errors/{{{NS}}}string")] == ["Customer is locked"]
    assert simulator.records == {}

    http.post("/_sim/faults", json={"kind": "soap_fault", "code": "Failure", "message": "Customer is locked"})
    refused = soap_post(http, soap_envelope("<CustomerKey>E1</CustomerKey>", login=("sync", "x", "acme")))
    assert fault_of(refused)[0] == "soap:Client", "bad credentials are refused before any Failure"


def test_a_rest_failure_is_a_200_with_a_message(http: httpx.Client, simulator: ExigoSimulator) -> None:
    simulator.fail_next.append(["Customer is locked"])
    response = http.patch("/3.0/customers", json={"customerKey": "E1"}, auth=REST_AUTH)
    assert (response.status_code, response.json()) == (200, {"result": None, "message": "Customer is locked"})
    assert simulator.records == {}


def test_reset_over_http_clears_records_faults_and_failures(http: httpx.Client, simulator: ExigoSimulator) -> None:
    http.patch("/3.0/customers", json={"customerKey": "E1"}, auth=REST_AUTH)
    simulator.fail_next.append(["x"])
    simulator.faults.add("status", status=503)

    http.post("/_sim/reset")

    assert (simulator.records, simulator.fail_next) == ({}, [])
    assert http.patch("/3.0/customers", json={"customerKey": "E2"}, auth=REST_AUTH).json() == {"result": None}
    assert list(simulator.records) == ["501"]


def test_a_queued_failure_waits_for_a_well_formed_call(http: httpx.Client, simulator: ExigoSimulator) -> None:
    simulator.fail_next.append(["Customer is locked"])
    assert http.patch("/3.0/customers", json={"firstName": "A"}, auth=REST_AUTH).status_code == 400
    assert simulator.fail_next == [["Customer is locked"]]
    assert http.patch("/3.0/customers", json={"customerKey": "E1"}, auth=REST_AUTH).json()["message"] == (
        "Customer is locked"
    )


# -- what other clients of an .asmx service send -------------------------------------------------
MUST_UNDERSTAND = f"{{{SOAP_ENV}}}mustUnderstand"


def raw_auth_header(**attributes: str) -> etree._Element:
    """The ApiAuthentication header as a raw element, the way a client adds SOAP attributes to it."""
    header = etree.Element(f"{{{NS}}}ApiAuthentication")
    for name, value in attributes.items():
        header.set(f"{{{SOAP_ENV}}}{name}", value)
    for name, value in (("LoginName", "sync"), ("Password", "sync-pass"), ("Company", "acme")):
        etree.SubElement(header, f"{{{NS}}}{name}").text = value
    return header


def unknown_header(must_understand: str | None) -> etree._Element:
    header = etree.Element("{urn:example:tracing}Trace", nsmap={"t": "urn:example:tracing"})
    if must_understand is not None:
        header.set(MUST_UNDERSTAND, must_understand)
    header.text = "trace-1"
    return header


@pytest.mark.parametrize("must_understand", ["1", "true", "0", "false"])
def test_zeep_with_must_understand_on_the_auth_header_updates_the_customer(
    zeep_client: Any, server: SimulatorServer, simulator: ExigoSimulator, must_understand: str
) -> None:
    api = service(zeep_client, server)

    api.UpdateCustomer(
        CustomerKey="E1", FirstName="Ada", _soapheaders=[raw_auth_header(mustUnderstand=must_understand)]
    )

    sent = etree.fromstring(simulator.calls_to(ASMX)[0].body).find(f".//{{{NS}}}ApiAuthentication")
    assert sent is not None and sent.get(MUST_UNDERSTAND) == must_understand
    assert simulator.records == {"501": {"CustomerID": 501, "CustomerKey": "E1", "FirstName": "Ada"}}


def test_soap_envelope_attributes_on_the_auth_header_are_not_schema_content(
    http: httpx.Client, simulator: ExigoSimulator
) -> None:
    attributes = (
        'soap:mustUnderstand="1" soap:actor="http://schemas.xmlsoap.org/soap/actor/next" '
        'soap:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"'
    )
    body = soap_envelope("<CustomerKey>E1</CustomerKey>").replace(
        f'<ApiAuthentication xmlns="{NS}">', f'<ApiAuthentication xmlns="{NS}" {attributes}>'
    )

    assert soap_post(http, body, CUSTOMER_ACTION).status_code == 200
    assert list(simulator.records) == ["501"]


def test_the_auth_header_content_is_still_checked_against_the_schema(http: httpx.Client) -> None:
    body = soap_envelope("<CustomerKey>E1</CustomerKey>").replace(
        f'<ApiAuthentication xmlns="{NS}">', f'<ApiAuthentication xmlns="{NS}" soap:mustUnderstand="1">'
    )
    no_company = body.replace("<Company>acme</Company>", "")
    other_attribute = body.replace('soap:mustUnderstand="1"', 'soap:mustUnderstand="1" Version="2"')

    for refused in (no_company, other_attribute):
        code, text = fault_of(soap_post(http, refused, CUSTOMER_ACTION))
        assert code == "soap:Client" and "does not match the schema" in text


def test_a_must_understand_that_is_not_a_boolean_is_a_client_fault(
    zeep_client: Any, server: SimulatorServer, simulator: ExigoSimulator
) -> None:
    with pytest.raises(ZeepFault) as raised:
        service(zeep_client, server).UpdateCustomer(
            CustomerKey="E1", _soapheaders=[raw_auth_header(mustUnderstand="yes")]
        )
    assert raised.value.code == "soap:Client"
    assert "mustUnderstand" in raised.value.message
    assert simulator.records == {}


@pytest.mark.parametrize("must_understand", ["1", "true"])
def test_an_unknown_header_that_must_be_understood_is_a_must_understand_fault(
    zeep_client: Any, http: httpx.Client, server: SimulatorServer, simulator: ExigoSimulator, must_understand: str
) -> None:
    with pytest.raises(ZeepFault) as raised:
        service(zeep_client, server).UpdateCustomer(
            CustomerKey="E1", _soapheaders=[auth_header(zeep_client), unknown_header(must_understand)]
        )
    assert (raised.value.code, raised.value.message) == ("soap:MustUnderstand", "SOAP header Trace was not understood.")

    trace = f'<t:Trace xmlns:t="urn:example:tracing" soap:mustUnderstand="{must_understand}">x</t:Trace>'
    body = soap_envelope("<CustomerKey>E1</CustomerKey>").replace("<soap:Header>", f"<soap:Header>{trace}")
    response = soap_post(http, body, CUSTOMER_ACTION)
    assert fault_of(response) == ("soap:MustUnderstand", "SOAP header Trace was not understood.")
    fault = etree.fromstring(response.content).find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    assert fault is not None and fault.find("detail") is None, "ASMX sends no detail for a header fault"
    assert simulator.records == {}


def test_the_must_understand_fault_comes_before_the_credentials_are_checked(http: httpx.Client) -> None:
    trace = '<t:Trace xmlns:t="urn:example:tracing" soap:mustUnderstand="1">x</t:Trace>'
    body = soap_envelope("<CustomerKey>E1</CustomerKey>", login=("sync", "wrong", "acme"))
    response = soap_post(http, body.replace("<soap:Header>", f"<soap:Header>{trace}"), CUSTOMER_ACTION)
    assert fault_of(response)[0] == "soap:MustUnderstand"


@pytest.mark.parametrize("must_understand", [None, "0", "false", "yes"])
def test_an_unknown_header_that_need_not_be_understood_is_ignored(
    zeep_client: Any, server: SimulatorServer, simulator: ExigoSimulator, must_understand: str | None
) -> None:
    service(zeep_client, server).UpdateCustomer(
        CustomerKey="E1", _soapheaders=[auth_header(zeep_client), unknown_header(must_understand)]
    )
    assert list(simulator.records) == ["501"]


def commented_envelope(comment: str) -> str:
    """An UpdateCustomer call with a comment (or processing instruction) wherever XML allows one."""
    c = comment
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{c}<?xml-stylesheet href="x.xsl"?>\n{c}'
        f'<soap:Envelope xmlns:soap="{SOAP_ENV}">{c}<soap:Header>{c}<ApiAuthentication xmlns="{NS}">{c}'
        f"<LoginName>{c}sync{c}</LoginName>{c}<Password>sync-{c}pass</Password>"
        f"<Company>ac{c}me{c}</Company>{c}</ApiAuthentication>{c}</soap:Header>{c}"
        f'<soap:Body>{c}<UpdateCustomerRequest xmlns="{NS}">{c}<CustomerKey>E{c}1</CustomerKey>'
        f"<FirstName>{c}A{c}da{c}</FirstName>{c}<LastName>Love{c}lace</LastName>"
        f"<CustomerType>1{c}2</CustomerType><Field1>{c}</Field1>"
        f"<BirthDate>1815-12-10T00:00:00{c}Z</BirthDate><SubscribeToBroadcasts>tr{c}ue</SubscribeToBroadcasts>{c}"
        f"</UpdateCustomerRequest>{c}</soap:Body>{c}</soap:Envelope>{c}\n{c}"
    )


@pytest.mark.parametrize("comment", ["<!-- NOTE -->", "<!--NOTE-->", "<?NOTE?>", "<?note NOTE <b>?>"])
def test_comments_and_processing_instructions_anywhere_are_accepted_and_never_read_as_values(
    http: httpx.Client, simulator: ExigoSimulator, comment: str
) -> None:
    response = soap_post(http, commented_envelope(comment), CUSTOMER_ACTION)

    assert response.status_code == 200, response.text
    assert simulator.records == {
        "501": {
            "CustomerID": 501,
            "CustomerKey": "E1",
            "FirstName": "Ada",
            "LastName": "Lovelace",
            "CustomerType": 12,
            "Field1": "",
            "BirthDate": "1815-12-10T00:00:00Z",
            "SubscribeToBroadcasts": True,
        }
    }


def test_comments_in_an_extended_update_are_not_read_as_values(http: httpx.Client, simulator: ExigoSimulator) -> None:
    simulator.records["7"] = {"CustomerID": 7}
    sample = doc_sample().replace("<Field1>string</Field1>", "<Field1>vi<!-- not this -->p</Field1><!-- x -->")
    sample = sample.replace("<soap:Body>", "<soap:Body><!-- the request -->")

    assert soap_post(http, sample).status_code == 200
    assert simulator.records["7"]["extended"]["7/7"]["Field1"] == "vip"


MALFORMED = malformed(soap_envelope("<CustomerKey>E1</CustomerKey><FirstName>Ada</FirstName>"))


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_request_that_is_not_well_formed_is_a_client_fault(
    http: httpx.Client, simulator: ExigoSimulator, body: bytes
) -> None:
    code, _ = fault_of(soap_post(http, body, CUSTOMER_ACTION))

    assert code == "soap:Client"
    assert simulator.records == {}


@pytest.mark.parametrize("attack", list(ENTITY_ATTACKS))
def test_a_request_with_a_dtd_is_a_client_fault_and_no_entity_is_expanded_or_fetched(
    http: httpx.Client, simulator: ExigoSimulator, tmp_path: Path, attack: str
) -> None:
    envelope = soap_envelope("<CustomerKey>E1</CustomerKey><FirstName>&x;</FirstName>")
    with bait(tmp_path) as found:
        response = soap_post(http, with_doctype(ENTITY_ATTACKS[attack], envelope, found), CUSTOMER_ACTION)

    assert_refused_unread(response, found)
    assert simulator.records == {}
