"""Stripe ``customer.created``, ``customer.updated`` and ``customer.deleted`` events.

Verification (Stripe's published scheme): ``Stripe-Signature: t=<unix>,v1=<hex>[,v1=...]``
where each ``v1`` is HMAC-SHA256, keyed with the endpoint's signing secret
(``whsec_...``, used whole), over ``"<t>.<raw body>"``. Other schemes (``v0``) are
ignored; several ``v1`` entries are normal while Stripe rolls a secret. ``t`` must
be inside the webhook's time window (``MAX_CLOCK_SKEW_SECONDS``, default 300:
Stripe's own five-minute tolerance). The change id and time come from the body,
so from what is signed.

The event ``id`` is the change id and ``created`` its time. ``customer.created``
is a FULL change; ``customer.updated`` is a PARTIAL change of only the fields that
``data.previous_attributes`` names (an update of fields customer-sync does not
carry queues nothing); ``customer.deleted`` is a deletion of that customer.
Every other event type is acknowledged (200, nothing queued, counted as
ignored): Stripe retries a refused event for days, and an endpoint usually
receives more types than it needs.

- Customer key: ``stripe:<cus_...>``.
- ``name`` is one free-text field at Stripe: it is split at its last space
  (``"Mary Ann Smith"`` -> first ``"Mary Ann"``, last ``"Smith"``); a single word
  is the last name (the one most vendors require).
- ``email``; ``phone`` -> ``phones.main``; ``address`` (the billing address;
  ``shipping`` is not carried) -> ``address``; ``state`` ("state, county, province,
  or region") -> ``region``, as its ISO 3166-2 code when it is the code or the name
  of one of the country's subdivisions (``custsync.geo``); ``country`` is Stripe's
  ISO alpha-2 code (anything else is a 400 naming the field). ``""`` clears.
- ``metadata`` -> ``attributes``, except ``customer_sync.<vendor>`` keys, which are
  vendor-side ids (``customer_sync.everlytic`` -> ``vendor_ids["everlytic"]``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from custsync.geo import region_code
from custsync.model import ChangeKind, CustomerChange
from custsync.secret_schema import SigningSecret
from custsync.sources.base import (
    Changes,
    TimeWindow,
    WebhookRequest,
    from_hex,
    hmac_sha256,
    json_object,
    signed_by_any,
    signed_header,
    split_vendor_ids,
    text_or_none,
    unix_time,
    utf8_keys,
)
from custsync.sources.errors import SignatureInvalid

SIGNATURE = "Stripe-Signature"
EVENT_TYPES: dict[str, ChangeKind] = {
    "customer.created": "update",
    "customer.updated": "update",
    "customer.deleted": "delete",
}
KEY_PREFIX = "stripe:"
ADDRESS_FIELDS = {"line1": "line1", "line2": "line2", "city": "city", "state": "region", "postal_code": "postal_code",
                  "country": "country"}  # fmt: skip
_NUMBER = re.compile(r"\d{1,12}")


class StripeEnvelope(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)

    id: str = Field(min_length=1)
    type: str


class StripeCustomer(BaseModel):
    """The part of Stripe's customer object that customer-sync uses."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    id: str = Field(min_length=1)
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    address: dict[str, str | None] | None = None
    metadata: dict[str, str] = {}


class CustomerEventData(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)

    object: StripeCustomer
    previous_attributes: dict[str, Any] | None = None


class CustomerEvent(StripeEnvelope):
    created: int = Field(ge=0, le=253_402_300_799)
    data: CustomerEventData


def _signature_parts(header: str) -> tuple[str, list[str]]:
    """``t`` and every ``v1`` of a ``Stripe-Signature`` header."""
    pairs = [item.strip().partition("=") for item in header.split(",")]
    timestamps = [value for key, _, value in pairs if key == "t"]
    signatures = [value for key, _, value in pairs if key == "v1"]
    if not timestamps or not _NUMBER.fullmatch(timestamps[0]):
        raise SignatureInvalid(f"{SIGNATURE}: has no t=<unix timestamp>")
    if not signatures:
        raise SignatureInvalid(f"{SIGNATURE}: has no v1 signature")
    return str(int(timestamps[0])), signatures


