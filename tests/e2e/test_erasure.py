"""Erasure on the local stack as deployed: the built functions under the Lambda Runtime Interface Emulator, the
webhook's queues and the state table on moto, the operator's ``custsync forget`` as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from devkit.demo import WEBHOOK_FUNCTION, WEBHOOK_SECRET, signed_for
from devkit.stack.local import LocalStack, load_secrets, load_seed, on_free_ports

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e
SAMPLE = ROOT / "events" / "webhook" / "01-shopify-customers-update.json"
KEY = "7001"  # the sample's customer
PERSONAL = ("ada@example.com", "Lovelace", "+46701234567", "Drottninggatan", "Acme AB", "Prefers email")


def peek(stack: LocalStack, function: str) -> list[dict[str, Any]]:
    """The bodies parked in the function's DLQ, looked at and left visible."""
    messages = stack.sqs.receive_message(
        QueueUrl=stack.dlq_of(function), MaxNumberOfMessages=10, VisibilityTimeout=0
    ).get("Messages", [])
    return [json.loads(message["Body"]) for message in messages]


def state_row(stack: LocalStack, vendor: str) -> dict[str, Any]:
    item: dict[str, Any] = boto3.client("dynamodb").get_item(
        TableName=stack.physical["SyncStateTable"]["Ref"],
        Key={"vendor": {"S": vendor}, "customer_key": {"S": KEY}},
        ConsistentRead=True,
    )["Item"]
    return item


def test_a_customer_the_operator_forgets_is_in_no_state_row_and_no_dlq(tmp_path: Path, moto_endpoint: str) -> None:
    secrets = on_free_ports(load_secrets(ROOT / "local" / "secrets.json"))
    with LocalStack(ROOT, secrets, log_dir=tmp_path, seed=load_seed(ROOT), moto_endpoint=moto_endpoint) as stack:
        webhook_secret = stack.secrets[WEBHOOK_SECRET]
        sample = json.loads(SAMPLE.read_text())
        assert stack.invoke(WEBHOOK_FUNCTION, signed_for(sample, webhook_secret))["statusCode"] == 202
        # A newer change Exsalerate refuses (its Notes hold 4,000 characters): parked there, with the customer's values.
        refused = json.loads(json.dumps(sample))
        refused["body"] = json.dumps(
            {**json.loads(sample["body"]), "note": "Prefers email " * 300, "updated_at": "2026-11-20T10:30:00+01:00"}
        )
        refused["headers"]["X-Shopify-Webhook-Id"] = "e2e-refused-0001"
        assert stack.invoke(WEBHOOK_FUNCTION, signed_for(refused, webhook_secret))["statusCode"] == 202
        functions = stack.vendor_functions()
        for function in functions.values():
            stack.pump(function)
        assert [body["customer"]["key"] for body in peek(stack, "ExsalerateFunction")] == [KEY]
        assert all("Lovelace" in json.dumps(state_row(stack, vendor)) for vendor in functions)

        forget = subprocess.run(
            [sys.executable, "-m", "devkit.cli", "forget", KEY, "--local"],
            cwd=ROOT,
            env={**os.environ, "AWS_ENDPOINT_URL": stack.endpoint_url},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert forget.returncode == 0, forget.stderr[-2000:]
        assert forget.stdout.strip().endswith(f"of {KEY} for {', '.join(functions)}")
        for function in functions.values():
            assert (stack.pump(function).failed, peek(stack, function)) == (0, [])

        for vendor in functions:
            row = state_row(stack, vendor)
            assert (row["customer"], row["ids"], row["call_hashes"]) == ({"S": ""}, {"S": "{}"}, {"S": "{}"}), vendor
            assert not [value for value in PERSONAL if value in json.dumps(row)], vendor
        logs = stack.logs()
        erased = [json.loads(line) for line in logs.splitlines() if '"message":"customer erased"' in line]
        assert sorted((entry["customer_key"], entry["parked_messages_deleted"]) for entry in erased) == sorted(
            [(KEY, 1 if vendor == "exsalerate" else 0) for vendor in functions]
        )
        assert not [value for value in PERSONAL if value in logs]
