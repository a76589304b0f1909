"""A stack as deployed, before anyone sets a secret: every secret is the template's own value, and that value
lets no one in."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import WEBHOOK_SECRET_NAME, vendor_secrets
from flow import ALL_VENDORS, queue_depth, shopify_customer, shopify_event


@pytest.fixture
def secrets() -> dict[str, Any]:
    """The webhook's secret as the template creates it: nothing the local stack sets over it."""
    values = vendor_secrets()
    del values[WEBHOOK_SECRET_NAME]
    return values


def test_a_webhook_signed_with_the_old_placeholder_is_refused_and_queues_nothing(post: Any, stack: Any) -> None:
    status, body = post(shopify_event(shopify_customer(), "forged-1", "set-me"))
    assert status == 404, body
    assert "shopify" in body["error"]
    assert [queue_depth(stack, f"{vendor.capitalize()}Function") for vendor in ALL_VENDORS] == [0] * len(ALL_VENDORS)
