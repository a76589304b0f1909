"""HubSpot (the CRM): contact property-change webhooks, signed with signature v3.

Verification (HubSpot's published v3 algorithm): ``X-HubSpot-Signature-v3`` is
base64 of HMAC-SHA256, keyed with the app's client secret, over ``method + URI +
raw body + X-HubSpot-Request-Timestamp`` (milliseconds). The URI is the full URL
HubSpot called, with ``%3A %2F %3F %40 %21 %24 %27 %28 %29 %2A %2C %3B`` decoded
(HubSpot signs the decoded form). The timestamp must be inside the webhook's
time window (``MAX_CLOCK_SKEW_SECONDS``, default 300: HubSpot's own five minutes).
Change ids and times come from the body, so from what is signed.

A delivery is a JSON array of events, possibly for several contacts. Used:
``contact.propertyChange`` (and the generic ``object.propertyChange`` of object
type ``0-1``, contacts) as updates, ``contact.deletion`` (``object.deletion`` of a
contact) as a deletion and ``contact.privacyDeletion`` (a GDPR-compliant deletion:
remove everything held of the contact) as an erasure. HubSpot sends a
``contact.deletion`` with every ``contact.privacyDeletion``; at one instant the
deletion is queued first. Other events (``contact.creation``, which carries no
property: the new contact's properties come as property changes; merges, restores,
other objects) are acknowledged and counted as ignored, so they never make HubSpot
retry the contact changes delivered with them.
(https://developers.hubspot.com/docs/api/webhooks, and the changelog
"Webhooks now support privacy-compliant contact deletions".)

One change per contact per instant: the events of one delivery for the same
contact and the same ``occurredAt`` (one edit: a form, an import row, the
contact's creation) become one PARTIAL change carrying only those properties
(the highest ``eventId`` wins when one property appears twice); events at
different instants stay separate changes. So every field keeps its own true
time, and the state table's per-field (occurred_at, change_id) ordering loses
nothing, while a new contact's first properties still arrive together (a vendor
that needs a name gets it with the email). Changes are queued oldest first.

- Customer key: ``hubspot:<objectId>`` (prefixed: HubSpot contact ids and
  other sources' ids are both small integers and must not meet in the state table).
- Change id: ``hubspot:<objectId>:<occurredAt>:<digest of eventId/propertyName>``.
  HubSpot documents ``eventId`` as "not guaranteed to be unique", and the FIFO
  queues deduplicate across customers, so the id names the contact and instant too.
- Properties: ``firstname``, ``lastname``, ``email``, ``company``, ``website``,
  ``phone``/``mobilephone``/``fax`` (phones), ``address``/``city``/``state``/``zip``
  (address); ``country`` ("Country/Region") is a free-text property in HubSpot: its
  value always goes to ``attributes["country"]``, and to ``address.country`` as the
  ISO alpha-2 code of the country it names (``SE``, ``SWE`` or ``Sweden``; any other
  text clears ``address.country`` rather than leave a stale code, and never refuses
  the delivery). ``state`` ("State/Region", free text too) is the region: its ISO
  3166-2 code when the same change names the country and the text names one of its
  subdivisions, else the text. ``customer_sync_<vendor>``
  properties are vendor-side ids, the first ``_`` after the vendor being a dot
  (``customer_sync_expandable_contact`` -> ``vendor_ids["expandable.contact"]``).
  Any other property (``lifecyclestage``, ``hs_lead_status``, custom ones) goes to
  ``attributes`` under its HubSpot name. A ``propertyValue`` of ``""`` clears.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import groupby
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from custsync.geo import country_code, region_code
from custsync.model import ChangeKind, CustomerChange
from custsync.secret_schema import SigningSecret
from custsync.sources.base import (
    Changes,
    TimeWindow,
    WebhookRequest,
    digest,
    from_base64,
    hmac_sha256,
    signed_by_any,
    signed_header,
    split_vendor_ids,
    text_or_none,
    to_base64,
    unix_time,
    utf8_keys,
)
from custsync.sources.errors import BadPayload, SignatureInvalid

SIGNATURE = "X-HubSpot-Signature-v3"
TIMESTAMP = "X-HubSpot-Request-Timestamp"
KEY_PREFIX = "hubspot:"
VENDOR_ID_PREFIX = "customer_sync_"
CONTACT_OBJECT_TYPE = "0-1"
_DECODED = {"3A": ":", "2F": "/", "3F": "?", "40": "@", "21": "!", "24": "$", "27": "'", "28": "(", "29": ")",
            "2A": "*", "2C": ",", "3B": ";"}  # fmt: skip
_ENCODED = re.compile(r"%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)", re.IGNORECASE)
# The contact events used, and the kind of change each is; the generic ``object.*`` ones of object type 0-1 alike.
KINDS: dict[str, ChangeKind] = {
    "propertyChange": "update",
    "deletion": "delete",
    "privacyDeletion": "erase",
}
# At one instant, one contact's updates, then its deletion, then its erasure.
_KIND_ORDER = {"update": 0, "delete": 1, "erase": 2}
# HubSpot property -> canonical field path.
FIELDS: dict[str, tuple[str, ...]] = {
    "firstname": ("first_name",),
    "lastname": ("last_name",),
    "email": ("email",),
    "company": ("company",),
    "website": ("website",),
    "phone": ("phones", "main"),
    "mobilephone": ("phones", "mobile"),
    "fax": ("phones", "fax"),
    "address": ("address", "line1"),
    "city": ("address", "city"),
    "state": ("address", "region"),
    "zip": ("address", "postal_code"),
}
MAX_MILLISECONDS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z


class ContactEvent(BaseModel):
    """One contact event, as HubSpot names its fields."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True, defer_build=True)

    eventId: int
    objectId: int = Field(ge=1)
    occurredAt: int = Field(ge=0, le=MAX_MILLISECONDS)


