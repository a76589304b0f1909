"""Vendor and webhook credentials from Secrets Manager, through Powertools Parameters, cached.

The provider uses the container's one boto3 client (``custsync.aws``), not a session of its own.
"""

from __future__ import annotations

import functools
from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider

from custsync import aws
from custsync.errors import ConfigurationError

CACHE_SECONDS = 300


@functools.cache
def provider() -> SecretsProvider:
    return SecretsProvider(boto3_client=aws.secretsmanager())


def forget() -> None:
    """Drop cached secrets (and the provider): after a SnapStart restore, and between tests."""
    provider.cache_clear()


def get_secret_json(name: str, *, force_fetch: bool = False) -> dict[str, Any]:
    """The secret ``name`` parsed as a JSON object, cached for ``CACHE_SECONDS``."""
    value = provider().get(name, transform="json", max_age=CACHE_SECONDS, force_fetch=force_fetch)
    if not isinstance(value, dict):
        raise ConfigurationError(f"secret {name!r} must hold a JSON object")
    return value


def get_vendor_secret(name: str, *, force_fetch: bool = False) -> dict[str, Any]:
    """A vendor's secret; every vendor secret holds at least ``base_url``."""
    secret = get_secret_json(name, force_fetch=force_fetch)
    if not secret.get("base_url"):
        raise ConfigurationError(f"secret {name!r} has no 'base_url'")
    return secret
