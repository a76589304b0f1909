"""One boto3 session per container and one low-level client per service, made on first use.

A second session costs a cold start over 100 ms (it loads botocore's data again), so the state
table, the queues and Powertools' secrets provider all share this one. ``forget`` drops them:
after a SnapStart restore (credentials may have changed) and between tests that move AWS.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import boto3

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_ssm import SSMClient


@functools.cache
def session() -> boto3.session.Session:
    return boto3.session.Session()


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