class ContactPropertyChange(ContactEvent):
    """One ``contact.propertyChange`` event."""

    propertyName: str = Field(min_length=1)
    propertyValue: str | None = None


_PROPERTY_CHANGES = TypeAdapter(dict[int, ContactPropertyChange])  # keyed by the event's index in the delivery
_CONTACT_EVENTS = TypeAdapter(dict[int, ContactEvent])


def signed_uri(url: str) -> str:
    """The URL as HubSpot signs it: the characters it lists decoded."""
    return _ENCODED.sub(lambda match: _DECODED[match.group(1).upper()], url)


def _signed_content(request: WebhookRequest, timestamp: str) -> bytes:
    return request.method.encode() + signed_uri(request.url).encode() + request.body + timestamp.encode()


class HubSpotSource:
    name = "hubspot"
    secret = SigningSecret(
        "the app's client secret (the app's Auth settings in HubSpot)", "0123abcd-4567-89ef-0123-456789abcdef"
    )

    def verify(self, request: WebhookRequest, secrets: Sequence[str], window: TimeWindow) -> None:
        sent = from_base64(signed_header(request, SIGNATURE))
        timestamp = signed_header(request, TIMESTAMP)
        window.check(TIMESTAMP, unix_time(TIMESTAMP, timestamp, per_second=1000))
        if not signed_by_any([sent], _signed_content(request, timestamp), utf8_keys(secrets)):
            raise SignatureInvalid(f"{SIGNATURE}: signature does not match the request")

    def normalise(self, request: WebhookRequest) -> Changes:
        payload = request.json()
        if not isinstance(payload, list):
            raise BadPayload("body: must be a JSON array of HubSpot events")
        kinds = {index: _kind_of(event) for index, event in enumerate(payload)}
        updates = _PROPERTY_CHANGES.validate_python(
            {index: event for index, event in enumerate(payload) if kinds[index] == "update"}
        ).values()
        ordered = sorted(updates, key=lambda event: (event.objectId, event.occurredAt, event.eventId))
        changes = [
            self._change(contact, occurred_ms, list(group))
            for (contact, occurred_ms), group in groupby(ordered, key=lambda event: (event.objectId, event.occurredAt))
        ]
        lifecycle = {index: kind for index, kind in kinds.items() if kind is not None and kind != "update"}
        events = _CONTACT_EVENTS.validate_python({index: payload[index] for index in lifecycle})
        for index, event in events.items():
            changes.append(self._lifecycle(event, lifecycle[index], _subscription_type(payload[index])))
        ignored = [_type_of(event) for index, event in enumerate(payload) if kinds[index] is None]
        ordered_changes = sorted(changes, key=lambda c: (c.occurred_at, _KIND_ORDER[c.kind], c.change_id))
        return Changes(ordered_changes, ignored=ignored)

    def sign(self, request: WebhookRequest, secret: str, now: float) -> dict[str, str]:
        timestamp = str(int(now * 1000))
        return {
            TIMESTAMP: timestamp,
            SIGNATURE: to_base64(hmac_sha256(secret.encode(), _signed_content(request, timestamp))),
        }

    def _lifecycle(self, event: ContactEvent, kind: ChangeKind, subscription_type: str) -> CustomerChange:
        """A contact's deletion or erasure: its key alone, at the event's time."""
        identity = digest(f"{event.eventId}/{subscription_type}")
        return CustomerChange.model_validate(
            {
                "change_id": f"{KEY_PREFIX}{event.objectId}:{event.occurredAt}:{identity}",
                "source": self.name,
                "occurred_at": datetime.fromtimestamp(event.occurredAt / 1000, UTC),
                "kind": kind,
                "customer": {"key": f"{KEY_PREFIX}{event.objectId}"},
            }
        )

    def _change(self, contact: int, occurred_ms: int, events: list[ContactPropertyChange]) -> CustomerChange:
        properties = {event.propertyName: event.propertyValue for event in events}  # the highest eventId last: wins
        fields, vendor_ids = split_vendor_ids(properties, VENDOR_ID_PREFIX)
        identity = digest(*(f"{event.eventId}/{event.propertyName}" for event in events))
        return CustomerChange.model_validate(
            {
                "change_id": f"{KEY_PREFIX}{contact}:{occurred_ms}:{identity}",
                "source": self.name,
                "occurred_at": datetime.fromtimestamp(occurred_ms / 1000, UTC),
                "customer": customer_fields(f"{KEY_PREFIX}{contact}", fields),
                "vendor_ids": {name.replace("_", ".", 1): value for name, value in vendor_ids.items()},
            }
        )


