"""The Centra simulator refuses what Centra would, as SOAP Faults, and applies a batch all or nothing."""

from __future__ import annotations

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
from devkit.simulators.centra import DEFAULT_PATH, CentraSimulator
from hostile_xml import ENTITY_ATTACKS, bait, malformed, with_doctype
from soap_answers import SOAP_ENV, assert_refused_unread, fault_of

ROOT = Path(__file__).resolve().parents[3]
WSDL = ROOT / "functions" / "centra" / "centra.wsdl"
FIXTURES = ROOT / "tests" / "fixtures"
NS = "http://www.centra.com/webservices/"
BINDING = "{http://www.centra.com/webservices/}CentraApiBinding"
ACTION = '"http://www.centra.com/webservices/Customers_Update"'
ZeepClient: Any = zeep.Client  # zeep is unannotated: its calls go through Any under strict mypy


@pytest.fixture
def simulator() -> CentraSimulator:
    return CentraSimulator(stores=(1, 2))


@pytest.fixture
def server(simulator: CentraSimulator) -> Iterator[SimulatorServer]:
    with serve(simulator) as running:
        yield running


@pytest.fixture
def http(server: SimulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url) as client:
        yield client


@pytest.fixture
def api(server: SimulatorServer) -> Any:
    return ZeepClient(str(WSDL)).create_service(BINDING, f"{server.url}{DEFAULT_PATH}")


def doc_sample() -> str:
    """The page's own request envelope with real values in place of its placeholders."""
    return (
        (FIXTURES / "centra-sample-request.xml")
        .read_text()
        .replace(">int<", ">1<")
        .replace("<ns1:country>string</ns1:country>", "<ns1:country>SE</ns1:country>")
        .replace("<ns1:email>string</ns1:email>", "<ns1:email>demo@example.com</ns1:email>")
    )


def customer_xml(customer_id: str, **fields: str) -> str:
    children = "".join(f"<ns1:{name}>{value}</ns1:{name}>" for name, value in {"id": customer_id, **fields}.items())
    return f"<ns1:customer>{children}</ns1:customer>"


