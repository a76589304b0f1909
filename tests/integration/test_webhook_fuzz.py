"""Arbitrary bytes and headers through the real webhook handler, for every source: only 200, 202, 400, 401, 404
or 413, never a crash. Signed bodies (each source's own scheme, at times around now) reach the payload mapping."""

from __future__ import annotations

import base64
import importlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conftest import WEBHOOK_SECRETS
from flow import api_event, signed
from suite_clock import CLOCK

ANSWERS = {200, 202, 400, 401, 404, 413}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=15), inner, max_size=5),
    max_leaves=20,
)
short_text = st.text(max_size=30)
timestamps = st.datetimes(timezones=st.timezones()).map(lambda moment: moment.isoformat())


def either(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Well-typed values most of the time, anything JSON sometimes."""
    return st.one_of(strategy, strategy, strategy, json_values)


def as_json(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    return strategy.map(lambda payload: json.dumps(payload).encode())


def fields(names: tuple[str, ...], values: st.SearchStrategy[Any] = short_text) -> dict[str, st.SearchStrategy[Any]]:
    return {name: either(values) for name in names}


address = st.fixed_dictionaries(
    {}, optional=fields(("line1", "city", "region", "postal_code")) | {"country": either(st.sampled_from(["SE", "US"]))}
)
customer = st.fixed_dictionaries(
    {"key": either(st.from_regex(r"[a-z]{1,8}:[0-9]{1,6}", fullmatch=True))},
    optional=fields(("first_name", "last_name", "company", "email"))
    | {"address": either(address), "phones": either(st.fixed_dictionaries({}, optional=fields(("main", "mobile"))))}
    | {"attributes": either(st.dictionaries(short_text, st.none() | short_text, max_size=3))},
)
# Payloads shaped like each source's, with arbitrary values, so signed bodies get past the signature into parsing.
SHAPED: dict[str, st.SearchStrategy[bytes]] = {
    "shopify": as_json(
        st.fixed_dictionaries(
            {"id": either(st.integers(min_value=1, max_value=10**12)), "updated_at": either(timestamps)},
            optional=fields(("email", "first_name", "state", "tags", "default_address", "metafields", "phone", "note")),
        )
    ),
    "hubspot": as_json(
        st.lists(
            either(
                st.fixed_dictionaries(
                    {
                        "eventId": either(st.integers()),
                        "objectId": either(st.integers(min_value=1, max_value=10**9)),
                        "occurredAt": either(st.integers(min_value=0, max_value=3 * 10**12)),
                        "subscriptionType": either(
                            st.sampled_from(
                                [
                                    "contact.propertyChange",
                                    "object.propertyChange",
                                    "contact.creation",
                                    "contact.deletion",
                                    "contact.privacyDeletion",
                                    "object.deletion",
                                ]
                            )
                        ),
                        "propertyName": either(
                            st.sampled_from(["firstname", "email", "country", "phone", "customer_sync_everlytic", "x"])
                        ),
                        "propertyValue": either(short_text),
                    },
                    optional={"objectTypeId": either(st.sampled_from(["0-1", "0-2"]))},
                )
            ),
            max_size=5,
        )
    ),
    "stripe": as_json(
        st.fixed_dictionaries(
            {
                "id": either(st.from_regex(r"evt_[A-Za-z0-9]{1,10}", fullmatch=True)),
                "type": either(
                    st.sampled_from(["customer.created", "customer.updated", "customer.deleted", "invoice.paid"])
                ),
                "created": either(st.integers(min_value=0, max_value=4 * 10**9)),
                "data": either(
                    st.fixed_dictionaries(
                        {
                            "object": either(
                                st.fixed_dictionaries(
                                    {"id": either(st.from_regex(r"cus_[A-Za-z0-9]{1,10}", fullmatch=True))},
                                    optional=fields(("name", "email", "phone", "address", "metadata")),
                                )
                            )
                        },
                        optional={"previous_attributes": either(st.dictionaries(short_text, json_values, max_size=3))},
                    )
                ),
            }
        )
    ),
    "woocommerce": as_json(
        st.fixed_dictionaries(
            {"id": either(st.integers(min_value=1, max_value=10**9))},
            optional=fields(("email", "first_name", "last_name", "billing", "meta_data"))
            | {"date_modified_gmt": either(timestamps), "date_created_gmt": either(timestamps)},
        )
    )
    | st.from_regex(rb"webhook_id=[0-9]{1,25}", fullmatch=True),
    "standardwebhooks": as_json(
        customer
        | st.fixed_dictionaries(
            {
                "change_id": either(short_text),
                "source": either(short_text),
                "occurred_at": either(timestamps),
                "customer": either(customer),
            },
            optional={"vendor_ids": either(st.dictionaries(short_text, short_text, max_size=2))},
        )
    ),
}
# The headers each source needs besides its signature, as the platform sends them.
SOURCE_HEADERS = {
    "shopify": {"X-Shopify-Topic": "customers/update", "X-Shopify-Webhook-Id": "wh-fuzz"},
    "hubspot": {"Content-Type": "application/json"},
    "stripe": {"Content-Type": "application/json"},
    "woocommerce": {"X-WC-Webhook-Topic": "customer.updated", "X-WC-Webhook-Delivery-ID": "d-fuzz"},
    "standardwebhooks": {"webhook-id": "msg_fuzz"},
}
header_names = st.sampled_from(
    [name for headers in SOURCE_HEADERS.values() for name in headers]
    + ["X-Shopify-Triggered-At", "Host", "X-Forwarded-Proto", "X-HubSpot-Request-Timestamp", "Stripe-Signature"]
    + ["webhook-timestamp", "webhook-signature", "X-WC-Webhook-Signature", "X-Other"]
) | st.text(min_size=1, max_size=20)
header_values = st.sampled_from(
    [
        "customers/update",
        "customers/delete",
        "customers/redact",
        "customer.updated",
        "customer.deleted",
        "wh-1",
        "",
        "1700000000",
        "t=1,v1=ab",
    ]
) | (st.text(max_size=40))
bodies = st.binary(max_size=2048) | json_values.map(lambda value: json.dumps(value).encode())


@pytest.fixture
def handler(stack: Any, function_env: Any, lambda_context: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    function_env("WebhookFunction")
    app = importlib.reload(importlib.import_module("webhook.app"))  # cold start against this stack
    return lambda event: app.lambda_handler(event, lambda_context)


def request(source: str, body: bytes, headers: dict[str, str], encoding: str) -> dict[str, Any]:
    event = api_event("POST", f"/webhooks/{source}", None, headers, {"source": source})
    if encoding == "text":
        event["body"] = body.decode("utf-8", errors="surrogateescape")
    else:
        event["body"] = base64.b64encode(body).decode() + ("!" if encoding == "garbled-base64" else "")
        event["isBase64Encoded"] = True
    return event


def check(response: dict[str, Any]) -> None:
    event(f"HTTP {response['statusCode']}")
    assert response["statusCode"] in ANSWERS, response
    assert "error" in json.loads(response["body"]) or response["statusCode"] in (200, 202)


@pytest.mark.parametrize("source", sorted(SHAPED))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.data(),
    headers=st.dictionaries(header_names, header_values, max_size=6),
    signed_=st.booleans(),
    source_headers=st.booleans(),
    skew=st.sampled_from([0.0, 0.0, -299.0, 299.0, -301.0, 301.0]),
    encoding=st.sampled_from(["base64", "text", "garbled-base64"]),
)
def test_any_request_to_a_source_gets_a_client_answer(
    handler: Callable[[dict[str, Any]], dict[str, Any]],
    source: str,
    data: st.DataObject,
    headers: dict[str, str],
    signed_: bool,
    source_headers: bool,
    skew: float,
    encoding: str,
) -> None:
    body = data.draw(bodies | SHAPED[source], label="body")
    if source_headers:  # as the platform sends them, so that arbitrary bodies reach the payload mapping
        headers = {**headers, **SOURCE_HEADERS[source]}
    event = request(source, body, headers, encoding)
    if signed_:
        event = signed(event, WEBHOOK_SECRETS[source], CLOCK.now() + skew)
    check(handler(event))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=bodies,
    headers=st.dictionaries(header_names, header_values, max_size=6),
    encoding=st.sampled_from(["base64", "text", "garbled-base64"]),
    source=st.sampled_from(["magento", "", "shopify/../x", "Shopify"]) | st.text(max_size=12),
)
def test_any_request_to_any_path_gets_a_client_answer(
    handler: Callable[[dict[str, Any]], dict[str, Any]],
    body: bytes,
    headers: dict[str, str],
    encoding: str,
    source: str,
) -> None:
    check(handler(request(source, body, headers, encoding)))
