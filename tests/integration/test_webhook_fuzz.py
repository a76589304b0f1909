"""Arbitrary bytes and headers through the real webhook handler: only 202, 400, 401, 404 or 413, never a crash."""

from __future__ import annotations

import base64
import importlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from flow import api_event
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from custsync.sources.shopify import sign

SECRET = "test-shopify-client-secret"
ANSWERS = {202, 400, 401, 404, 413}
header_names = st.sampled_from(
    ["X-Shopify-Topic", "X-Shopify-Webhook-Id", "X-Shopify-Triggered-At", "Content-Type", "X-Other"]
) | st.text(min_size=1, max_size=20)
header_values = st.sampled_from(["customers/update", "customers/create", "wh-1", ""]) | st.text(max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=15), inner, max_size=5),
    max_leaves=20,
)
# Shopify-shaped payloads with arbitrary values, so signed bodies get past the signature into parsing.
shopify_like = st.fixed_dictionaries(
    {
        "id": st.integers(min_value=1, max_value=10**12) | json_values,
        "updated_at": st.datetimes(timezones=st.timezones()).map(lambda moment: moment.isoformat()) | json_values,
    },
    optional={
        name: st.text(max_size=30) | json_values
        for name in ("email", "first_name", "state", "tags", "default_address", "metafields", "phone", "note")
    },
).map(lambda payload: json.dumps(payload).encode())
bodies = st.binary(max_size=2048) | shopify_like | json_values.map(lambda value: json.dumps(value).encode())


@pytest.fixture
def handler(stack: Any, function_env: Any, lambda_context: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    function_env("WebhookFunction")
    app = importlib.reload(importlib.import_module("webhook.app"))  # cold start against this stack
    return lambda event: app.lambda_handler(event, lambda_context)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=bodies,
    headers=st.dictionaries(header_names, header_values, max_size=6),
    signed=st.booleans(),
    shopify_headers=st.booleans(),
    encoding=st.sampled_from(["base64", "text", "garbled-base64"]),
    source=st.sampled_from(["shopify", "magento", "", "shopify/../x"]) | st.text(max_size=12),
)
def test_any_request_gets_a_client_answer(
    handler: Callable[[dict[str, Any]], dict[str, Any]],
    body: bytes,
    headers: dict[str, str],
    signed: bool,
    shopify_headers: bool,
    encoding: str,
    source: str,
) -> None:
    if shopify_headers:  # as Shopify sends them, so that arbitrary bodies reach the payload mapping
        source = "shopify"
        headers = {**headers, "X-Shopify-Topic": "customers/update", "X-Shopify-Webhook-Id": "wh-fuzz"}
    if signed:
        headers = {**headers, "X-Shopify-Hmac-Sha256": sign(body, SECRET)}
    request = api_event("POST", f"/webhooks/{source}", None, headers, {"source": source})
    if encoding == "text":
        request["body"] = body.decode("utf-8", errors="surrogateescape")
    else:
        request["body"] = base64.b64encode(body).decode() + ("!" if encoding == "garbled-base64" else "")
        request["isBase64Encoded"] = True
    response = handler(request)
    event(f"HTTP {response['statusCode']}")
    assert response["statusCode"] in ANSWERS, response
    assert "error" in json.loads(response["body"]) or response["statusCode"] == 202
