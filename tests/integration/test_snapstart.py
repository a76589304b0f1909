"""SnapStart's runtime hooks, run as Lambda runs them: the WSDL parsed before the snapshot, credentials and
clients made again after a restore (a rotated secret is read, not the snapshot's)."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
import snapshot_restore_py

from custsync import aws
from custsync.transport import soap
from flow import change, pump, queue, rotate_password


def run_hooks(kind: str) -> None:
    registry = (
        snapshot_restore_py.get_before_snapshot() if kind == "before" else snapshot_restore_py.get_after_restore()
    )
    for hook, args, kwargs in list(registry)[-1:]:  # the handler just built registered last
        hook(*args, **kwargs)


def test_the_wsdl_is_parsed_before_the_snapshot(vendor_handler: Callable[..., Any]) -> None:
    soap.load_wsdl.cache_clear()
    vendor_handler("centra")
    run_hooks("before")
    assert soap.wsdl_loads() == 1, "parsed in the snapshot, before any record or secret"


def test_after_a_restore_the_rotated_secret_is_read_and_clients_made_again(
    stack: Any, vendor_handler: Callable[..., Any], lambda_context: Any
) -> None:
    handler = vendor_handler("exsalerate")
    queue(stack, "ExsalerateFunction", change("s-1", "2026-11-20T09:00:00Z", {"key": "S1", "company": "Snap AB"}))
    pump(stack, "ExsalerateFunction", handler, lambda_context)
    rotate_password(stack, "exsalerate", "rotated-while-frozen")
    before = handler.runtime.engine

    run_hooks("after")

    queue(stack, "ExsalerateFunction", change("s-2", "2026-11-20T09:01:00Z", {"key": "S1", "company": "Thawed AB"}))
    assert pump(stack, "ExsalerateFunction", handler, lambda_context).failed == 0
    assert handler.runtime.engine is not before
    puts = stack.simulators["exsalerate"].calls_to("/api/Customer", "PUT")
    assert [call.status for call in puts] == [200, 200], "no 401 with the snapshot's password first"
    secret = json.loads(
        boto3.client("secretsmanager").get_secret_value(SecretId="customer-sync/local/exsalerate")["SecretString"]
    )
    assert secret["password"] == "rotated-while-frozen"


def parse_again(*args: Any) -> None:
    raise AssertionError(f"a restored container read {args} again")


def test_a_restored_vendor_function_makes_its_aws_clients_from_the_snapshots_service_models(
    stack: Any, vendor_handler: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    aws.forget()
    aws._loader.cache_clear()  # a container that has parsed nothing yet
    vendor_handler("exsalerate")
    run_hooks("before")
    run_hooks("after")

    monkeypatch.setattr(aws._loader().file_loader, "load_file", parse_again)
    for client in (aws.dynamodb(), aws.secretsmanager(), aws.sqs()):
        assert client.meta.region_name == "eu-west-1"
    aws.dynamodb().describe_table(TableName=stack.physical["SyncStateTable"]["Ref"])


def test_a_restored_webhook_makes_its_aws_clients_from_the_snapshots_service_models(
    function_env: Callable[[str], dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    function_env("WebhookFunction")
    aws.forget()
    aws._loader.cache_clear()
    importlib.reload(importlib.import_module("webhook.app"))  # its cold start registers the hooks
    run_hooks("before")
    run_hooks("after")

    monkeypatch.setattr(aws._loader().file_loader, "load_file", parse_again)
    aws.sqs().list_queues()
    aws.secretsmanager().list_secrets()
