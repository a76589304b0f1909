"""The Exsalerate simulator refuses what Exsalerate would, in Exsalerate's own error shape."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from devkit.simulators.base import serve
from devkit.simulators.exsalerate import DATACONTRACT_NS, ExsalerateSimulator, PutReply

AUTH = ("sync-user", "sync-pass")
VALID = {"SiteOwnerId": 1, "CustomerName": "Northwind", "AssignedToEmail": "sales@example.com", "RefCode": "C-1"}


@pytest.fixture
def simulator() -> ExsalerateSimulator:
    return ExsalerateSimulator()


@pytest.fixture
def http(simulator: ExsalerateSimulator) -> Iterator[httpx.Client]:
    with serve(simulator) as server, httpx.Client(base_url=server.url, auth=AUTH) as client:
        yield client


def test_wrong_credentials_are_denied(http: httpx.Client) -> None:
    response = http.put("/api/Customer", json=VALID, auth=("sync-user", "wrong"))
    assert response.status_code == 401
    assert response.json() == {"Message": "Authorization has been denied for this request."}


def test_a_missing_authorization_header_is_denied(simulator: ExsalerateSimulator) -> None:
    with serve(simulator) as server:
        assert httpx.get(f"{server.url}/api/Customer?siteOwnerId=1&refCode=C-1").status_code == 401


def test_an_unsupported_method_is_405(http: httpx.Client) -> None:
    response = http.patch("/api/Customer", json=VALID)
    assert response.status_code == 405
    assert "does not support http method 'PATCH'" in response.json()["Message"]


def test_required_fields_are_enforced_in_model_state(http: httpx.Client) -> None:
    response = http.put("/api/Customer", json={"SiteOwnerId": 1})
    assert response.status_code == 400
    body = response.json()
    assert body["Message"] == "The request is invalid."
    assert body["ModelState"]["model.CustomerName"] == ["The CustomerName field is required."]
    assert body["ModelState"]["model.AssignedToEmail"] == ["The AssignedToEmail field is required."]


@pytest.mark.parametrize(("field", "limit"), [("CompanyPhone", 20), ("CustomerName", 255), ("Notes", 4000)])
def test_max_lengths_are_enforced(http: httpx.Client, field: str, limit: int) -> None:
    assert http.put("/api/Customer", json={**VALID, field: "x" * limit}).status_code == 200
    response = http.put("/api/Customer", json={**VALID, field: "x" * (limit + 1)})
    assert response.status_code == 400
    assert f"maximum length of '{limit}'" in response.json()["ModelState"][f"model.{field}"][0]


def test_integer_fields_must_be_integers(http: httpx.Client) -> None:
    response = http.put("/api/Customer", json={**VALID, "CustomerId": "abc"})
    assert response.status_code == 400
    assert "model.CustomerId" in response.json()["ModelState"]


def test_put_is_a_full_replace_and_an_upsert(http: httpx.Client, simulator: ExsalerateSimulator) -> None:
    created = http.put("/api/Customer", json={**VALID, "Notes": "first", "CompanyPhone": "+461"}).json()
    customer_id = created["CustomerId"]
    http.put("/api/Customer", json={**VALID, "CustomerId": customer_id, "Notes": "second"})

    record = simulator.records[str(customer_id)]
    assert record["Notes"] == "second"
    assert record["CompanyPhone"] is None, "an omitted property becomes empty"
    assert len(simulator.records) == 1


def test_get_finds_a_customer_by_reference_code(http: httpx.Client) -> None:
    http.put("/api/Customer", json=VALID)
    found = http.get("/api/Customer", params={"siteOwnerId": 1, "refCode": "C-1"})
    assert found.status_code == 200
    assert found.json()["CustomerName"] == "Northwind"
    assert http.get("/api/Customer", params={"siteOwnerId": 2, "refCode": "C-1"}).status_code == 404


def xml(elements: list[tuple[str, str]], namespace: str = DATACONTRACT_NS) -> str:
    inner = "".join(f"<{name}>{value}</{name}>" for name, value in elements)
    instance = "http://www.w3.org/2001/XMLSchema-instance"
    return f'<CustomerModel xmlns:i="{instance}" xmlns="{namespace}">{inner}</CustomerModel>'


def test_datacontract_xml_is_accepted_in_alphabetical_order(http: httpx.Client, simulator: ExsalerateSimulator) -> None:
    body = xml([("AssignedToEmail", "sales@example.com"), ("CustomerName", "Xml AB"), ("SiteOwnerId", "1")])
    response = http.put("/api/Customer", content=body, headers={"Content-Type": "application/xml"})
    assert response.status_code == 200
    (record,) = simulator.records.values()
    assert record["CustomerName"] == "Xml AB"


@pytest.mark.parametrize(
    "body",
    [
        xml([("CustomerName", "Xml AB"), ("AssignedToEmail", "sales@example.com")]),
        xml([("AssignedToEmail", "sales@example.com"), ("CustomerName", "Xml AB")], namespace="urn:wrong"),
        "<CustomerModel><unclosed></CustomerModel>",
    ],
    ids=["out-of-order", "wrong-namespace", "malformed"],
)
def test_bad_xml_is_refused(http: httpx.Client, body: str) -> None:
    response = http.put("/api/Customer", content=body, headers={"Content-Type": "text/xml"})
    assert response.status_code == 400
    assert response.json()["Message"] == "The request is invalid."


def test_form_urlencoded_is_accepted(http: httpx.Client, simulator: ExsalerateSimulator) -> None:
    response = http.put(
        "/api/Customer", data={"SiteOwnerId": "1", "CustomerName": "Form AB", "AssignedToEmail": "a@b.example"}
    )
    assert response.status_code == 200
    (record,) = simulator.records.values()
    assert (record["CustomerName"], record["SiteOwnerId"]) == ("Form AB", 1)


def test_an_unsupported_media_type_is_415(http: httpx.Client) -> None:
    response = http.put("/api/Customer", content="CustomerName=x", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415


def test_injected_faults_and_the_control_endpoints(http: httpx.Client, simulator: ExsalerateSimulator) -> None:
    assert http.post("/_sim/faults", json={"kind": "status", "status": 503, "retry_after": 7}).status_code == 201
    failed = http.put("/api/Customer", json=VALID)
    assert (failed.status_code, failed.headers["Retry-After"]) == (503, "7")
    assert http.put("/api/Customer", json=VALID).status_code == 200

    state: dict[str, Any] = http.get("/_sim/state").json()
    assert [r["RefCode"] for r in state.values()] == ["C-1"]
    calls = http.get("/_sim/calls").json()
    assert [c["status"] for c in calls] == [503, 200]
    assert base64.b64decode(calls[0]["headers"]["Authorization"].split()[1]) == b"sync-user:sync-pass"
    http.post("/_sim/reset")
    assert simulator.records == {}


def test_an_injected_reset_drops_the_connection(http: httpx.Client, simulator: ExsalerateSimulator) -> None:
    simulator.faults.add("reset")
    with pytest.raises(httpx.TransportError):
        http.put("/api/Customer", json=VALID)


def test_a_put_without_customer_id_creates_a_new_record_even_for_a_known_ref_code(
    http: httpx.Client, simulator: ExsalerateSimulator
) -> None:
    first = http.put("/api/Customer", json=VALID).json()["CustomerId"]
    second = http.put("/api/Customer", json=VALID).json()["CustomerId"]

    assert first != second
    assert sorted(simulator.records) == sorted([str(first), str(second)])
    assert [r["RefCode"] for r in simulator.records.values()] == ["C-1", "C-1"]


def test_the_default_put_reply_is_the_whole_record(http: httpx.Client, simulator: ExsalerateSimulator) -> None:
    response = http.put("/api/Customer", json=VALID)

    (record,) = simulator.records.values()
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == record


def test_the_id_put_reply_is_the_bare_customer_id(http: httpx.Client, simulator: ExsalerateSimulator) -> None:
    simulator.put_reply = "id"

    response = http.put("/api/Customer", json=VALID)

    (customer_id,) = simulator.records
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.text == customer_id
    assert response.json() == int(customer_id)


def test_the_empty_put_reply_has_no_body(http: httpx.Client, simulator: ExsalerateSimulator) -> None:
    simulator.put_reply = "empty"

    response = http.put("/api/Customer", json=VALID)

    assert response.status_code == 200
    assert response.content == b""
    assert "Content-Type" not in response.headers
    assert [r["RefCode"] for r in simulator.records.values()] == ["C-1"], "the record is stored all the same"


@pytest.mark.parametrize("put_reply", ["id", "empty"])
def test_every_put_reply_keeps_the_strictness(
    http: httpx.Client, simulator: ExsalerateSimulator, put_reply: PutReply
) -> None:
    simulator.put_reply = put_reply

    assert http.put("/api/Customer", json=VALID, auth=("sync-user", "wrong")).status_code == 401
    assert http.put("/api/Customer", json={"SiteOwnerId": 1}).status_code == 400
    assert http.put("/api/Customer", json={**VALID, "CompanyPhone": "x" * 21}).status_code == 400
    assert http.put("/api/Customer", content="x", headers={"Content-Type": "text/plain"}).status_code == 415
    assert simulator.records == {}


def test_the_put_reply_is_settable_over_http(http: httpx.Client, simulator: ExsalerateSimulator) -> None:
    response = http.post("/_sim/options", json={"put_reply": "empty"})

    assert (response.status_code, response.json()) == (200, {"put_reply": "empty"})
    assert simulator.put_reply == "empty"
    assert http.put("/api/Customer", json=VALID).content == b""
    http.post("/_sim/reset")
    assert simulator.put_reply == "empty", "reset clears records, calls and faults, not options"


@pytest.mark.parametrize("body", [{"put_reply": "xml"}, {}, ["id"]], ids=["unknown", "missing", "not-an-object"])
def test_an_unknown_put_reply_is_refused_over_http(
    http: httpx.Client, simulator: ExsalerateSimulator, body: Any
) -> None:
    response = http.post("/_sim/options", json=body)

    assert response.status_code == 400
    assert "put_reply must be one of record, id, empty" in response.json()["Message"]
    assert simulator.put_reply == "record"


def test_a_new_customer_id_never_takes_an_existing_records(http: httpx.Client, simulator: ExsalerateSimulator) -> None:
    seeded = {**VALID, "CustomerId": 1001, "RefCode": "SEEDED"}
    simulator.records["1001"] = seeded

    created = http.put("/api/Customer", json=VALID).json()["CustomerId"]

    assert created != 1001
    assert simulator.records["1001"] == seeded
