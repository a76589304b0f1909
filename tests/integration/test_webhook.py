"""The webhook function's answers for everything a client can send: never a 500."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

import pytest

from conftest import WEBHOOK_SECRETS
from custsync.config import WebhookSettings
from custsync.sources.shopify import sign
from custsync.webhook import build_webhook_app
from flow import ALL_VENDORS, api_event, queue_depth, sample_event, shopify_customer, shopify_event, signed

SECRET = "test-shopify-client-secret"


def test_a_signed_update_is_queued_for_every_vendor(post: Any, stack: Any) -> None:
    status, body = post(shopify_event(shopify_customer(), "wh-ok", SECRET))
    assert (status, body["vendors"]) == (202, ALL_VENDORS)
    assert body["changeId"].startswith("shopify:7001:")
    url, _ = stack.queue_of("ExsalerateFunction")
    (message,) = stack.sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
    assert message["Attributes"]["MessageGroupId"] == "7001"
    assert message["Attributes"]["MessageDeduplicationId"] == body["changeId"]
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


def signed_raw(body: bytes, *, base64_encoded: bool = True, webhook_id: str = "wh-raw") -> dict[str, Any]:
    headers = {
        "X-Shopify-Topic": "customers/update",
        "X-Shopify-Hmac-Sha256": sign(body, SECRET),
        "X-Shopify-Webhook-Id": webhook_id,
    }
    event = api_event("POST", "/webhooks/shopify", None, headers, {"source": "shopify"})
    event["body"] = base64.b64encode(body).decode() if base64_encoded else body.decode()
    event["isBase64Encoded"] = base64_encoded
    return event


def test_a_body_nested_100000_deep_is_400_not_a_crash(post: Any, stack: Any) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    status, answer = post(signed_raw(body, base64_encoded=False))
    assert status == 400
    assert answer["error"].startswith("body: nested deeper than")
    assert queue_depth(stack, "ExsalerateFunction") == 0


def test_a_body_that_is_not_utf8_is_400(post: Any) -> None:
    status, answer = post(signed_raw(b'{"id": 1, "first_name": "\xff\xfe"}'))
    assert (status, answer["error"]) == (400, "body: is not valid UTF-8 (byte 0xff at offset 25)")


def test_a_body_that_is_not_valid_base64_is_400(post: Any) -> None:
    event = signed_raw(b"{}")
    event["body"] = "not base64!"
    status, answer = post(event)
    assert (status, answer["error"]) == (400, "body: isBase64Encoded is set but the body is not valid base64")


def test_a_body_with_a_lone_surrogate_is_400(post: Any) -> None:
    event = signed_raw(b"{}", base64_encoded=False)
    event["body"] = '{"id": 1, "note": "\ud800"}'
    status, answer = post(event)
    assert (status, answer["error"]) == (400, "body: is not valid UTF-8 (a lone surrogate at offset 19)")


# A fixed clock: 2026-11-20T10:00:00Z.
NOW = 1_795_168_800.0


def queued_time(stack: Any) -> str:
    url, _ = stack.queue_of("ExsalerateFunction")
    (message,) = stack.sqs.receive_message(QueueUrl=url)["Messages"]
    occurred_at: str = json.loads(message["Body"])["occurred_at"]
    return occurred_at


@pytest.mark.parametrize(
    ("triggered_at", "queued_at"),
    [
        ("2099-01-01T00:00:00Z", "2026-11-20T10:05:00Z"),  # forged: brought back to now + MAX_CLOCK_SKEW_SECONDS
        ("2026-11-20T09:59:00Z", "2026-11-20T09:59:00Z"),  # as Shopify sends it: kept
    ],
)
def test_a_time_from_the_unsigned_triggered_at_header_is_never_later_than_now_plus_the_skew(
    stack: Any, function_env: Any, lambda_context: Any, triggered_at: str, queued_at: str
) -> None:
    """Shopify signs the body alone: a body without updated_at takes its time from X-Shopify-Triggered-At, which
    anyone replaying the body may set; a forged 2099 would otherwise pin the customer's fields until then."""
    function_env("WebhookFunction")
    app = build_webhook_app(WebhookSettings.from_env(), clock=lambda: NOW)
    payload = shopify_customer()
    del payload["updated_at"]
    event = shopify_event(payload, "wh-time", SECRET)
    event["headers"]["X-Shopify-Triggered-At"] = triggered_at

    assert app.resolve(event, lambda_context)["statusCode"] == 202
    assert datetime.fromisoformat(queued_time(stack)) == datetime.fromisoformat(queued_at)


def test_a_signed_time_ahead_of_the_clock_is_brought_back_too(
    stack: Any, function_env: Any, lambda_context: Any
) -> None:
    function_env("WebhookFunction")
    app = build_webhook_app(WebhookSettings.from_env(), clock=lambda: NOW)
    event = sample_event("standardwebhooks")
    body = json.loads(event["body"])
    event["body"] = json.dumps({**body, "occurred_at": "2099-01-01T00:00:00Z"})

    assert app.resolve(signed(event, WEBHOOK_SECRETS["standardwebhooks"], NOW), lambda_context)["statusCode"] == 202
    assert datetime.fromisoformat(queued_time(stack)) == datetime.fromisoformat("2026-11-20T10:05:00Z")
