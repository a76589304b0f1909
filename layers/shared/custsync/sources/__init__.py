"""Webhook sources: each verifies its sender and maps its payload to ``CustomerChange``s (contract: ``base.Source``).

Their payload models are built when first used (``defer_build``): a cold start builds those of the one source
it was called for, not every source's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from custsync.sources import hubspot, shopify, standardwebhooks, stripe, woocommerce
from custsync.sources.base import Changes, Source, TimeWindow, WebhookRequest
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


def signing_secrets(webhook_secret: Mapping[str, Any], source: str) -> list[str]:
    """The signing secrets configured for ``source`` (a string or a list of strings): none means "not configured"
    (absent, empty or placeholders); ``ConfigurationError`` naming the source when one is not what it needs."""
    return SOURCES[source].secret.values(webhook_secret.get(source), source)
