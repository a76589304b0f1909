"""The senders' documented sample payloads (tests/fixtures/senders/), each signed when it is sent (by the sender's
official library where one exists), verified and mapped by its source, against the table of the canonical changes
they must become, field by field (tests/fixtures/senders/corpus.yaml)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import stripe as stripe_python
import yaml
from hubspot.utils.signature import Signature  # type: ignore[import-untyped]

from custsync.sources import SOURCES, TimeWindow, WebhookRequest

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "senders"
CASES: list[dict[str, Any]] = yaml.safe_load((CORPUS / "corpus.yaml").read_text())["cases"]
URL = "https://hooks.example.com/prod/webhooks/"
SECRETS = {
    "shopify": "shpss_corpus_client_secret",
    "hubspot": "hubspot-corpus-client-secret",
    "stripe": "whsec_corpus_endpoint_secret",
    "woocommerce": "woocommerce-corpus-webhook-secret",
}


def base64_hmac(secret: str, body: bytes) -> str:
    """Shopify's and WooCommerce's documented scheme: base64 of HMAC-SHA256 over the raw body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def signature_headers(source: str, body: bytes, now: float) -> dict[str, str]:
    """What the sender adds to sign ``body`` at ``now``."""
    secret = SECRETS[source]
    if source == "stripe":
        return {"Stripe-Signature": stripe_python.WebhookSignature.generate_signature_header(
            body.decode(), secret, timestamp=int(now))}  # fmt: skip
    if source == "hubspot":
        timestamp = str(int(now * 1000))
        signature = Signature.get_signature(secret, body.decode(), "v3", URL + source, "POST", timestamp)
        return {"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": timestamp}
    name = {"shopify": "X-Shopify-Hmac-Sha256", "woocommerce": "X-WC-Webhook-Signature"}[source]
    return {name: base64_hmac(secret, body)}


def received(case: dict[str, Any], now: float) -> WebhookRequest:
    source = case["file"].split("/")[0]
    body = (CORPUS / case["file"]).read_bytes()
    headers = {"Content-Type": "application/json", **case.get("headers", {}), **signature_headers(source, body, now)}
    at = datetime.fromisoformat(case["received_at"]).timestamp() if "received_at" in case else now
    return WebhookRequest("POST", URL + source, headers, body, received_at=at)


@pytest.mark.parametrize("case", CASES, ids=[case["file"] for case in CASES])
def test_each_documented_payload_is_verified_and_mapped_as_the_table_says(case: dict[str, Any]) -> None:
    source = SOURCES[case["file"].split("/")[0]]
    now = time.time()
    request = received(case, now)

    source.verify(request, [SECRETS[source.name]], TimeWindow(now, 300))
    changes = source.normalise(request)

    mapped = [
        {
            "kind": change.kind,
            "key": change.customer.key,
            "occurred_at": change.occurred_at,
            "customer": change.customer.model_dump(mode="json", exclude_unset=True, exclude={"key"}),
            **({"change_id": change.change_id} if "change_id" in expected else {}),
            **({"vendor_ids": change.vendor_ids} if change.vendor_ids or "vendor_ids" in expected else {}),
        }
        for change, expected in zip(changes, case["changes"], strict=False)
    ]
    wanted = [{**e, "occurred_at": datetime.fromisoformat(e["occurred_at"])} for e in case["changes"]]
    assert mapped == wanted
    assert len(changes) == len(case["changes"])
    assert changes.ignored == case.get("ignored", [])
    assert len({change.change_id for change in changes}) == len(changes)


def test_every_payload_file_is_in_the_table_and_cites_where_it_comes_from() -> None:
    files = {str(path.relative_to(CORPUS)) for path in CORPUS.rglob("*.json")}
    assert files == {case["file"] for case in CASES}
    assert all(case["origin"].strip() for case in CASES)


@pytest.mark.parametrize(
    "case", [c for c in CASES if c["file"].startswith("shopify/customers-")], ids=lambda c: c["file"]
)
def test_no_documented_shopify_customer_is_deactivated(case: dict[str, Any]) -> None:
    """Shopify's own samples all carry state "disabled" (no login account): a guest stays as active as it was."""
    for change in SOURCES["shopify"].normalise(received(case, time.time())):
        assert "status" not in change.customer.model_fields_set