def request_xml(*customers: str, username: str = "demo", password: str = "demo") -> str:
    return (
        f'<?xml version="1.0"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_ENV}" xmlns:ns1="{NS}"><SOAP-ENV:Body>'
        f"<ns1:customers_Update><ns1:login><ns1:username>{username}</ns1:username>"
        f"<ns1:password>{password}</ns1:password></ns1:login><ns1:customers>{''.join(customers)}</ns1:customers>"
        "</ns1:customers_Update></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    )


def post(http: httpx.Client, body: str, action: str = ACTION, **headers: str) -> httpx.Response:
    sent = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": action, **headers}
    return http.post(DEFAULT_PATH, content=body, headers=sent)


def login() -> dict[str, str]:
    return {"username": "demo", "password": "demo"}


# -- the documented contract ---------------------------------------------------------------------
def test_the_docs_sample_envelope_is_accepted_and_answered_exactly_as_the_doc_shows(
    http: httpx.Client, simulator: CentraSimulator
) -> None:
    response = post(http, doc_sample())

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert response.text == (FIXTURES / "centra-sample-response.xml").read_text().strip()
    assert simulator.records["string"]["store"] == 1
    assert simulator.records["string"]["email"] == "demo@example.com"


def test_zeep_from_the_shipped_wsdl_sends_the_docs_envelope() -> None:
    client = ZeepClient(str(WSDL))
    fields = ("type", "status", "firstname", "lastname", "address1", "address2", "city", "state", "zipcode")
    record = {"id": "string", "store": 1, **dict.fromkeys(fields, "string"), "country": "SE"}
    record |= {"email": "demo@example.com", "telephone": "string"}
    message = client.create_message(
        client.create_service(BINDING, "https://shop.example/ams/system/service/module/soap/api"),
        "customers_Update",
        login=login(),
        customers={"customer": [record]},
    )

    def names(root: Any) -> list[str]:
        return [str(element.tag) for element in root.iter() if isinstance(element.tag, str)]

    assert names(message) == names(etree.fromstring(doc_sample().encode()))


def test_a_zeep_client_upserts_a_batch_by_id(api: Any, simulator: CentraSimulator) -> None:
    first = api.customers_Update(
        login=login(),
        customers={"customer": [{"id": "C-1", "store": 1, "firstname": "Ada"}, {"id": "C-2", "store": 2}]},
    )
    api.customers_Update(login=login(), customers={"customer": [{"id": "C-1", "city": "Lund"}]})

    assert first is None, "the doc's empty result element"
    assert simulator.records == {
        "C-1": {"id": "C-1", "store": 1, "firstname": "Ada", "city": "Lund"},
        "C-2": {"id": "C-2", "store": 2},
    }


def test_the_wsdl_is_served_with_query_wsdl_and_the_path_is_configurable() -> None:
    with serve(CentraSimulator(path="/amsdocs/system/service/module/soap/api")) as server:
        response = httpx.get(f"{server.url}/amsdocs/system/service/module/soap/api?wsdl")
        elsewhere = httpx.get(f"{server.url}{DEFAULT_PATH}?wsdl")
    assert response.status_code == 200
    assert response.content == WSDL.read_bytes()
    assert elsewhere.status_code == 404


# -- refusals ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("username", "password"), [("demo", "wrong"), ("other", "demo"), ("", "")])
def test_a_wrong_login_is_a_client_fault_and_applies_nothing(
    http: httpx.Client, simulator: CentraSimulator, username: str, password: str
) -> None:
    response = post(http, request_xml(customer_xml("C-1", store="1"), username=username, password=password))
    assert fault_of(response) == ("soap:Client", "Login failed: wrong username or password.")
    assert simulator.records == {}


def test_zeep_sees_a_wrong_login_as_a_client_fault(api: Any) -> None:
    with pytest.raises(ZeepFault) as raised:
        api.customers_Update(
            login={"username": "demo", "password": "x"}, customers={"customer": [{"id": "C-1", "store": 1}]}
        )
    assert raised.value.code == "soap:Client"


@pytest.mark.parametrize(
    ("action", "says"),
    [
        ('"http://www.centra.com/webservices/Customers_Get"', "did not recognize"),
        ('"http://www.centra.com/webservices/customers_Update"', "did not recognize"),
        ("", "did not recognize"),
    ],
)
def test_a_wrong_soapaction_is_a_client_fault(http: httpx.Client, action: str, says: str) -> None:
    code, text = fault_of(post(http, doc_sample(), action))
    assert code == "soap:Client" and says in text


def test_soap_must_be_text_xml(http: httpx.Client) -> None:
    code, text = fault_of(post(http, doc_sample(), **{"Content-Type": "application/xml"}))
    assert code == "soap:Client" and "text/xml" in text


def test_malformed_xml_is_a_client_fault(http: httpx.Client, simulator: CentraSimulator) -> None:
    code, text = fault_of(post(http, doc_sample().replace("</ns1:login>", "")))
    assert code == "soap:Client" and text.startswith("Malformed XML")
    assert simulator.records == {}


@pytest.mark.parametrize(
    "customer",
    [
        customer_xml("C-1", store="one"),  # store is an int
        customer_xml("C-1", nickname="x"),  # no such element
        "<ns1:customer><ns1:store>1</ns1:store></ns1:customer>",  # id is required
        customer_xml("C-1", firstname="Ada", store="1"),  # out of the WSDL's order
    ],
)
def test_an_envelope_outside_the_wsdl_schema_is_a_client_fault(http: httpx.Client, customer: str) -> None:
    code, text = fault_of(post(http, request_xml(customer)))
    assert code == "soap:Client" and "does not match the schema" in text


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"store": "1", "firstname": "X" * 65}, "Customer C-7: firstname is longer than 64 characters."),
        ({"store": "1", "lastname": "X" * 65}, "Customer C-7: lastname is longer than 64 characters."),
        ({"store": "1", "address1": "X" * 256}, "Customer C-7: address1 is longer than 255 characters."),
        ({"store": "1", "zipcode": "1" * 17}, "Customer C-7: zipcode is longer than 16 characters."),
        ({"store": "1", "telephone": "1" * 33}, "Customer C-7: telephone is longer than 32 characters."),
        ({"store": "9"}, "Customer C-7: store 9 does not exist."),
        ({}, "Customer C-7: store is required to insert a customer."),
        ({"store": "1", "country": "Sweden"}, "Customer C-7: country is longer than 2 characters."),
        ({"store": "1", "country": "S1"}, "Customer C-7: country must be a two-letter code."),
        ({"store": "1", "email": "ada.example.com"}, "Customer C-7: email is not an email address."),
        ({"store": "1", "email": "ada@localhost"}, "Customer C-7: email is not an email address."),
    ],
)
def test_an_invalid_customer_is_a_client_fault_naming_its_id_and_field(
    http: httpx.Client, simulator: CentraSimulator, fields: dict[str, str], says: str
) -> None:
    assert fault_of(post(http, request_xml(customer_xml("C-7", **fields)))) == ("soap:Client", says)
    assert simulator.records == {}


