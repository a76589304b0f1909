"""WooCommerce ``customer.created``, ``customer.updated`` and ``customer.deleted`` webhooks.

Verification (WooCommerce's ``WC_Webhook::generate_signature``):
``X-WC-Webhook-Signature`` is base64 of HMAC-SHA256 over the raw body, keyed with
the webhook's secret. There is no timestamp to check.

When a webhook is created (or re-activated) WooCommerce first POSTs a ping: the
form-encoded body ``webhook_id=<n>``, sent without signature headers, and it
keeps the webhook only if the answer is exactly 200. The ping is recognised by
its raw body alone, nothing is parsed or trusted, and it is answered 200 with
nothing queued; a signed ping is checked like any delivery.

The payload is the whole customer (REST API shape), so each delivery is a FULL
change: an empty field clears. Its time is ``date_modified_gmt`` (or
``date_created_gmt`` for a customer never modified), in UTC.

Field meaning is WooCommerce's (REST API "Customer properties",
https://woocommerce.github.io/woocommerce-rest-api-docs/#customer-properties).

- Customer key: ``woocommerce:<id>``.
- Change id: ``woocommerce:<id>:<digest of topic and body>``. Only the body is
  signed: ``X-WC-Webhook-Delivery-ID`` (and the topic) are whatever whoever sends
  the body says, so a redelivered body is the same change whatever delivery id
  it comes with (and WooCommerce derives that id from the webhook's id and the
  current second only, so two customers saved in the same second share it).
  The time comes from the body too.
- ``email``, ``first_name``/``last_name`` (the billing names when the account
  has none); the billing address is the canonical address (it is the one
  invoices use; the shipping address is not carried), with ``company`` and
  ``phone`` -> ``phones.main`` from billing; ``state`` ("ISO code or name of the
  state, province or district") -> ``region``, as its ISO 3166-2 code when it is
  one of the country's (``custsync.geo``); ``country`` is WooCommerce's ISO
  alpha-2 code.
- ``meta_data`` -> ``attributes`` (structured values as JSON text), except
  ``customer_sync.<vendor>`` keys, which are vendor-side ids.
- ``customer.deleted`` carries ``{"id": <id>}`` alone (``WC_Webhook::build_payload``):
  a deletion of that customer, at the time it arrived (WooCommerce sends no time).
- Other topics (orders, products, ...) are acknowledged with nothing queued and
  counted as ignored: WooCommerce disables a webhook whose deliveries keep failing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

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
    split_vendor_ids,
    text_or_none,
    to_base64,
    utf8_keys,
)
from custsync.sources.errors import BadPayload, SignatureInvalid

SIGNATURE = "X-WC-Webhook-Signature"
TOPIC = "X-WC-Webhook-Topic"
TOPICS: dict[str, ChangeKind] = {
    "customer.created": "update",
    "customer.updated": "update",
    "customer.deleted": "delete",
}
KEY_PREFIX = "woocommerce:"
PING = re.compile(rb"webhook_id=\d{1,20}")


class WooAddress(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)

    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    address_1: str | None = None
    address_2: str | None = None
    city: str | None = None
    state: str | None = None
    postcode: str | None = None
    country: str | None = None
    phone: str | None = None


class DeletedResource(BaseModel):
    """What WooCommerce sends for a deleted resource: its id."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    id: int = Field(ge=1)


class WooMeta(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)

    key: str
    value: Any = None


class WooCustomer(BaseModel):
    """The part of WooCommerce's customer resource that customer-sync uses."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    id: int = Field(ge=1)
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    date_created_gmt: datetime | None = None
    date_modified_gmt: datetime | None = None
    billing: WooAddress = Field(default_factory=WooAddress)
    meta_data: list[WooMeta] = []


def is_ping(request: WebhookRequest) -> bool:
    return PING.fullmatch(request.body) is not None


class WooCommerceSource:
    name = "woocommerce"
    secret = SigningSecret("the webhook's secret (WooCommerce: Settings > Advanced > Webhooks)", "0123456789abcdef")

    def verify(self, request: WebhookRequest, secrets: Sequence[str], window: TimeWindow) -> None:
        if is_ping(request) and request.header(SIGNATURE) is None:
            return  # WooCommerce sends its ping unsigned; it queues nothing
        sent = from_base64(signed_header(request, SIGNATURE))
        if not signed_by_any([sent], request.body, utf8_keys(secrets)):
            raise SignatureInvalid(f"{SIGNATURE}: signature does not match the body")

    def normalise(self, request: WebhookRequest) -> Changes:
        if is_ping(request):
            return Changes(ignored=["ping"])
        topic = request.header(TOPIC) or ""
        kind = TOPICS.get(topic)
        if kind is None:
            return Changes(ignored=[topic or "(no topic)"])
        payload = json_object(request.json(), "a WooCommerce customer")
        if kind == "delete":
            deleted = DeletedResource.model_validate(payload)
            return Changes(
                [
                    CustomerChange.model_validate(
                        {
                            "change_id": _change_id(topic, request, deleted.id),
                            "source": self.name,
                            "occurred_at": request.received_at,
                            "kind": kind,
                            "customer": {"key": f"{KEY_PREFIX}{deleted.id}"},
                        }
                    )
                ]
            )
        woo = WooCustomer.model_validate(payload)
        attributes, vendor_ids = split_vendor_ids({meta.key: meta.value for meta in woo.meta_data})
        change = CustomerChange.model_validate(
            {
                "change_id": _change_id(topic, request, woo.id),
                "source": self.name,
                "occurred_at": _occurred_at(woo),
                "customer": _customer(woo, attributes),
                "vendor_ids": vendor_ids,
            }
        )
        return Changes([change])

    def sign(self, request: WebhookRequest, secret: str, now: float) -> dict[str, str]:
        if is_ping(request):
            return {}  # as WooCommerce sends it
        return {SIGNATURE: to_base64(hmac_sha256(secret.encode(), request.body))}


def _change_id(topic: str, request: WebhookRequest, customer_id: int) -> str:
    """Only the body is signed: the same body is the same change, whatever delivery id it comes with."""
    return f"{KEY_PREFIX}{customer_id}:{digest(topic, request.body, length=32)}"


def _occurred_at(woo: WooCustomer) -> datetime:
    moment = woo.date_modified_gmt or woo.date_created_gmt
    if moment is None:
        raise BadPayload("date_modified_gmt: the customer has neither date_modified_gmt nor date_created_gmt")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # *_gmt carry no offset: they are UTC


def _customer(woo: WooCustomer, attributes: dict[str, Any]) -> dict[str, Any]:
    billing = woo.billing
    customer: dict[str, Any] = {
        "key": f"{KEY_PREFIX}{woo.id}",
        "first_name": text_or_none(woo.first_name) or text_or_none(billing.first_name),
        "last_name": text_or_none(woo.last_name) or text_or_none(billing.last_name),
        "email": text_or_none(woo.email),
        "company": text_or_none(billing.company),
        "phones": {"main": text_or_none(billing.phone)},
        "address": {
            "line1": text_or_none(billing.address_1),
            "line2": text_or_none(billing.address_2),
            "city": text_or_none(billing.city),
            "region": region_code(text_or_none(billing.country), text_or_none(billing.state)),
            "postal_code": text_or_none(billing.postcode),
            "country": text_or_none(billing.country),
        },
    }
    if attributes:
        customer["attributes"] = {name: text_or_none(value) for name, value in attributes.items()}
    return customer


SOURCE = WooCommerceSource()
