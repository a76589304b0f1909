"""The Expandable simulator refuses what Expandable would, in its {MESSAGE, MESSAGE_CODE} shape."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from devkit.simulators.base import serve
from devkit.simulators.expandable import ExpandableSimulator


@pytest.fixture
def expandable() -> Iterator[tuple[ExpandableSimulator, str, list[float]]]:
    now = [1000.0]
    sim = ExpandableSimulator(token_ttl_seconds=60, clock=lambda: now[0])
    with serve(sim) as server:
        yield sim, server.url, now


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


# The documented success response: the whole contact, audit fields included, no AUTH_TOKEN.
SUCCESS_FIELDS = {
    "CUSTOMER_ID", "CUST_CONTACT", "CONTACT_STATUS", "FIRST_NAME", "LAST_NAME", "INITIAL", "TITLE", "MAIL_STOP",
    "ADDRESS_1", "ADDRESS_2", "ADDRESS_3", "CITY", "STATE", "ZIP_CODE", "COUNTRY", "PHONE_NO", "FAX_NO",
    "CELL_PHONE_NO", "PAGER_NO", "E_MAIL", "E_MAIL_2", "WEB_ADDRESS", *(f"SOFCT_USER_{n}" for n in range(1, 17)),
    "CREATED_BY", "DATE_CREATED", "MODIFIED_BY", "DATE_MODIFIED", "OPERATOR_ID", "DATE_LAST_UPDT",
    "TIME_LAST_UPDT", "NOTES", "ATTACHMENTS",
}  # fmt: skip


def test_expandable_creates_once_and_answers_the_whole_contact(
    expandable: tuple[ExpandableSimulator, str, list[float]],
) -> None:
    sim, url, _ = expandable
    auth = token(url).json()["AUTH_TOKEN"]
    body = {"CUSTOMER_ID": "NEWCO", "CUST_CONTACT": "AL", "FIRST_NAME": "Ada", "AUTH_TOKEN": auth}
    created = httpx.post(f"{url}/api/customer-contact-create", json=body)
    assert created.status_code == 200
    assert set(created.json()) == SUCCESS_FIELDS
    assert (created.json()["FIRST_NAME"], created.json()["CREATED_BY"]) == ("Ada", "SYNC")
    again = httpx.post(f"{url}/api/customer-contact-create", json=body)
    assert (again.status_code, again.json()["MESSAGE"]) == (400, "Customer Contact already exists.")
    updated = httpx.post(f"{url}/api/customer-contact-update", json={**body, "LAST_NAME": "Lovelace"})
    assert set(updated.json()) == SUCCESS_FIELDS
    assert sim.records["NEWCO/AL"]["LAST_NAME"] == "Lovelace"


@pytest.mark.parametrize("content", [b"", b"{not json", b"[]"])
def test_expandable_refuses_a_body_that_is_not_a_json_object(
    expandable: tuple[ExpandableSimulator, str, list[float]], content: bytes
) -> None:
    _, url, _ = expandable
    for path in ("/api/auth-token-get", "/api/customer-contact-update"):
        response = httpx.post(f"{url}{path}", content=content, headers={"Content-Type": "application/json"})
        assert response.status_code == 400
        assert response.json() == {"MESSAGE": "Request JSON is invalid.", "MESSAGE_CODE": "E400"}
