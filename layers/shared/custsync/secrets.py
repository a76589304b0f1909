"""Vendor and webhook credentials from Secrets Manager, through Powertools Parameters."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities import parameters

from custsync.errors import ConfigurationError

CACHE_SECONDS = 300


def get_secret_json(name: str, *, force_fetch: bool = False) -> dict[str, Any]:
    """The secret ``name`` parsed as a JSON object, cached for ``CACHE_SECONDS``."""
    value = parameters.get_secret(name, transform="json", max_age=CACHE_SECONDS, force_fetch=force_fetch)
    if not isinstance(value, dict):
        raise ConfigurationError(f"secret {name!r} must hold a JSON object")
    return value


def get_vendor_secret(name: str, *, force_fetch: bool = False) -> dict[str, Any]:
    """A vendor's secret; every vendor secret holds at least ``base_url``."""
    secret = get_secret_json(name, force_fetch=force_fetch)
    if not secret.get("base_url"):
        raise ConfigurationError(f"secret {name!r} has no 'base_url'")
    return secret