class StripeSource:
    name = "stripe"
    secret = SigningSecret("the endpoint's signing secret, whsec_...", "whsec_0123456789abcdef", r"whsec_\S+")

    def verify(self, request: WebhookRequest, secrets: Sequence[str], window: TimeWindow) -> None:
        timestamp, signatures = _signature_parts(signed_header(request, SIGNATURE))
        window.check(SIGNATURE, unix_time(SIGNATURE, timestamp))
        signed_payload = timestamp.encode() + b"." + request.body
        if not signed_by_any([from_hex(sent) for sent in signatures], signed_payload, utf8_keys(secrets)):
            raise SignatureInvalid(f"{SIGNATURE}: no v1 signature matches the body")

    def normalise(self, request: WebhookRequest) -> Changes:
        payload = json_object(request.json(), "a Stripe event")
        kind = EVENT_TYPES.get(event_type := StripeEnvelope.model_validate(payload).type)
        if kind is None:
            return Changes(ignored=[event_type])
        event = CustomerEvent.model_validate(payload)
        if kind == "delete":
            return Changes([self._change(event, {"key": f"{KEY_PREFIX}{event.data.object.id}"}, kind="delete")])
        changed = None if event.type == "customer.created" else event.data.previous_attributes or {}
        customer = customer_fields(event.data.object, changed)
        if len(customer) == 1:  # only the key: nothing customer-sync carries changed
            return Changes()
        _, vendor_ids = split_vendor_ids(event.data.object.metadata)
        return Changes([self._change(event, customer, vendor_ids=vendor_ids)])

    def _change(self, event: CustomerEvent, customer: dict[str, Any], **extra: Any) -> CustomerChange:
        return CustomerChange.model_validate(
            {"change_id": event.id, "source": self.name, "occurred_at": event.created, "customer": customer, **extra}
        )

    def sign(self, request: WebhookRequest, secret: str, now: float) -> dict[str, str]:
        timestamp = str(int(now))
        mac = hmac_sha256(secret.encode(), timestamp.encode() + b"." + request.body)
        return {SIGNATURE: f"t={timestamp},v1={mac.hex()}"}


def customer_fields(stripe: StripeCustomer, changed: dict[str, Any] | None) -> dict[str, Any]:
    """The canonical customer: every field when ``changed`` is None, else only those ``changed`` names."""

    def sent(field: str) -> bool:
        return changed is None or field in changed

    customer: dict[str, Any] = {"key": f"{KEY_PREFIX}{stripe.id}"}
    if sent("name"):
        customer["first_name"], customer["last_name"] = split_name(stripe.name)
    if sent("email"):
        customer["email"] = text_or_none(stripe.email)
    if sent("phone"):
        customer["phones"] = {"main": text_or_none(stripe.phone)}
    address = _address(stripe.address, _changed_keys(changed, "address"))
    if sent("address") and address != {}:
        customer["address"] = address
    if sent("metadata"):
        attributes, _ = split_vendor_ids(_only(stripe.metadata, _changed_keys(changed, "metadata")))
        if attributes:
            customer["attributes"] = {name: text_or_none(value) for name, value in attributes.items()}
    return customer


def _changed_keys(changed: dict[str, Any] | None, field: str) -> set[str] | None:
    """Which keys of a hash-valued field changed: those ``previous_attributes`` lists, or all (None)."""
    previous = (changed or {}).get(field)
    return set(previous) if isinstance(previous, dict) else None


def _only(values: dict[str, str], keys: set[str] | None) -> dict[str, str | None]:
    """``values`` limited to ``keys``; a key that is gone now (removed from the hash) clears."""
    if keys is None:
        return dict(values)
    return {key: values.get(key) for key in keys}


def _address(address: dict[str, str | None] | None, keys: set[str] | None) -> dict[str, Any] | None:
    if address is None:
        return None
    values = {theirs: text_or_none(address.get(theirs)) for theirs in ADDRESS_FIELDS}
    values["state"] = region_code(values["country"], values["state"])
    return {ours: values[theirs] for theirs, ours in ADDRESS_FIELDS.items() if keys is None or theirs in keys}


def split_name(name: str | None) -> tuple[str | None, str | None]:
    """Stripe's one ``name`` as (first, last), split at the last space; one word is the last name."""
    words = (name or "").split()
    if not words:
        return None, None
    return " ".join(words[:-1]) or None, words[-1]


SOURCE = StripeSource()
