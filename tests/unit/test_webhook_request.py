"""What every source relies on: the request rebuilt from API Gateway's event, the secret list, the time window."""

from __future__ import annotations

from typing import Any

import pytest

from custsync.errors import ConfigurationError
from custsync.sources import BadPayload, SignatureInvalid, TimeWindow, signing_secrets
from custsync.sources.base import hmac_sha256, parse_json, signed_by_any, split_vendor_ids, text_or_none, unix_time
from custsync.webhook import webhook_request


def gateway_event(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "resource": "/webhooks/{source}",
        "path": "/webhooks/hubspot",
        "httpMethod": "POST",
        "headers": {"Host": "abc123.execute-api.eu-west-1.amazonaws.com", "X-Forwarded-Proto": "https"},
        "multiValueQueryStringParameters": None,
        "requestContext": {
            "path": "/prod/webhooks/hubspot",
            "domainName": "abc123.execute-api.eu-west-1.amazonaws.com",
        },
        "body": "[]",
        "isBase64Encoded": False,
    }
    event.update(overrides)
    return event


def test_the_url_is_the_one_the_sender_called_stage_included() -> None:
    request = webhook_request(gateway_event())
    assert (request.method, request.url, request.body) == (
        "POST",
        "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/webhooks/hubspot",
        b"[]",
    )


def test_a_custom_domain_keeps_its_base_path_and_the_query_is_re_encoded() -> None:
    event = gateway_event(
        headers={"host": "hooks.example.com", "x-forwarded-proto": "https"},
        requestContext={"path": "/sync/webhooks/hubspot"},
        multiValueQueryStringParameters={"app": ["crm:sync"], "tag": ["a", "b"]},
    )
    assert webhook_request(event).url == "https://hooks.example.com/sync/webhooks/hubspot?app=crm%3Async&tag=a&tag=b"


def test_without_gateway_context_the_path_and_local_host_stand_in() -> None:
    event = gateway_event(headers={}, requestContext=None)
    assert webhook_request(event).url == "https://localhost/webhooks/hubspot"


def test_a_header_that_is_not_text_is_a_400_naming_it() -> None:
    with pytest.raises(BadPayload, match=r"header X-Bad: is not valid UTF-8 text"):
        webhook_request(gateway_event(headers={"X-Bad": "\udc80"}))


@pytest.mark.parametrize(
    ("configured", "secrets"),
    [
        ({"shopify": "s1"}, ["s1"]),
        ({"shopify": ["new", "old"]}, ["new", "old"]),
        ({"shopify": ["", "old", None]}, ["old"]),
        ({"shopify": ""}, []),
        ({"shopify": []}, []),
        ({}, []),
    ],
)
def test_a_source_takes_one_secret_or_a_list(configured: dict[str, Any], secrets: list[str]) -> None:
    assert signing_secrets(configured, "shopify") == secrets


@pytest.mark.parametrize("configured", [{"shopify": 42}, {"shopify": ["s", 1]}, {"shopify": {"a": "b"}}])
def test_a_secret_of_another_shape_names_the_source(configured: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match="'shopify': must be a string or a list of strings"):
        signing_secrets(configured, "shopify")


def test_the_window_is_inclusive_both_ways() -> None:
    window = TimeWindow(now=1_000.0, tolerance_seconds=300)
    window.check("T", 700.0)
    window.check("T", 1_300.0)
    with pytest.raises(SignatureInvalid, match="T: timestamp is more than 300 seconds old"):
        window.check("T", 699.0)
    with pytest.raises(SignatureInvalid, match="T: timestamp is more than 300 seconds in the future"):
        window.check("T", 1_301.0)


@pytest.mark.parametrize("value", ["", "-1", "1.5", "12e3", "1" * 17, " 1"])
def test_a_timestamp_must_be_digits(value: str) -> None:
    with pytest.raises(SignatureInvalid, match="is not a unix timestamp"):
        unix_time("T", value)


def test_every_secret_is_tried_and_nothing_else_matches() -> None:
    mac = hmac_sha256(b"old", b"message")
    assert signed_by_any([None, b"junk", mac], b"message", [b"new", b"old"])
    assert not signed_by_any([mac], b"message", [b"new"])
    assert not signed_by_any([None], b"message", [b"old"])
    assert not signed_by_any([mac], b"message", [])


def test_a_number_too_long_to_read_is_a_bad_payload_not_a_crash() -> None:
    with pytest.raises(BadPayload, match="number too long"):
        parse_json(b"1" * 5000, 32)


def test_custom_fields_split_into_attributes_and_vendor_ids() -> None:
    fields = {"tier": "gold", "customer_sync.everlytic": 9001, "customer_sync.exigo": "", "customer_sync.": "x"}
    assert split_vendor_ids(fields) == ({"tier": "gold", "customer_sync.": "x"}, {"everlytic": "9001"})
    assert [text_or_none(v) for v in ("", None, "a", 1, 1.5, True, [1, {"b": 2}])] == [
        None, None, "a", "1", "1.5", "true", '[1,{"b":2}]'
    ]  # fmt: skip
