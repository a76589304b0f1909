"""Routing as configuration: the shipped file validates, a wrong one names the line, conditions decide."""

from __future__ import annotations

import pytest

from custsync import routing
from custsync.errors import ConfigurationError
from custsync.model import Customer

GOOD = """\
sources:
  shopify:
    vendors: [exsalerate, {vendor: everlytic, when: {countries: [SE], tags: [newsletter]}}]
vendors:
  exsalerate: {field_map: {Rank: rank}}
  everlytic: {}
"""


def customer(**fields: object) -> Customer:
    return Customer.model_validate({"key": "K1", **fields})


def test_the_shipped_routing_file_validates_and_routes_every_source_to_every_vendor() -> None:
    shipped = routing.parse(routing.SHIPPED.read_text(), "routing.yaml")
    assert set(shipped.vendors) == {"exsalerate", "exigo", "centra", "expandable", "everlytic"}
    for source in ("shopify", "hubspot", "stripe", "woocommerce", "standardwebhooks"):
        assert sorted(shipped.vendors_for(source)) == sorted(shipped.vendors)


def test_a_source_is_routed_to_its_vendors_and_conditions_are_checked_on_the_customer() -> None:
    routes = routing.parse(GOOD, "test")
    assert routes.vendors_for("shopify") == ["exsalerate", "everlytic"]
    assert routes.vendors_for("stripe") == []
    subscribed = customer(address={"country": "SE"}, attributes={"tags": "vip, Newsletter"})
    assert routes.unmet("shopify", "everlytic", subscribed) is None
    assert routes.unmet("shopify", "everlytic", customer(address={"country": "NO"})) == (
        "address.country NO is not one of SE"
    )
    swedish = customer(address={"country": "SE"}, attributes={"tags": "vip"})
    assert routes.unmet("shopify", "everlytic", swedish) == "attributes.tags has none of newsletter"
    assert routes.unmet("shopify", "exsalerate", customer()) is None
    assert routes.unmet("batch", "everlytic", customer()) is None, "a source the routing does not name"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (
            GOOD.replace("everlytic: {}", "everlytic: {fieldmap: {}}"),
            "test:6: vendors.everlytic.fieldmap: Extra inputs",
        ),
        (
            GOOD.replace("[exsalerate, {", "[exigo, {"),
            "test:3: sources.shopify.vendors.0: 'exigo' is not under vendors",
        ),
        (GOOD.replace("countries: [SE]", "countries: [Sweden]"), "test:3: sources.shopify.vendors.1.when.countries.0"),
        (GOOD.replace("vendors:\n  exsalerate", "vendors:\n exsalerate"), "routing test:6: not valid YAML"),
    ],
)
def test_a_wrong_routing_file_is_refused_naming_the_line(text: str, named: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        routing.parse(text, "test")
    assert named in str(refused.value)


def test_country_codes_are_text_even_norway() -> None:
    """YAML 1.1 reads NO as false; the routing file reads YAML 1.2 booleans only."""
    routes = routing.parse(GOOD.replace("countries: [SE]", "countries: [NO, SE]"), "test")
    assert (
        routes.unmet("shopify", "everlytic", customer(address={"country": "NO"}, attributes={"tags": "newsletter"}))
        is None
    )
