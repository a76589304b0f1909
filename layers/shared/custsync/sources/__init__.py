"""Webhook sources: each verifies its sender and maps its payload to ``CustomerChange``s (contract: ``base.Source``).

Their payload models are built when first used (``defer_build``): a cold start builds those of the one source
it was called for, not every source's.
"""

from __future__ import annotations

from custsync.sources import hubspot, shopify, standardwebhooks, stripe, woocommerce
from custsync.sources.base import Source, TimeWindow, WebhookRequest, signing_secrets
from custsync.sources.errors import BadPayload, SignatureInvalid

__all__ = ["SOURCES", "BadPayload", "SignatureInvalid", "Source", "TimeWindow", "WebhookRequest", "signing_secrets"]

SOURCES: dict[str, Source] = {
    source.name: source
    for source in (shopify.SOURCE, hubspot.SOURCE, stripe.SOURCE, woocommerce.SOURCE, standardwebhooks.SOURCE)
}