def test_the_limits_themselves_are_accepted(http: httpx.Client, simulator: CentraSimulator) -> None:
    fields = {"store": "1", "firstname": "X" * 64, "address1": "X" * 255, "zipcode": "1" * 16, "country": "se"}
    assert post(http, request_xml(customer_xml("C" * 64, **fields))).status_code == 200
    assert simulator.records["C" * 64]["firstname"] == "X" * 64


def test_a_blank_id_is_named_by_its_position(http: httpx.Client) -> None:
    body = request_xml(customer_xml("C-1", store="1"), customer_xml(" ", store="1"))
    assert fault_of(post(http, body)) == ("soap:Client", "Customer #2: id is required.")


def test_an_update_of_a_known_customer_needs_no_store(http: httpx.Client, simulator: CentraSimulator) -> None:
    post(http, request_xml(customer_xml("C-1", store="2", firstname="Ada")))
    assert post(http, request_xml(customer_xml("C-1", lastname="Lovelace"))).status_code == 200
    assert simulator.records["C-1"] == {"id": "C-1", "store": 2, "firstname": "Ada", "lastname": "Lovelace"}


def test_a_batch_with_one_bad_customer_applies_nothing_and_names_it(
    http: httpx.Client, api: Any, simulator: CentraSimulator
) -> None:
    simulator.records["C-0"] = {"id": "C-0", "store": 1, "firstname": "Before"}
    batch = [{"id": f"C-{n}", "store": 1, "firstname": f"After{n}", "email": f"c{n}@example.com"} for n in range(5)]
    batch[3]["email"] = "not-an-email"

    with pytest.raises(ZeepFault) as raised:
        api.customers_Update(login=login(), customers={"customer": batch})

    assert raised.value.code == "soap:Client"
    assert raised.value.message == "Customer C-3: email is not an email address."
    assert simulator.records == {"C-0": {"id": "C-0", "store": 1, "firstname": "Before"}}, "nothing applied"

    del batch[3]
    assert api.customers_Update(login=login(), customers={"customer": batch}) is None
    assert sorted(simulator.records) == ["C-0", "C-1", "C-2", "C-4"]
    assert simulator.records["C-0"]["firstname"] == "After0"


def test_other_methods_and_paths_are_refused(http: httpx.Client) -> None:
    assert http.put(DEFAULT_PATH, content=doc_sample()).status_code == 405
    assert http.post("/ams/other", content=doc_sample()).status_code == 404
    code, _ = fault_of(http.get(DEFAULT_PATH))
    assert code == "soap:Client"


