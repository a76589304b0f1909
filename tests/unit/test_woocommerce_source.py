"""WooCommerce's X-WC-Webhook-Signature, its ping, and the customer resource.

WooCommerce publishes no client library that signs webhooks; ``woo_signature`` is
its PHP ``WC_Webhook::generate_signature`` line for line:
``base64_encode(hash_hmac('sha256', $payload, $secret, true))``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from pydantic import ValidationError

from custsync.model import CustomerChange
from custsync.sources import BadPayload, SignatureInvalid, TimeWindow, WebhookRequest
from custsync.sources.woocommerce import SOURCE

SECRET = "woo-webhook-secret"
URL = "https://hooks.example.com/prod/webhooks/woocommerce"
WINDOW = TimeWindow(now=time.time(), tolerance_seconds=300)
DELIVERY_ID = "8a3f5c1e2b7d9f4e6a0c3b5d7e9f1a2c"


def woo_signature(payload: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), payload, hashlib.sha256).digest()).decode()


def woo_customer(**overrides: Any) -> dict[str, Any]:
    customer: dict[str, Any] = {
        "id": 25,
        "date_created": "2026-11-19T10:00:00",
        "date_created_gmt": "2026-11-19T09:00:00",
        "date_modified": "2026-11-20T11:30:00",
        "date_modified_gmt": "2026-11-20T10:30:00",
        "email": "annie@example.com",
        "first_name": "Annie",
        "last_name": "Easley",
        "role": "customer",
        "username": "annie.easley",
        "billing": {
            "first_name": "Annie",
            "last_name": "Easley",
            "company": "Easley Computing",
            "address_1": "21000 Brookpark Rd",
            "address_2": "",
            "city": "Cleveland",
            "state": "OH",
            "postcode": "44135",
            "country": "US",
            "email": "billing@example.com",
            "phone": "+1 216 555 0160",
        },
        "shipping": {"first_name": "", "last_name": "", "company": "", "address_1": "", "address_2": "", "city": "",
                     "state": "", "postcode": "", "country": "", "phone": ""},
        "is_paying_customer": True,
        "avatar_url": "https://secure.gravatar.com/avatar/x",
        "meta_data": [
            {"id": 501, "key": "loyalty_tier", "value": "gold"},
            {"id": 502, "key": "preferences", "value": {"newsletter": True}},
            {"id": 503, "key": "customer_sync.everlytic", "value": "9006"},
        ],
        "_links": {"self": [{"href": "https://shop.example.com/wp-json/wc/v3/customers/25"}]},
    }  # fmt: skip
    customer.update(overrides)
    return customer


def woo_request(payload: Any, *, topic: str = "customer.updated", secret: str = SECRET, **extra: str) -> WebhookRequest:
    body = json.dumps(payload, separators=(",", ":")).encode()  # wp_json_encode: no spaces
    headers = {
        "Content-Type": "application/json",
        "X-WC-Webhook-Source": "https://shop.example.com/",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": "customer",
        "X-WC-Webhook-Event": topic.split(".")[1],
        "X-WC-Webhook-Signature": woo_signature(body, secret),
        "X-WC-Webhook-ID": "7",
        "X-WC-Webhook-Delivery-ID": DELIVERY_ID,
        **extra,
    }
    return WebhookRequest("POST", URL, headers, body)


def ping(headers: dict[str, str] | None = None) -> WebhookRequest:
    return WebhookRequest(
        "POST", URL, headers or {"Content-Type": "application/x-www-form-urlencoded"}, b"webhook_id=7"
    )


def normalise(payload: Any, **kwargs: Any) -> CustomerChange:
    (change,) = SOURCE.normalise(woo_request(payload, **kwargs))
    return change


# -- verification --------------------------------------------------------------------------------


def test_a_delivery_signed_as_woocommerce_signs_verifies() -> None:
    SOURCE.verify(woo_request(woo_customer()), [SECRET], WINDOW)
    request = woo_request(woo_customer())
    assert SOURCE.sign(request, SECRET, 0) == {"X-WC-Webhook-Signature": request.headers["X-WC-Webhook-Signature"]}


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (woo_request(woo_customer(), secret="another-secret"), "does not match the body"),
        (WebhookRequest("POST", URL, woo_request(woo_customer()).headers, b"{}"), "does not match the body"),
        (WebhookRequest("POST", URL, {"X-WC-Webhook-Topic": "customer.updated"}, b"{}"), "header is missing"),
        (ping({"X-WC-Webhook-Signature": woo_signature(b"webhook_id=7", "another-secret")}), "does not match"),
    ],
    ids=["wrong-secret", "tampered", "unsigned", "badly-signed-ping"],
)
def test_a_delivery_not_signed_with_the_secret_is_refused(request_: WebhookRequest, message: str) -> None:
    with pytest.raises(SignatureInvalid, match=message):
        SOURCE.verify(request_, [SECRET], WINDOW)


def test_during_a_rotation_either_secret_verifies() -> None:
    for secret in ("new-secret", SECRET):
        SOURCE.verify(woo_request(woo_customer(), secret=secret), ["new-secret", SECRET], WINDOW)
    with pytest.raises(SignatureInvalid):
        SOURCE.verify(woo_request(woo_customer()), ["new-secret"], WINDOW)


def test_the_unsigned_ping_is_accepted_and_queues_nothing() -> None:
    SOURCE.verify(ping(), [SECRET], WINDOW)
    assert (SOURCE.normalise(ping()), SOURCE.normalise(ping()).ignored) == ([], ["ping"])
    assert SOURCE.sign(ping(), SECRET, 0) == {}, "WooCommerce sends its ping unsigned"


def test_a_ping_lookalike_body_is_not_a_ping() -> None:
    with pytest.raises(SignatureInvalid, match="header is missing"):
        SOURCE.verify(WebhookRequest("POST", URL, {}, b"webhook_id=7&x=1"), [SECRET], WINDOW)


# -- mapping -------------------------------------------------------------------------------------


def test_a_customer_is_a_full_change_from_its_billing_details() -> None:
    change = normalise(woo_customer())
    assert change.source == "woocommerce"
    assert change.occurred_at.isoformat() == "2026-11-20T10:30:00+00:00"
    assert change.change_id.startswith("woocommerce:25:")
    customer = change.customer
    assert customer.key == "woocommerce:25"
    assert (customer.first_name, customer.last_name, customer.email) == ("Annie", "Easley", "annie@example.com")
    assert customer.company == "Easley Computing"
    assert customer.phones is not None and customer.phones.main == "+1 216 555 0160"
    assert customer.address is not None
    assert (customer.address.line1, customer.address.line2, customer.address.city) == (
        "21000 Brookpark Rd",
        None,
        "Cleveland",
    )
    assert (customer.address.region, customer.address.postal_code, customer.address.country) == (
        "US-OH",
        "44135",
        "US",
    )
    assert customer.attributes == {"loyalty_tier": "gold", "preferences": '{"newsletter":true}'}
    assert change.vendor_ids == {"everlytic": "9006"}


def test_empty_fields_clear_and_the_billing_names_stand_in() -> None:
    change = normalise(
        woo_customer(first_name="", last_name="", billing={"first_name": "A", "last_name": "E", "phone": ""})
    )
    customer = change.customer
    assert (customer.first_name, customer.last_name) == ("A", "E")
    assert {"company", "phones", "address"} <= customer.model_fields_set
    assert customer.company is None and customer.phones is not None and customer.phones.main is None


def test_a_new_customer_takes_its_creation_time() -> None:
    change = normalise(woo_customer(date_modified_gmt=None), topic="customer.created")
    assert change.occurred_at.isoformat() == "2026-11-19T09:00:00+00:00"


def test_two_customers_in_one_second_get_different_change_ids_and_a_redelivery_the_same() -> None:
    first, second = normalise(woo_customer()), normalise(woo_customer(id=26))
    assert first.change_id != second.change_id  # WooCommerce's delivery id is per webhook and second
    assert normalise(woo_customer()).change_id == first.change_id


@pytest.mark.parametrize("delivery_id", ["another-delivery", ""])
def test_a_redelivered_body_is_the_same_change_whatever_its_unsigned_delivery_id(delivery_id: str) -> None:
    """WooCommerce signs the body alone: a captured body sent again with a fresh X-WC-Webhook-Delivery-ID (or
    none) is the change it was."""
    first = normalise(woo_customer())
    again = normalise(woo_customer(), **{"X-WC-Webhook-Delivery-ID": delivery_id})
    assert again.change_id == first.change_id


@pytest.mark.parametrize("topic", ["order.created", "product.deleted", "action.woocommerce_new_order"])
def test_a_topic_not_handled_is_acknowledged_and_named_as_ignored(topic: str) -> None:
    changes = SOURCE.normalise(woo_request({"id": 1}, topic=topic))
    assert (changes, changes.ignored) == ([], [topic])


def test_a_deleted_customer_is_a_deletion_of_its_key_when_it_arrived() -> None:
    request = woo_request({"id": 25}, topic="customer.deleted")
    (change,) = SOURCE.normalise(
        WebhookRequest(request.method, request.url, request.headers, request.body, received_at=1.8e9)
    )
    assert (change.kind, change.customer.key, change.customer.model_fields_set) == ("delete", "woocommerce:25", {"key"})
    assert change.occurred_at.timestamp() == 1.8e9
    assert change.change_id.startswith("woocommerce:25:")


def test_an_invalid_field_is_named() -> None:
    with pytest.raises(ValidationError, match=r"customer\.email"):
        normalise(woo_customer(email="not-an-email"))
    with pytest.raises(BadPayload, match="date_modified_gmt"):
        normalise(woo_customer(date_modified_gmt=None, date_created_gmt=None))
