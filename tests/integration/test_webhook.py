"""The webhook function's answers for everything a client can send: never a 500."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from flow import ALL_VENDORS, api_event, queue_depth, shopify_customer, shopify_event

from custsync.config import WebhookSettings
from custsync.sources.shopify import sign
from custsync.webhook import build_webhook_app

SECRET = "test-shopify-client-secret"


@pytest.fixture
def post(stack: Any, function_env: Any, lambda_context: Any) -> Any:
    function_env("WebhookFunction")
    app = build_webhook_app(WebhookSettings.from_env())

    def send(event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        response = app.resolve(event, lambda_context)
        return response["statusCode"], json.loads(response["body"])

    return send


def test_a_signed_update_is_queued_for_every_vendor(post: Any, stack: Any) -> None:
    status, body = post(shopify_event(shopify_customer(), "wh-ok", SECRET))
    assert (status, body) == (202, {"changeId": "wh-ok", "vendors": ALL_VENDORS})
    url, _ = stack.queue_of("ExsalerateFunction")
    (message,) = stack.sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
    assert message["Attributes"]["MessageGroupId"] == "7001"
    assert message["Attributes"]["MessageDeduplicationId"] == "wh-ok"
    change = json.loads(message["Body"])
    assert change["customer"]["address"]["country"] == "SE"


def test_a_bad_signature_is_401(post: Any, stack: Any) -> None:
    status, body = post(shopify_event(shopify_customer(), "wh-bad", "not-the-secret"))
    assert status == 401
    assert "X-Shopify-Hmac-Sha256" in body["error"]
    assert queue_depth(stack, "ExsalerateFunction") == 0


def test_an_invalid_body_is_400_naming_the_field(post: Any) -> None:
    status, body = post(shopify_event(shopify_customer(default_address={"country_code": "Sweden"}), "wh-c", SECRET))
    assert status == 400
    assert "customer.address.country" in body["error"]


def test_a_body_that_is_not_json_is_400(post: Any) -> None:
    raw = "{not json"
    headers = {
        "X-Shopify-Topic": "customers/update",
        "X-Shopify-Hmac-Sha256": sign(raw.encode(), SECRET),
        "X-Shopify-Webhook-Id": "w",
    }
    status, body = post(api_event("POST", "/webhooks/shopify", raw, headers, {"source": "shopify"}))
    assert (status, body["error"]) == (400, "body: is not valid JSON")


def test_a_payload_without_id_is_400_naming_it(post: Any) -> None:
    payload = shopify_customer()
    del payload["id"]
    status, body = post(shopify_event(payload, "wh-noid", SECRET))
    assert status == 400
    assert body["error"].startswith("id:")


def test_an_unknown_source_is_404(post: Any) -> None:
    status, body = post(api_event("POST", "/webhooks/magento", "{}", {}, {"source": "magento"}))
    assert status == 404
    assert "magento" in body["error"]


def test_a_body_over_256_kb_is_413(post: Any) -> None:
    payload = shopify_customer(note="x" * (256 * 1024))
    status, body = post(shopify_event(payload, "wh-big", SECRET))
    assert status == 413
    assert "limit" in body["error"]


def test_a_base64_encoded_body_is_verified_on_its_raw_bytes(post: Any) -> None:
    event = shopify_event(shopify_customer(), "wh-b64", SECRET)
    event["body"] = base64.b64encode(event["body"].encode()).decode()
    event["isBase64Encoded"] = True
    assert post(event)[0] == 202
