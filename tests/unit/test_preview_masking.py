"""What a dry run shows of a request is the request, with what is secret masked, wherever it is."""

from __future__ import annotations

import json
import xmlrpc.client

import httpx
import pytest

from custsync.preview import MASK, masked, secret_values
from custsync.transport.dryrun import NotSent, capturing, withhold

SECRET = {"base_url": "https://vendor.example", "username": "sync", "password": "s3cret-pass", "api_key": "k-123456"}


def test_credentials_headers_keep_their_scheme_and_lose_their_value() -> None:
    request = httpx.Request(
        "PUT",
        "https://vendor.example/api",
        headers={"Authorization": "Basic c3luYzpzM2NyZXQ=", "X-Api-Key": "k-123456"},
    )
    shown = masked(request, secret_values(SECRET))
    assert shown.headers["authorization"] == f"Basic {MASK}"
    assert shown.headers["x-api-key"] == MASK


def test_json_members_named_like_a_secret_are_masked_and_nothing_else_changes() -> None:
    body = json.dumps(
        {"CUSTOMER_ID": "C1", "AUTH_TOKEN": "EXP1.abc", "Password": "p", "nested": {"api_key": 42}, "E_MAIL": "a@b.se"}
    )
    shown = masked(
        httpx.Request("POST", "https://v.example/x", content=body, headers={"Content-Type": "application/json"})
    )
    assert json.loads(shown.body) == {
        "CUSTOMER_ID": "C1",
        "AUTH_TOKEN": MASK,
        "Password": MASK,
        "nested": {"api_key": MASK},
        "E_MAIL": "a@b.se",
    }


def test_xml_elements_named_like_a_secret_are_masked_in_a_soap_envelope() -> None:
    envelope = (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header>'
        "<ns0:ApiAuthentication><ns0:LoginName>sync</ns0:LoginName><ns0:Password>p&amp;w</ns0:Password>"
        "</ns0:ApiAuthentication></soap:Header><soap:Body><ns0:FirstName>Ada</ns0:FirstName></soap:Body>"
        "</soap:Envelope>"
    )
    shown = masked(httpx.Request("POST", "https://v.example/x", content=envelope, headers={"Content-Type": "text/xml"}))
    assert f"<ns0:Password>{MASK}</ns0:Password>" in shown.body
    assert "<ns0:LoginName>sync</ns0:LoginName>" in shown.body
    assert shown.body.replace(f"<ns0:Password>{MASK}", "<ns0:Password>p&amp;w") == envelope


def test_query_parameters_form_fields_and_userinfo_named_like_a_secret_are_masked() -> None:
    request = httpx.Request(
        "POST",
        "https://user:pw@v.example/x?apikey=abc&page=2",
        content="name=Ada&password=xyz",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    shown = masked(request)
    assert shown.url == f"https://user:{MASK}@v.example/x?apikey={MASK.replace('*', '%2A')}&page=2"
    assert shown.body == f"name=Ada&password={MASK.replace('*', '%2A')}"


def test_a_secrets_values_are_masked_wherever_they_appear() -> None:
    call = xmlrpc.client.dumps(("s3cret-pass", 7), methodname="UpdateCustomer")
    shown = masked(httpx.Request("POST", "https://v.example/xmlrpc", content=call), secret_values(SECRET))
    assert "s3cret-pass" not in shown.body
    assert MASK in shown.body
    assert secret_values(SECRET) == ["s3cret-pass", "k-123456"]  # only values held under a secret's name


def test_a_dry_run_records_what_would_write_and_lets_reads_through() -> None:
    write = httpx.Request("PUT", "https://v.example/x", content=b"{}")
    read = httpx.Request("GET", "https://v.example/x")
    token = httpx.Request("POST", "https://v.example/token", extensions={"custsync.read_only": True})
    withhold(write)  # outside a dry run: nothing happens
    with capturing() as capture:
        withhold(read)
        withhold(token)
        with pytest.raises(NotSent):
            withhold(write)
    assert capture.requests == [write]
