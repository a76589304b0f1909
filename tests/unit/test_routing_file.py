"""Routing as configuration: the shipped file validates, a wrong one names the line, conditions decide."""

from __future__ import annotations

from pathlib import Path

import pytest

import routing_json
from custsync import routing
from custsync.errors import ConfigurationError
from custsync.model import Customer
from custsync.sources import SOURCES
from devkit.vendors import vendor_names

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
    vendors = vendor_names()
    assert set(shipped.vendors) <= set(vendors), "field maps and options only for vendors that exist"
    for source in SOURCES:
        assert shipped.vendors_for(source, vendors) == vendors


def test_a_source_is_routed_to_its_vendors_and_conditions_are_checked_on_the_customer() -> None:
    routes = routing.parse(GOOD, "test")
    assert routes.vendors_for("shopify", ["exsalerate", "exigo", "everlytic"]) == ["exsalerate", "everlytic"]
    assert routes.vendors_for("stripe", ["exsalerate"]) == []
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
        (GOOD.replace("everlytic: {}", "everlytic: {map: {}}"), "test:6: vendors.everlytic.map: Extra inputs"),
        (GOOD.replace("[exsalerate, {", "[exigo, {"), "test:3: sources.shopify.vendors.0: 'exigo' is not a vendor"),
        (GOOD.replace("countries: [SE]", "countries: [Sweden]"), "test:3: sources.shopify.vendors.1.when.countries.0"),
        (GOOD.replace("vendors: [exsalerate, {vendor: everlytic, when: {countries: [SE], tags: [newsletter]}}]",
                      "vendors: everyone"), "test:3: sources.shopify.vendors: Input should be 'all'"),
        (GOOD.replace("vendors:\n  exsalerate", "vendors:\n exsalerate"), "routing test:6: not valid YAML"),
    ],
)  # fmt: skip
def test_a_wrong_routing_file_is_refused_naming_the_line(text: str, named: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        routing.parse(text, "test", known={"exsalerate", "everlytic"})
    assert named in str(refused.value)


def test_country_codes_are_text_even_norway() -> None:
    """YAML 1.1 reads NO as false; the routing file reads YAML 1.2 booleans only."""
    routes = routing.parse(GOOD.replace("countries: [SE]", "countries: [NO, SE]"), "test")
    assert (
        routes.unmet("shopify", "everlytic", customer(address={"country": "NO"}, attributes={"tags": "newsletter"}))
        is None
    )


def test_all_routes_a_source_to_every_vendor_there_is_and_a_vendor_needs_no_entry() -> None:
    routes = routing.parse("sources:\n  shopify: {vendors: all}\n", "test")
    assert routes.vendors_for("shopify", ["exsalerate", "centra"]) == ["exsalerate", "centra"]
    assert routes.unmet("shopify", "centra", customer()) is None
    assert routes.vendor("centra") == routing.VendorConfig()


def shipped_in_a_built_layer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str | None = None
) -> tuple[Path, Path]:
    """``routing.yaml`` (the shipped one, or ``text``) and its JSON twin, as the layer's build writes them."""
    folder = tmp_path / "custsync"
    folder.mkdir()
    (folder / "routing.yaml").write_text(text if text is not None else routing.SHIPPED.read_text())
    assert routing_json.main([str(tmp_path)]) == 0
    monkeypatch.setattr(routing, "SHIPPED", folder / "routing.yaml")
    monkeypatch.setattr(routing, "SHIPPED_JSON", folder / "routing.json")
    monkeypatch.delenv("ROUTING_PARAMETER", raising=False)
    routing.forget()
    return folder / "routing.yaml", folder / "routing.json"


def test_a_built_layer_reads_the_shipped_routing_from_its_json_twin_as_the_yaml_would_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    yaml_file, _ = shipped_in_a_built_layer(tmp_path, monkeypatch)
    expected = routing.parse(yaml_file.read_text(), "routing.yaml", frozenset(vendor_names()))
    yaml_file.unlink()  # from here on, only the twin can be read

    assert routing.current(vendor_names()) == expected


def test_a_twin_that_does_not_validate_is_read_from_its_yaml_which_names_the_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = routing.SHIPPED.read_text().replace("shopify:\n    vendors: all", "shopify:\n    vendors: [magento]")
    shipped_in_a_built_layer(tmp_path, monkeypatch, text)
    line = text.splitlines().index("    vendors: [magento]") + 1

    with pytest.raises(ConfigurationError, match=rf"routing.yaml:{line}: sources.shopify.vendors.0: 'magento'"):
        routing.current(vendor_names())