def _subscription_type(event: dict[str, Any]) -> str:
    # HubSpot's own example payloads name the field eventType in some versions of its docs.
    return str(event.get("subscriptionType") or event.get("eventType") or "")


def _kind_of(event: Any) -> ChangeKind | None:
    """The kind of change a contact event is, or None for an event not handled (another object, a creation...)."""
    if not isinstance(event, dict):
        return None
    object_type, _, action = _subscription_type(event).partition(".")
    generic = object_type == "object" and event.get("objectTypeId") == CONTACT_OBJECT_TYPE
    if object_type == "contact" or (generic and action != "privacyDeletion"):
        return KINDS.get(action)
    return None


def _type_of(event: Any) -> str:
    """An ignored event's type, for the count of what was ignored."""
    return (_subscription_type(event) if isinstance(event, dict) else "") or "(not an event)"


def customer_fields(key: str, properties: dict[str, Any]) -> dict[str, Any]:
    """The partial canonical customer that these HubSpot property values make."""
    customer: dict[str, Any] = {"key": key}
    attributes: dict[str, str | None] = {}
    for name, raw in properties.items():
        value = text_or_none(raw)
        path = FIELDS.get(name)
        if name == "country":
            attributes["country"] = value
            customer.setdefault("address", {})["country"] = country_code(value)
        elif path is None:
            attributes[name] = value
        elif len(path) == 1:
            customer[path[0]] = value
        else:
            customer.setdefault(path[0], {})[path[1]] = value
    address = customer.get("address", {})
    if address.get("region") and address.get("country"):
        address["region"] = region_code(address["country"], address["region"])
    if attributes:
        customer["attributes"] = attributes
    return customer


SOURCE = HubSpotSource()
