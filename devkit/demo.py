"""``custsync demo``: the sample webhooks through the whole local stack, and what each vendor ended with."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import boto3

from custsync.sources.shopify import sign
from devkit.stack.local import STAGE, LocalStack

WEBHOOK_FUNCTION = "WebhookFunction"
WEBHOOK_SECRET = "customer-sync/local/webhook"
OUTCOME_MESSAGES = {"change applied": "applied", "change skipped": "skipped", "change parked in the DLQ": "failed"}


@dataclass
class VendorReport:
    vendor: str
    sent: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    records: dict[str, Any] = field(default_factory=dict)


def signed_for(event: dict[str, Any], secret: str) -> dict[str, Any]:
    """The sample event re-signed with the configured secret, so it verifies whatever secret is set."""
    headers = dict(event["headers"])
    headers["X-Shopify-Hmac-Sha256"] = sign(event["body"].encode(), secret)
    return {**event, "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()}}


def outcomes_in_log(log_text: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for line in log_text.splitlines():
        if not line.startswith("{"):
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        outcome = OUTCOME_MESSAGES.get(str(entry.get("message")))
        if outcome:
            counts[outcome] += 1
    return counts


def run_demo(
    root: Path, secrets: dict[str, Any], out: TextIO, seed: dict[str, Any] | None = None
) -> list[VendorReport]:
    webhook_events = sorted((root / "events" / "webhook").glob("*.json"))
    with LocalStack(root, secrets, seed=seed) as stack:
        shopify_secret = str(stack.secrets[WEBHOOK_SECRET]["shopify"])
        out.write(f"Local stack up: moto at {stack.endpoint_url}, simulators: {', '.join(stack.simulators)}\n\n")
        for path in webhook_events:
            event = signed_for(json.loads(path.read_text()), shopify_secret)
            response = stack.invoke(WEBHOOK_FUNCTION, event)
            out.write(f"POST /webhooks/shopify  {path.name:<55} -> {response['statusCode']} {response['body']}\n")
        reports = [deliver_to(stack, vendor, function) for vendor, function in sorted(stack.vendor_functions().items())]
        out.write("\n" + render(reports))
        out.write(switch_exigo_to_soap(stack, webhook_events[0], shopify_secret))
        out.write(f"\nFunction logs: {stack.log_dir}\n")
    return reports


def deliver_to(stack: LocalStack, vendor: str, function: str) -> VendorReport:
    delivery = stack.pump(function)
    log_path = stack.log_dir / f"{function}.log"
    report = VendorReport(vendor, sent=delivery.delivered, outcomes=outcomes_in_log(log_path.read_text()))
    report.records = json.loads(json.dumps(stack.simulators[vendor].records)) if vendor in stack.simulators else {}
    return report


def switch_exigo_to_soap(stack: LocalStack, first_event: Path, shopify_secret: str) -> str:
    """Act two: the same deployment moved to Exigo's SOAP API by its secret alone, then a newer change."""
    secret_name = f"customer-sync/{STAGE}/exigo"
    secret = {**stack.secrets[secret_name], "api": "soap"}
    boto3.client("secretsmanager").put_secret_value(SecretId=secret_name, SecretString=json.dumps(secret))
    stack.restart("ExigoFunction")  # a new container reads the secret at cold start
    event = json.loads(first_event.read_text())
    payload = json.loads(event["body"])
    payload.update(phone="+46709990000", updated_at="2026-11-20T11:00:00+01:00")
    event["body"] = json.dumps(payload)
    event["headers"]["X-Shopify-Webhook-Id"] = "demo-soap-0001"
    response = stack.invoke(WEBHOOK_FUNCTION, signed_for(event, shopify_secret))
    soap_calls_before = len(stack.simulators["exigo"].calls_to(".asmx"))
    delivery = stack.pump("ExigoFunction")
    soap_calls = len(stack.simulators["exigo"].calls_to(".asmx")) - soap_calls_before
    for vendor, function in stack.vendor_functions().items():
        if vendor != "exigo":
            stack.pump(function)
    return (
        f"\nExigo switched to SOAP by its secret: webhook -> {response['statusCode']}, "
        f"{delivery.delivered} change delivered, {soap_calls} SOAP call(s) to ExigoApi.asmx, "
        f"{delivery.failed} failed.\n"
    )


def render(reports: list[VendorReport]) -> str:
    lines = [f"{'vendor':<12}{'sent':>6}{'applied':>9}{'skipped':>9}{'failed':>8}"]
    for report in reports:
        o = report.outcomes
        lines.append(f"{report.vendor:<12}{report.sent:>6}{o['applied']:>9}{o['skipped']:>9}{o['failed']:>8}")
    for report in reports:
        lines.append(f"\n{report.vendor}: the simulator's records")
        lines.append(json.dumps(report.records, indent=2, sort_keys=True))
    return "\n".join(lines) + "\n"
