"""One rule for what a source sends that customer-sync does not handle, and Shopify's guests, through the real
webhook function (its handler, metrics included) on the local stack.

Shopify and WooCommerce retry an answer that is not a 2xx and then remove the subscription (WooCommerce after
five failed deliveries): a topic not handled is 200 with nothing queued, counted per source and event type. And
Shopify's ``state`` is the customer's login account: a guest (``disabled``, the default) stays as active as it was.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import WEBHOOK_SECRETS, WebhookPost
from flow import ALL_VENDORS, VendorFlow, api_event, change, queue_depth, sample_event, shopify_event, signed

SENDERS = Path(__file__).resolve().parents[1] / "fixtures" / "senders"


def documented(file_name: str) -> Any:
    return json.loads((SENDERS / file_name).read_text())


def hubspot_creation() -> dict[str, Any]:
    event = sample_event("hubspot")
    event["body"] = json.dumps([documented("hubspot/docs-property-change-and-creation.json")[1]])
    return signed(event, WEBHOOK_SECRETS["hubspot"])


def stripe_invoice() -> dict[str, Any]:
    event = sample_event("stripe")
    event["body"] = json.dumps({"id": "evt_invoice", "object": "event", "type": "invoice.paid", "data": {"object": {}}})
    return signed(event, WEBHOOK_SECRETS["stripe"])


def woocommerce_order() -> dict[str, Any]:
    event = sample_event("woocommerce")
    event["headers"] = {**event["headers"], "X-WC-Webhook-Topic": "order.created", "X-WC-Webhook-Resource": "order"}
    event["body"] = json.dumps({"id": 727, "status": "processing"})
    return signed(event, WEBHOOK_SECRETS["woocommerce"])


def shopify_topic(topic: str, file_name: str) -> dict[str, Any]:
    return shopify_event(documented(file_name), f"wh-{topic}", WEBHOOK_SECRETS["shopify"], topic=topic)


NOT_HANDLED: dict[str, tuple[Callable[[], dict[str, Any]], str, str]] = {
    "shopify customers/disable": (lambda: shopify_topic("customers/disable", "shopify/customers-disable.json"),
                                  "shopify", "customers/disable"),
    "shopify customers/data_request": (
        lambda: shopify_topic("customers/data_request", "shopify/customers-data_request.json"),
        "shopify", "customers/data_request"),
    "hubspot contact.creation": (hubspot_creation, "hubspot", "contact.creation"),
    "stripe invoice.paid": (stripe_invoice, "stripe", "invoice.paid"),
    "woocommerce order.created": (woocommerce_order, "woocommerce", "order.created"),
}  # fmt: skip


def emitted(stdout: str) -> list[tuple[list[str], dict[str, Any]]]:
    """Every EMF metric line: its dimension names (sorted) and the document."""
    found = []
    for line in stdout.splitlines():
        if '"_aws"' in line:
            document = json.loads(line)
            for directive in document["_aws"]["CloudWatchMetrics"]:
                for dimensions in directive["Dimensions"]:
                    found.append((sorted(dimensions), document))
    return found


@pytest.mark.parametrize("case", list(NOT_HANDLED))
def test_an_event_type_not_handled_is_200_queues_nothing_and_is_counted_per_source_and_type(
    stack: Any, function_env: Any, lambda_context: Any, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    import importlib

    make, source, event_type = NOT_HANDLED[case]
    function_env("WebhookFunction")
    handler: Any = importlib.reload(importlib.import_module("webhook.app")).lambda_handler  # a cold start here
    capsys.readouterr()

    response = handler(make(), lambda_context)

    assert (response["statusCode"], json.loads(response["body"])) == (200, {"changeIds": [], "vendors": []})
    assert all(queue_depth(stack, function) == 0 for function in ("ExsalerateFunction", "CentraFunction"))
    metrics = emitted(capsys.readouterr().out)
    per_source = [d for dims, d in metrics if dims == ["service", "source"] and "WebhooksIgnored" in d]
    per_type = [d for dims, d in metrics if dims == ["event_type", "service", "source"]]
    assert [(d["source"], d["WebhooksIgnored"]) for d in per_source] == [(source, [1.0])]
    assert [(d["source"], d["event_type"], d["WebhooksIgnored"]) for d in per_type] == [(source, event_type, [1.0])]
    assert not [d for dims, d in metrics if "WebhooksAccepted" in d]


def test_a_hubspot_delivery_mixing_handled_and_not_handled_events_queues_the_handled(post: WebhookPost) -> None:
    event = sample_event("hubspot")
    event["body"] = json.dumps(documented("hubspot/docs-property-change-and-creation.json"))
    status, body = post(signed(event, WEBHOOK_SECRETS["hubspot"]))
    assert status == 202
    assert body["vendors"] == ALL_VENDORS and body["changeId"].startswith("hubspot:1246965:")


def test_a_path_that_is_no_source_is_still_404(post: WebhookPost) -> None:
    assert post(api_event("POST", "/webhooks/magento", "{}", {}, {"source": "magento"}))[0] == 404


# -- Shopify's guests ----------------------------------------------------------------------------------------
VENDORS = [pytest.param(name, marks=pytest.mark.vendor(name), id=name) for name in ALL_VENDORS]
GUEST = "706405506930370084"  # Shopify's documented customers/update sample: state "disabled"


@pytest.mark.parametrize("name", VENDORS)
def test_a_shopify_guest_customer_stays_active_at_every_vendor(
    vendor: VendorFlow, post: WebhookPost, name: str
) -> None:
    if name == "everlytic":
        vendor.simulator.seed_customer(9001, name="Biller Inc")
    active = {"key": GUEST, "company": "Biller Inc", "last_name": "Biller", "status": "active"}
    vendor.queue(change("erp-1", "2020-01-01T00:00:00Z", active, vendor_ids={"everlytic": "9001"}))
    vendor.pump()
    field = vendor.handler.runtime.connector_class.status_field

    status, _ = post(shopify_event(documented("shopify/customers-update.json"), "wh-guest", WEBHOOK_SECRETS["shopify"]))
    delivery = vendor.pump()

    assert status == 202 and (delivery.delivered, delivery.failed) == (1, 0)
    (record,) = vendor.simulator.records.values()
    assert "bob@biller.com" in json.dumps(record), "the guest's documented update reached the vendor"
    assert record.get(field, record.get(field[:1].lower() + field[1:])) == vendor.simulator.status_values["active"]
