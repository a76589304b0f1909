"""Vendor and webhook credentials from Secrets Manager, through Powertools Parameters, cached.

The provider uses the container's one boto3 client (``custsync.aws``), not a session of its own. What a
secret must hold is declared apart (``custsync.secret_schema``).
"""

from __future__ import annotations

import functools
from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError

from custsync import aws
from custsync.errors import ConfigurationError
from custsync.secret_schema import secret_name

CACHE_SECONDS = 300


class SecretUnavailable(Exception):
    """Secrets Manager did not answer with the secret (throttled, unreachable, access denied, no such secret):
    worth a retry, never a crash. The message names the secret and the AWS error code, never a value."""


@functools.cache
def provider() -> SecretsProvider:
    return SecretsProvider(boto3_client=aws.secretsmanager())


def forget() -> None:
    """Drop cached secrets (and the provider): after a SnapStart restore, and between tests."""
    provider.cache_clear()


def get_secret_json(name: str, *, force_fetch: bool = False) -> dict[str, Any]:
    """The secret ``name`` parsed as a JSON object, cached for ``CACHE_SECONDS``.

    ``SecretUnavailable`` when Secrets Manager fails; ``ConfigurationError`` when the secret is not a JSON object.
    """
    try:
        value = provider().get(name, transform="json", max_age=CACHE_SECONDS, force_fetch=force_fetch)
    except TransformParameterError as exc:
        raise ConfigurationError(f"secret {secret_name(name)}: must hold a JSON object; it is not JSON") from exc
    except GetParameterError as exc:
        raise SecretUnavailable(f"secret {secret_name(name)}: could not be read ({_aws_code(exc)})") from exc
    if not isinstance(value, dict):
        raise ConfigurationError(f"secret {secret_name(name)}: must hold a JSON object")
    return value


def _aws_code(exc: GetParameterError) -> str:
    """The AWS error code behind Powertools' wrapper (it keeps the original only as the context)."""
    cause = exc.__cause__ or exc.__context__
    response = getattr(cause, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code") or type(cause).__name__)
    return type(cause).__name__ if cause is not None else "unknown error"
