"""The webhook by hand: verify Shopify's ``X-Shopify-Hmac-Sha256`` (base64 HMAC-SHA256 of the raw body with the
app's secret, compared in constant time), read the secret (once a container), parse the customer, SendMessage
the change to every vendor's FIFO queue (group: the customer, deduplication: the webhook id), the sends at once
from a small thread pool, and answer 202."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3

secrets = boto3.client("secretsmanager")
sqs = boto3.client("sqs")
QUEUES: dict[str, str] = json.loads(os.environ["VENDOR_QUEUES"])
_secret: dict[str, Any] = {}


def shopify_secret() -> bytes:
    if not _secret:
        _secret.update(json.loads(secrets.get_secret_value(SecretId=os.environ["WEBHOOK_SECRET_NAME"])["SecretString"]))
    return str(_secret["shopify"]).encode()


def answer(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    body = event.get("body") or ""
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    expected = base64.b64encode(hmac.new(shopify_secret(), raw, hashlib.sha256).digest()).decode()
    if not hmac.compare_digest(expected, headers.get("x-shopify-hmac-sha256", "")):
        return answer(401, {"error": "X-Shopify-Hmac-Sha256: signature does not match the body"})
    try:
        shopify = json.loads(raw)
    except ValueError:
        return answer(400, {"error": "body: not JSON"})
    address = shopify.get("default_address") or {}
    change = {
        "change_id": headers["x-shopify-webhook-id"],
        "source": "shopify",
        "occurred_at": shopify["updated_at"],
        "customer": {
            "key": str(shopify["id"]),
            "first_name": shopify.get("first_name"),
            "last_name": shopify.get("last_name"),
            "email": shopify.get("email"),
            "company": address.get("company"),
            "phones": {"main": shopify.get("phone")},
            "address": {"city": address.get("city"), "postal_code": address.get("zip")},
        },
    }
    message = json.dumps(change)

    def send(queue_url: str) -> None:
        sqs.send_message(
            QueueUrl=queue_url,
            MessageBody=message,
            MessageGroupId=change["customer"]["key"],
            MessageDeduplicationId=change["change_id"],
        )

    with ThreadPoolExecutor(max_workers=len(QUEUES)) as pool:
        list(pool.map(send, QUEUES.values()))
    return answer(202, {"changeId": change["change_id"], "vendors": list(QUEUES)})
