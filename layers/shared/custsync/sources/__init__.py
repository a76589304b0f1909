"""Webhook sources: each verifies its sender and maps its payload to ``CustomerChange``s (contract: ``base.Source``)."""

from __future__ import annotations

from custsync.sources import hubspot, shopify, standardwebhooks, stripe, woocommerce
from custsync.sources.base import Changes, Source, TimeWindow, WebhookRequest, signing_secrets
from custsync.sources.errors import BadPayload, SignatureInvalid

__all__ = [
    "SOURCES",
    "BadPayload",
    "Changes",
    "SignatureInvalid",
    "Source",
    "TimeWindow",
    "WebhookRequest",
    "signing_secrets",
]

SOURCES: dict[str, Source] = {
    source.name: source
    for source in (shopify.SOURCE, hubspot.SOURCE, stripe.SOURCE, woocommerce.SOURCE, standardwebhooks.SOURCE)
}
