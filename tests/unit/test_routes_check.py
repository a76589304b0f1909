"""``custsync routes check``: the routing validated as the functions validate it, and a sample webhook's fields
shown per vendor (names only, never values)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from custsync import routing
from custsync.errors import ConfigurationError
from devkit.inputs import InputError
from devkit.routes import check

ROOT = Path(__file__).resolve().parents[2]
SHOPIFY_EVENT = ROOT / "events" / "webhook" / "01-shopify-customers-update.json"


def run(routing_path: Path | None = None, event: Path | None = None) -> str:
    out = io.StringIO()
    assert check(ROOT, routing_path, event, out) == 0
    return out.getvalue()


def test_the_shipped_routing_is_valid_for_every_vendor_function() -> None:
    output = run()
    assert output.startswith("routing routing.yaml: valid; every field map names fields its vendor has\n")
    assert "  exigo: Field1 <- attributes.tags; a deleted customer: deactivate (CustomerStatus)\n" in output


def test_a_sample_webhook_shows_which_vendor_gets_which_fields_and_no_values() -> None:
    output = run(event=SHOPIFY_EVENT)
    assert "01-shopify-customers-update.json (shopify): 1 change(s)" in output
    assert "    exigo: UpdateCustomer [Company, CustomerKey, Email, FirstName," in output
    assert "    exsalerate: PUT api/Customer [AssignedToEmail, CompanyEmail, CompanyPhone, CustomerName," in output
    for personal in ("Lovelace", "ada@", "+46", "Drottninggatan"):
        assert personal not in output


def test_conditions_hold_a_customer_back(tmp_path: Path) -> None:
    text = routing.SHIPPED.read_text().replace(
        "  shopify:\n    vendors: all",
        "  shopify:\n    vendors: [exsalerate, {vendor: exigo, when: {countries: [NO]}}]",
    )
    (tmp_path / "routing.yaml").write_text(text)
    output = run(tmp_path / "routing.yaml", SHOPIFY_EVENT)
    assert "    exigo: held back: address.country SE is not one of NO" in output
    assert "    centra:" not in output


def test_a_field_map_naming_a_field_the_vendor_lacks_is_refused(tmp_path: Path) -> None:
    text = routing.SHIPPED.read_text().replace("{Field1: tags}", "{Field99: tags}")
    (tmp_path / "routing.yaml").write_text(text)
    with pytest.raises(ConfigurationError, match="routing field_map: Exigo's extended record has no field Field99"):
        run(tmp_path / "routing.yaml")


def test_field_maps_are_for_the_templates_vendor_functions_only(tmp_path: Path) -> None:
    text = routing.SHIPPED.read_text().replace("vendors:\n  exsalerate:", "vendors:\n  magento: {}\n  exsalerate:")
    (tmp_path / "routing.yaml").write_text(text)
    with pytest.raises(InputError, match=r"vendors \['magento'\] are not vendor functions of the template"):
        run(tmp_path / "routing.yaml")


def test_the_check_gives_the_process_its_log_level_back() -> None:
    """Quiet while it builds the connectors, but the functions running after it in this process still log."""
    from custsync.observability import logger

    before = logger.log_level
    run()
    assert logger.log_level == before
