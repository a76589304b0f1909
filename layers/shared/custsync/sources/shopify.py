"""Shopify ``customers/create`` and ``customers/update`` webhooks.

Signed with ``X-Shopify-Hmac-Sha256``: base64 of HMAC-SHA256 over the raw body
with the app's client secret. ``X-Shopify-Webhook-Id`` is the change id, so a
redelivered webhook deduplicates in the vendor queues and the state table.

Vendor-side ids travel as customer metafields in the ``customer_sync`` namespace
(include it in the webhook subscription's ``metafieldNamespaces``): key
``everlytic`` -> ``vendor_ids["everlytic"]``, ``expandable.contact`` ->
``vendor_ids["expandable.contact"]``, and so on.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from custsync.model import CustomerChange
from custsync.sources.base import (
    TimeWindow,
    WebhookRequest,
    from_base64,
    hmac_sha256,
    json_object,
    signed_by_any,
    signed_header,
    to_base64,
    utf8_keys,
)
from custsync.sources.errors import BadPayload, SignatureInvalid

SIGNATURE = "X-Shopify-Hmac-Sha256"
TOPICS = ("customers/create", "customers/update")
METAFIELD_NAMESPACE = "customer_sync"
STATUS_BY_STATE = {"enabled": "active", "invited": "active", "disabled": "inactive", "declined": "inactive"}


class ShopifyAddress(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)

    company: str | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    province: str | None = None
    zip: str | None = None
    country_code: str | None = None
    phone: str | None = None


class ShopifyMetafield(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)

    namespace: str
    key: str
    value: str | int


class ShopifyCustomer(BaseModel):
    """The part of Shopify's customer resource that customer-sync uses."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    id: int
    updated_at: datetime | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    state: str | None = None
    note: str | None = None
    tags: str | None = None
    default_address: ShopifyAddress | None = None
    metafields: list[ShopifyMetafield] = []


class ShopifySource:
    name = "shopify"

    def verify(self, request: WebhookRequest, secrets: Sequence[str], window: TimeWindow) -> None:
        sent = from_base64(signed_header(request, SIGNATURE))
        if not signed_by_any([sent], request.body, utf8_keys(secrets)):
            raise SignatureInvalid(f"{SIGNATURE}: signature does not match the body")

    def normalise(self, request: WebhookRequest) -> list[CustomerChange]:
        topic = request.header("X-Shopify-Topic")
        if topic not in TOPICS:
            raise BadPayload(f"X-Shopify-Topic: '{topic}' is not handled; send one of {', '.join(TOPICS)}")
        change_id = request.header("X-Shopify-Webhook-Id")
        if not change_id:
            raise BadPayload("X-Shopify-Webhook-Id: header is required")
        payload = json_object(request.json(), "a Shopify customer")
        shopify = ShopifyCustomer.model_validate(payload)
        occurred_at = shopify.updated_at or _triggered_at(request)
        change = CustomerChange.model_validate(
            {
                "change_id": change_id,
                "source": self.name,
                "occurred_at": occurred_at,
                "customer": self._customer(shopify, payload),
                "vendor_ids": {m.key: str(m.value) for m in shopify.metafields if m.namespace == METAFIELD_NAMESPACE},
            }
        )
        return [change]

    def sign(self, request: WebhookRequest, secret: str, now: float) -> dict[str, str]:
        return {SIGNATURE: sign(request.body, secret)}

    @staticmethod
    def _customer(shopify: ShopifyCustomer, payload: dict[str, Any]) -> dict[str, Any]:
        """Only what the payload carries: a key Shopify left out stays "not sent"."""
        customer: dict[str, Any] = {"key": str(shopify.id)}
        for ours, theirs in (
            ("first_name", "first_name"),
            ("last_name", "last_name"),
            ("email", "email"),
            ("notes", "note"),
        ):
            if theirs in payload:
                customer[ours] = getattr(shopify, theirs)
        if "state" in payload:
            customer["status"] = STATUS_BY_STATE.get(shopify.state or "")
        if "tags" in payload:
            customer["attributes"] = {"tags": shopify.tags or None}
        address = shopify.default_address
        if "default_address" in payload:
            customer["company"] = address.company if address else None
            customer["address"] = (
                {
                    "line1": address.address1,
                    "line2": address.address2,
                    "city": address.city,
                    "region": address.province,
                    "postal_code": address.zip,
                    "country": address.country_code,
                }
                if address
                else None
            )
        if "phone" in payload or (address and address.phone):
            customer["phones"] = {"main": shopify.phone or (address.phone if address else None)}
        return customer


def _triggered_at(request: WebhookRequest) -> str:
    value = request.header("X-Shopify-Triggered-At")
    if not value:
        raise BadPayload("updated_at: the customer has no updated_at and X-Shopify-Triggered-At is missing")
    return value


def sign(body: bytes, secret: str) -> str:
    """The ``X-Shopify-Hmac-Sha256`` value Shopify would send (for tests and the demo)."""
    return to_base64(hmac_sha256(secret.encode(), body))


SOURCE = ShopifySource()