# -- what other clients send -------------------------------------------------------------------
@pytest.mark.parametrize("comment", ["<!-- NOTE -->", "<?NOTE?>"])
def test_comments_and_processing_instructions_between_elements_are_accepted_and_never_read_as_values(
    http: httpx.Client, simulator: CentraSimulator, comment: str
) -> None:
    c = comment
    body = (
        f'<?xml version="1.0"?>{c}<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_ENV}" xmlns:ns1="{NS}">{c}'
        f"<SOAP-ENV:Body>{c}<ns1:customers_Update>{c}<ns1:login>{c}<ns1:username>{c}demo</ns1:username>"
        f"<ns1:password>demo{c}</ns1:password>{c}</ns1:login>{c}<ns1:customers>{c}<ns1:customer>{c}"
        f"<ns1:id>C-1</ns1:id>{c}<ns1:store>{c}1</ns1:store><ns1:firstname>Ada{c}</ns1:firstname>{c}"
        f"</ns1:customer>{c}</ns1:customers>{c}</ns1:customers_Update>{c}</SOAP-ENV:Body>{c}</SOAP-ENV:Envelope>{c}"
    )

    assert post(http, body).status_code == 200
    assert simulator.records == {"C-1": {"id": "C-1", "store": 1, "firstname": "Ada"}}


MALFORMED = malformed(request_xml(customer_xml("C-1", store="1", firstname="Ada")))


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_request_that_is_not_well_formed_is_a_client_fault(
    http: httpx.Client, simulator: CentraSimulator, body: bytes
) -> None:
    sent = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": ACTION}
    assert fault_of(http.post(DEFAULT_PATH, content=body, headers=sent))[0] == "soap:Client"
    assert simulator.records == {}


@pytest.mark.parametrize("attack", list(ENTITY_ATTACKS))
def test_a_request_with_a_dtd_is_a_client_fault_and_no_entity_is_expanded_or_fetched(
    http: httpx.Client, simulator: CentraSimulator, tmp_path: Path, attack: str
) -> None:
    envelope = request_xml(customer_xml("C-1", store="1", firstname="&x;")).removeprefix('<?xml version="1.0"?>')
    with bait(tmp_path) as found:
        response = post(http, with_doctype(ENTITY_ATTACKS[attack], envelope, found))

    assert_refused_unread(response, found)
    assert simulator.records == {}


# -- injected faults -----------------------------------------------------------------------------
@pytest.mark.parametrize("side", ["Server", "Client"])
def test_injected_soap_faults_carry_their_faultcode(
    http: httpx.Client, api: Any, simulator: CentraSimulator, side: str
) -> None:
    simulator.faults.add("soap_fault", code=side, message="Maintenance", count=2)

    assert fault_of(post(http, doc_sample())) == (f"soap:{side}", "Maintenance")
    with pytest.raises(ZeepFault) as raised:
        api.customers_Update(login=login(), customers={"customer": [{"id": "C-1", "store": 1}]})
    assert (raised.value.code, raised.value.message) == (f"soap:{side}", "Maintenance")
    assert simulator.records == {}


def test_a_soap_fault_can_be_injected_over_http(http: httpx.Client) -> None:
    http.post("/_sim/faults", json={"kind": "soap_fault", "code": "Server", "message": "Database is down"})
    assert fault_of(post(http, doc_sample())) == ("soap:Server", "Database is down")
    assert post(http, doc_sample()).status_code == 200, "used once"


def test_an_injected_429_is_an_http_error_with_retry_after(
    api: Any, http: httpx.Client, simulator: CentraSimulator
) -> None:
    simulator.faults.add("status", status=429, retry_after=3, count=2)

    response = post(http, doc_sample())
    assert (response.status_code, response.headers["Retry-After"]) == (429, "3")
    with pytest.raises(TransportError) as raised:
        api.customers_Update(login=login(), customers={"customer": [{"id": "C-1", "store": 1}]})
    assert raised.value.status_code == 429


def test_an_injected_500_is_a_server_fault(http: httpx.Client, simulator: CentraSimulator) -> None:
    simulator.faults.add("status", status=500, message="Internal error")
    assert fault_of(post(http, doc_sample())) == ("soap:Server", "Internal error")
