"""One boto3 session per container and one low-level client per service, made on first use.

A second session costs a cold start over 100 ms (it loads botocore's data again), so the state
table, the queues and Powertools' secrets provider all share this one. ``forget`` drops them:
after a SnapStart restore (credentials may have changed) and between tests that move AWS.

botocore's data (service models, endpoint rules: most of what making a client costs) is parsed into
one loader per container, which holds no credential and outlives ``forget``: before a SnapStart
snapshot ``load_service_models`` fills it, so a restored container makes its clients from the
snapshot's models instead of parsing them again.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import boto3
import botocore.session
from botocore.loaders import Loader, create_loader

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_ssm import SSMClient


@functools.cache
def _loader() -> Loader:
    return create_loader()


def _core_session() -> botocore.session.Session:
    core = botocore.session.get_session()
    core.register_component("data_loader", _loader())
    return core


@functools.cache
def session() -> boto3.session.Session:
    return boto3.session.Session(botocore_session=_core_session())


def load_service_models(*services: str) -> None:
    """Parse what making ``services``' clients needs into the container's loader, credentials left alone: the
    clients are made in a session of their own with placeholder keys, and dropped."""
    placeholder = boto3.session.Session(
        aws_access_key_id="placeholder", aws_secret_access_key="placeholder", botocore_session=_core_session()
    )
    for service in services:
        placeholder.client(service)  # type: ignore[call-overload]  # any of the services below


@functools.cache
def _client(service: str) -> Any:
    return session().client(service)  # type: ignore[call-overload]  # one of the three below


def dynamodb() -> DynamoDBClient:
    client: DynamoDBClient = _client("dynamodb")
    return client


def sqs() -> SQSClient:
    client: SQSClient = _client("sqs")
    return client


def secretsmanager() -> SecretsManagerClient:
    client: SecretsManagerClient = _client("secretsmanager")
    return client


def ssm() -> SSMClient:
    client: SSMClient = _client("ssm")
    return client


def forget() -> None:
    _client.cache_clear()
    session.cache_clear()
