"""Canonical address values from pycountry's ISO 3166 tables (custsync/geo.py)."""

from __future__ import annotations

from typing import Any

import pytest

from custsync.geo import country_code, region_code


@pytest.mark.parametrize(
    ("text", "code"),
    [("se", "SE"), ("SE", "SE"), ("SWE", "SE"), ("Sweden", "SE"), ("United States", "US"), ("XK", "XK"),
     ("Atlantis", None), ("", None), (None, None)],
)  # fmt: skip
def test_a_country_is_its_alpha_2_code(text: str | None, code: str | None) -> None:
    assert country_code(text) == code


@pytest.mark.parametrize(
    ("country", "region", "code", "canonical"),
    [
        ("US", "Kentucky", None, "US-KY"),  # a name of one subdivision
        ("US", "kentucky", None, "US-KY"),
        ("US", "KY", None, "US-KY"),  # the code without its country
        ("US", "US-KY", None, "US-KY"),
        ("US", "Kentucky", "KY", "US-KY"),  # the sender's code (Shopify's province_code) first
        ("CA", "ON", "ON", "CA-ON"),
        ("SE", "Stockholms län", None, "SE-AB"),  # ISO names it "Stockholms län [SE-01]"
        ("SE", "Stockholm", None, "Stockholm"),  # names no subdivision: the sender's text
        ("FI", "Lapland", None, "Lapland"),
        (None, "Kentucky", "KY", "Kentucky"),  # no country to derive it from
        ("US", "Kentucky", "ZZ", "US-KY"),  # a code that is not one of the country's: the name decides
        ("US", None, None, None),
        ("US", "  ", None, None),
    ],
)
def test_a_region_is_its_iso_3166_2_code_where_it_can_be_derived_unambiguously(
    country: str | None, region: str | None, code: str | None, canonical: str | None
) -> None:
    assert region_code(country, region, code) == canonical


def test_a_name_two_subdivisions_of_a_country_share_stays_text() -> None:
    """When a name is that of more than one subdivision, the sender's text is all that is sure."""
    import pycountry

    tables: Any = pycountry
    shared: list[tuple[str, str]] = []
    for country in tables.countries:
        names = [str(s.name).casefold() for s in tables.subdivisions.get(country_code=country.alpha_2) or []]
        shared += [(str(country.alpha_2), name) for name in sorted(set(names)) if names.count(name) > 1]
    assert shared, "ISO 3166-2 has names shared within a country"
    country, name = shared[0]
    assert region_code(country, name) == name
