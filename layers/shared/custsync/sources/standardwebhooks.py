"""Standard Webhooks (https://www.standardwebhooks.com), for in-house systems.

Verification (the specification's symmetric scheme): ``webhook-signature`` holds
space-separated ``v1,<base64>`` entries, each HMAC-SHA256 over
``"<webhook-id>.<webhook-timestamp>.<raw body>"`` keyed with the secret's bytes
(secrets are written ``whsec_<base64 key>``); other versions (``v1a``,
asymmetric) are ignored. ``webhook-timestamp`` (unix seconds) must be inside the
webhook's time window (``MAX_CLOCK_SKEW_SECONDS``, default 300: the
specification's own five minutes). ``webhook-id`` and ``webhook-timestamp`` are
signed with the body, so the change ids and times below are all signed.

The body is a canonical ``CustomerChange`` (as queued, see
``schemas/customer-change.json``: its own change id, time and vendor ids), or a
bare canonical ``Customer``, which becomes a PARTIAL change of the fields it
sends, with ``webhook-id`` as change id and ``webhook-timestamp`` as its time. A
``CustomerChange`` of kind ``delete`` or ``erase`` (the key alone) is a deletion or
an erasure, as from any other source.
Keys are taken as sent: an in-house system should prefix its own (``erp:42``)
so that they never meet another source's.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import UTC, datetime

from custsync.errors import ConfigurationError
from custsync.model import Customer, CustomerChange
from custsync.secret_schema import SigningSecret
from custsync.sources.base import (
    Changes,
    TimeWindow,
    WebhookRequest,
    from_base64,
    hmac_sha256,
    json_object,
    signed_by_any,
    signed_header,
    to_base64,
    unix_time,
)
from custsync.sources.errors import SignatureInvalid

ID = "webhook-id"
TIMESTAMP = "webhook-timestamp"
SIGNATURE = "webhook-signature"
SECRET_PREFIX = "whsec_"
# The prefix, then a non-empty key in base64 (padding optional: key_of adds it).
SECRET_PATTERN = SECRET_PREFIX + r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=?|[A-Za-z0-9+/]{2}(?:==)?)"


def key_of(secret: str) -> bytes:
    """The HMAC key a ``whsec_<base64>`` secret stands for."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigurationError("webhook secret 'standardwebhooks': must be whsec_<base64 key>") from exc
    if not key:
        raise ConfigurationError("webhook secret 'standardwebhooks': the key is empty")
    return key


def _signed_content(request: WebhookRequest, message_id: str, timestamp: str) -> bytes:
    return f"{message_id}.{timestamp}.".encode() + request.body


class StandardWebhooksSource:
    name = "standardwebhooks"
    secret = SigningSecret(f"{SECRET_PREFIX}<base64 key>", f"{SECRET_PREFIX}MDEyMzQ1Njc4OWFiY2RlZg==", SECRET_PATTERN)

    def verify(self, request: WebhookRequest, secrets: Sequence[str], window: TimeWindow) -> None:
        message_id = signed_header(request, ID)
        timestamp = signed_header(request, TIMESTAMP)
        entries = signed_header(request, SIGNATURE).split(" ")
        window.check(TIMESTAMP, unix_time(TIMESTAMP, timestamp))
        sent = [
            from_base64(value) for version, _, value in (entry.partition(",") for entry in entries) if version == "v1"
        ]
        if not sent:
            raise SignatureInvalid(f"{SIGNATURE}: has no v1 signature")
        if not signed_by_any(sent, _signed_content(request, message_id, timestamp), [key_of(s) for s in secrets]):
            raise SignatureInvalid(f"{SIGNATURE}: no v1 signature matches the message")

    def normalise(self, request: WebhookRequest) -> Changes:
        payload = json_object(request.json(), "a CustomerChange or a Customer")
        if "customer" in payload:
            return Changes([CustomerChange.model_validate(payload)])
        customer = Customer.model_validate(payload)
        change = CustomerChange(
            change_id=signed_header(request, ID),
            source=self.name,
            occurred_at=datetime.fromtimestamp(int(signed_header(request, TIMESTAMP)), UTC),
            customer=customer,
        )
        return Changes([change])

    def sign(self, request: WebhookRequest, secret: str, now: float) -> dict[str, str]:
        timestamp = str(int(now))
        message_id = request.header(ID) or ""
        mac = hmac_sha256(key_of(secret), _signed_content(request, message_id, timestamp))
        return {TIMESTAMP: timestamp, SIGNATURE: f"v1,{to_base64(mac)}"}


SOURCE = StandardWebhooksSource()
