"""Routing as configuration, end to end: the webhook queues a source's changes for its vendors only, a vendor
holds back customers its conditions do not match (sending them whole once they do), and an SSM parameter
replaces the shipped file without a code change."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from custsync import routing
from custsync.config import WebhookSettings
from custsync.errors import ConfigurationError
from custsync.webhook import build_webhook_app
from devkit.vendors import vendor_names
from flow import change, pump, queue, queue_depth, shopify_customer, shopify_event

PARAMETER = "/customer-sync/local/routing"
UNKNOWN = re.escape(f"sources.shopify.vendors.1: 'magento' is not a vendor ({', '.join(sorted(vendor_names()))})")
SECRET = "test-shopify-client-secret"
ALL = f"[{', '.join(vendor_names())}]"
VENDORS = """
vendors:
  exsalerate: {field_map: {Rank: rank, IndustryType: industry}}
  exigo: {field_map: {Field1: tags}, options: {extended_group_id: 1, customer_extended_id: 1}}
  centra: {}
  expandable: {field_map: {SOFCT_USER_1: tags}}
  everlytic: {field_map: {industry: industry}}
"""


@pytest.fixture
def routed_by(stack: Any) -> Iterator[Any]:
    """Set the routing as a deployment would: YAML in an SSM parameter (named by ROUTING_PARAMETER)."""
    ssm = boto3.client("ssm")

    def put(sources: str) -> None:
        ssm.put_parameter(Name=PARAMETER, Value=f"sources:\n{sources}\n{VENDORS}", Type="String", Overwrite=True)
        routing.forget()

    yield put
    routing.forget()


@pytest.fixture
def webhook_env(function_env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    function_env("WebhookFunction")
    monkeypatch.setenv("ROUTING_PARAMETER", PARAMETER)


@pytest.mark.usefixtures("webhook_env")
def test_the_webhook_queues_a_sources_changes_for_its_vendors_only(
    stack: Any, routed_by: Any, lambda_context: Any
) -> None:
    routed_by("  shopify:\n    vendors: [exsalerate, centra]")
    app = build_webhook_app(WebhookSettings.from_env())

    response = app.resolve(shopify_event(shopify_customer(), "wh-routed", SECRET), lambda_context)

    assert json.loads(response["body"])["vendors"] == ["exsalerate", "centra"]
    depths = {f: queue_depth(stack, f) for f in ("ExsalerateFunction", "CentraFunction", "ExigoFunction")}
    assert depths == {"ExsalerateFunction": 1, "CentraFunction": 1, "ExigoFunction": 0}


def test_a_customer_the_conditions_do_not_match_is_held_back_then_sent_whole_when_it_does(
    stack: Any, routed_by: Any, vendor_handler: Any, lambda_context: Any
) -> None:
    routed_by(f"  shopify:\n    vendors: [{{vendor: exigo, when: {{countries: [SE]}}}}]\n  other:\n    vendors: {ALL}")
    handler = vendor_handler("exigo", ROUTING_PARAMETER=PARAMETER)
    simulator = stack.simulators["exigo"]
    first = {"key": "R1", "first_name": "Ada", "address": {"country": "NO", "city": "Oslo"}}
    queue(stack, "ExigoFunction", change("r-1", "2026-11-20T09:00:00Z", first, source="shopify"))
    pump(stack, "ExigoFunction", handler, lambda_context)
    assert simulator.calls_to("/3.0/customers") == [], "held back: Norway is not routed to Exigo"

    moved = {"key": "R1", "address": {"country": "SE", "city": "Lund"}}
    queue(stack, "ExigoFunction", change("r-2", "2026-11-20T09:05:00Z", moved, source="shopify"))
    pump(stack, "ExigoFunction", handler, lambda_context)

    (call,) = simulator.calls_to("/3.0/customers")
    sent = call.json()
    assert (sent["firstName"], sent["mainCountry"], sent["mainCity"]) == ("Ada", "SE", "Lund"), "the whole record"


@pytest.mark.usefixtures("webhook_env")
def test_an_invalid_routing_parameter_fails_the_cold_start_naming_the_line(stack: Any, routed_by: Any) -> None:
    routed_by("  shopify:\n    vendors: [exsalerate, magento]")
    with pytest.raises(ConfigurationError, match=rf"SSM {PARAMETER}:3: {UNKNOWN}"):
        build_webhook_app(WebhookSettings.from_env())


@pytest.mark.usefixtures("webhook_env")
def test_a_parameter_that_stops_validating_keeps_the_last_good_routing(stack: Any, routed_by: Any) -> None:
    routed_by("  shopify:\n    vendors: [exsalerate]")
    assert routing.current().vendors_for("shopify", ["exsalerate", "exigo"]) == ["exsalerate"]
    boto3.client("ssm").put_parameter(Name=PARAMETER, Value="sources: [not, a, map]", Type="String", Overwrite=True)
    routing._ssm.cache_clear()  # the parameter's cache expired: it is read again
    assert routing.current().vendors_for("shopify", ["exsalerate", "exigo"]) == ["exsalerate"]
