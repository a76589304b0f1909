"""Shopify customer webhooks: ``customers/create`` and ``customers/update`` (updates), ``customers/delete`` (a
deletion) and the mandatory compliance topic ``customers/redact`` (an erasure). Every other topic
(``customers/enable``, ``customers/disable``, ``customers/data_request``, ``shop/redact``, orders...) is
acknowledged with nothing queued: Shopify retries a refused delivery and then removes the subscription.

Signed with ``X-Shopify-Hmac-Sha256``: base64 of HMAC-SHA256 over the raw body
with the app's client secret. Only the body is signed: ``X-Shopify-Webhook-Id``,
``X-Shopify-Topic`` and ``X-Shopify-Triggered-At`` are whatever whoever sends the
body says. So the change id is ``shopify:<customer id>:<digest of topic and body>``:
a redelivered body is the same change, deduplicated in the vendor queues and the
state table, whatever delivery id it comes with (only a topic in ``TOPICS`` makes
a change, so one body makes at most one id per topic). Its time is the body's
``updated_at``; only when the body has none, ``X-Shopify-Triggered-At``, which
the webhook bounds like every change's time (never later than now plus
``MAX_CLOCK_SKEW_SECONDS``).

Field meaning is Shopify's (https://shopify.dev/docs/api/admin-rest/latest/resources/customer):

- ``state`` is the state of the customer's *login account* (``disabled``, the default, means the customer has no
  account: a guest; ``invited``, ``enabled``, ``declined``), not whether the customer is active
  (https://shopify.dev/docs/api/admin-graphql/latest/enums/CustomerState). It is not read, and nothing Shopify
  sends sets the canonical ``status``: ``customers/disable`` and ``customers/enable`` are that login account being
  disabled or enabled (classic customer accounts only), and a deleted customer is a ``customers/delete``.
- ``phone`` is the customer's own phone (E.164); the default address's ``phone`` ("the phone number at this
  address") stands in when the customer has none. Numbers pass as Shopify sends them.
- ``default_address``: ``company`` is the canonical company; ``province_code`` with ``country_code`` give the
  region's ISO 3166-2 code (``custsync.geo``), ``province`` is the fallback text.
- ``tags`` (comma-separated) -> ``attributes["tags"]``; ``note`` -> ``notes``.
- ``""`` clears, as everywhere: Shopify sends ``"address2": ""`` for an empty line.
- ``customers/delete`` carries the id alone and ``customers/redact`` the customer's ``id`` (with email and phone,
  not read); neither has a time of its own, so ``X-Shopify-Triggered-At`` is theirs, else the time received.

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

from custsync.geo import region_code
from custsync.model import ChangeKind, CustomerChange
from custsync.secret_schema import SigningSecret
from custsync.sources.base import (
    Changes,
    TimeWindow,
    WebhookRequest,
    digest,
    from_base64,
    hmac_sha256,
    json_object,
    signed_by_any,
    signed_header,
    text_or_none,
    to_base64,
    utf8_keys,
)
from custsync.sources.errors import BadPayload, SignatureInvalid

SIGNATURE = "X-Shopify-Hmac-Sha256"
TOPIC = "X-Shopify-Topic"
# The topics customer-sync handles, and the kind of change each is.
TOPICS: dict[str, ChangeKind] = {
    "customers/create": "update",
    "customers/update": "update",
    "customers/delete": "delete",
    "customers/redact": "erase",
}
METAFIELD_NAMESPACE = "customer_sync"


class ShopifyAddress(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)

    company: str | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    province: str | None = None
    province_code: str | None = None
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
    note: str | None = None
    tags: str | None = None
    default_address: ShopifyAddress | None = None
    metafields: list[ShopifyMetafield] = []


class RedactedCustomer(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)

    id: int


class RedactRequest(BaseModel):
    """``customers/redact``: which customer's data to remove (its orders are not customer-sync's)."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    customer: RedactedCustomer


class ShopifySource:
    name = "shopify"
    secret = SigningSecret("the app's client secret (the app's API credentials in Shopify)", "shpss_0123456789abcdef")

    def verify(self, request: WebhookRequest, secrets: Sequence[str], window: TimeWindow) -> None:
        sent = from_base64(signed_header(request, SIGNATURE))
        if not signed_by_any([sent], request.body, utf8_keys(secrets)):
            raise SignatureInvalid(f"{SIGNATURE}: signature does not match the body")

    def normalise(self, request: WebhookRequest) -> Changes:
        topic = request.header(TOPIC) or ""
        kind = TOPICS.get(topic)
        if kind is None:
            return Changes(ignored=[topic or "(no topic)"])
        payload = json_object(request.json(), "a Shopify customer")
        if kind == "erase":
            redacted = RedactRequest.model_validate(payload).customer
            return Changes([self._lifecycle(request, topic, kind, redacted.id)])
        shopify = ShopifyCustomer.model_validate(payload)
        if kind == "delete":
            return Changes([self._lifecycle(request, topic, kind, shopify.id)])
        change = CustomerChange.model_validate(
            {
                "change_id": _change_id(topic, request, shopify.id),
                "source": self.name,
                "occurred_at": shopify.updated_at or _triggered_at(request),
                "customer": self._customer(shopify, payload),
                "vendor_ids": {m.key: str(m.value) for m in shopify.metafields if m.namespace == METAFIELD_NAMESPACE},
            }
        )
        return Changes([change])

    def _lifecycle(self, request: WebhookRequest, topic: str, kind: ChangeKind, customer_id: int) -> CustomerChange:
        """A deletion or erasure: the key alone, at the time Shopify triggered it (else when it arrived)."""
        return CustomerChange.model_validate(
            {
                "change_id": _change_id(topic, request, customer_id),
                "source": self.name,
                "occurred_at": request.header("X-Shopify-Triggered-At") or request.received_at,
                "kind": kind,
                "customer": {"key": str(customer_id)},
            }
        )

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
                customer[ours] = text_or_none(getattr(shopify, theirs))
        if "tags" in payload:
            customer["attributes"] = {"tags": text_or_none(shopify.tags)}
        address = shopify.default_address
        if "default_address" in payload:
            customer["company"] = text_or_none(address.company) if address else None
            customer["address"] = _address(address) if address else None
        address_phone = text_or_none(address.phone) if address else None
        if "phone" in payload or address_phone:
            customer["phones"] = {"main": text_or_none(shopify.phone) or address_phone}
        return customer


def _address(address: ShopifyAddress) -> dict[str, Any]:
    country = text_or_none(address.country_code)
    return {
        "line1": text_or_none(address.address1),
        "line2": text_or_none(address.address2),
        "city": text_or_none(address.city),
        "region": region_code(country, text_or_none(address.province), text_or_none(address.province_code)),
        "postal_code": text_or_none(address.zip),
        "country": country,
    }


def _change_id(topic: str, request: WebhookRequest, customer_id: int) -> str:
    """Only the body is signed: the same body is the same change, whatever delivery id it comes with."""
    return f"shopify:{customer_id}:{digest(topic, request.body, length=32)}"


def _triggered_at(request: WebhookRequest) -> str:
    value = request.header("X-Shopify-Triggered-At")
    if not value:
        raise BadPayload("updated_at: the customer has no updated_at and X-Shopify-Triggered-At is missing")
    return value


def sign(body: bytes, secret: str) -> str:
    """The ``X-Shopify-Hmac-Sha256`` value Shopify would send (for tests and the demo)."""
    return to_base64(hmac_sha256(secret.encode(), body))


SOURCE = ShopifySource()
