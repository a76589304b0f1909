"""Canonical address values, whatever the source: country as ISO 3166-1 alpha-2, region as an ISO 3166-2 code.

A region becomes its subdivision code (``US-KY``) when the sender gives one (Shopify's ``province_code``, a
Stripe or WooCommerce ``state`` that is the code) or names exactly one subdivision of the customer's country
(``Kentucky``); anything else stays the sender's text, since a vendor is better served by what the customer
typed than by nothing. pycountry's ISO tables are read on first use only: the webhook normalises addresses,
the vendor functions never import this module.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import ModuleType

_ALPHA_2 = re.compile(r"[A-Za-z]{2}")
# ISO 3166-2 names some subdivisions with another of their codes: "Stockholms län [SE-01]".
_BRACKETED = re.compile(r"\s*\[[^\]]*\]\s*$")


@functools.cache
def _pycountry() -> ModuleType:
    import pycountry

    return pycountry


def country_code(text: str | None) -> str | None:
    """``text`` as an ISO 3166-1 alpha-2 code: a two-letter code as given (upper-cased), an alpha-3 code or a
    country's name looked up; None when it names no country."""
    value = (text or "").strip()
    if not value:
        return None
    if _ALPHA_2.fullmatch(value):
        return value.upper()
    try:
        found = _pycountry().countries.lookup(value)
    except LookupError:
        return None
    return str(found.alpha_2)


@functools.cache
def _subdivisions(country: str) -> tuple[frozenset[str], dict[str, list[str]]]:
    """A country's subdivision codes, and its subdivisions' names (case-folded) -> their codes."""
    found = _pycountry().subdivisions.get(country_code=country) or []
    names: dict[str, list[str]] = {}
    for subdivision in found:
        for name in {str(subdivision.name), _BRACKETED.sub("", str(subdivision.name))}:
            names.setdefault(name.casefold(), []).append(str(subdivision.code))
    return frozenset(str(subdivision.code) for subdivision in found), names


def region_code(country: str | None, region: str | None, code: str | None = None) -> str | None:
    """The region as its ISO 3166-2 code where ``code`` (the sender's subdivision code, with or without the
    country prefix) or ``region`` determines one subdivision of ``country``; else ``region`` as sent."""
    text = (region or "").strip() or None
    country = (country or "").strip().upper()
    if not _ALPHA_2.fullmatch(country):
        return text
    codes, names = _subdivisions(country)
    for candidate in (code, text):
        value = (candidate or "").strip().upper()
        if not value:
            continue
        full = value if value.startswith(f"{country}-") else f"{country}-{value}"
        if full in codes:
            return full
    named = names.get(text.casefold(), []) if text else []
    return named[0] if len(named) == 1 else text
