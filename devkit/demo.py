"""``custsync demo``: the sample webhooks of every source through the whole local stack, and what each vendor got."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import boto3

from custsync.sources import SOURCES, BadPayload, signing_secrets
from custsync.webhook import webhook_request
from devkit.stack.local import STAGE, LocalStack

WEBHOOK_FUNCTION = "WebhookFunction"
WEBHOOK_SECRET = "customer-sync/local/webhook"
OUTCOME_MESSAGES = {
    "change applied": "applied",
    "customer erased": "applied",  # an erasure, applied to the vendor function's own state row and DLQ
    "change skipped": "skipped",
    "change parked in the DLQ": "failed",
}


@dataclass
class VendorReport:
    vendor: str
    sent: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    records: dict[str, Any] = field(default_factory=dict)


@dataclass
class SourceReport:
    source: str
    webhooks: int = 0
    change_ids: set[str] = field(default_factory=set)
    customer_keys: set[str] = field(default_factory=set)


def signed_for(event: dict[str, Any], webhook_secret: Mapping[str, Any], now: float | None = None) -> dict[str, Any]:
    """The sample event signed as its source would sign it ``now``, with the first secret configured for it.

    So a sample verifies whatever secret is set, and a timestamped scheme's sample is inside the time window.
    """
    name = str((event.get("pathParameters") or {}).get("source", ""))
    source, secrets = SOURCES.get(name), signing_secrets(webhook_secret, name)
    try:
        request = webhook_request(event)
    except BadPayload:
        return event  # the function will answer 400 for it
    if source is None or not secrets:
        return event
    signature = source.sign(request, secrets[0], time.time() if now is None else now)
    replaced = {header.lower() for header in signature}
    headers = {k: v for k, v in (event.get("headers") or {}).items() if k.lower() not in replaced} | signature
    return {**event, "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()}}


def log_entries(log_text: str) -> Iterator[dict[str, Any]]:
    for line in log_text.splitlines():
        if not line.startswith("{"):
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict):
            yield entry


def outcomes_in_log(log_text: str) -> Counter[str]:
    return Counter(
        OUTCOME_MESSAGES[str(entry.get("message"))]
        for entry in log_entries(log_text)
        if str(entry.get("message")) in OUTCOME_MESSAGES
    )


def queued_change_ids(answer: Any) -> list[str]:
    """The change ids a webhook answer names: ``changeId`` for one, ``changeIds`` for none or several."""
    body = json.loads(answer.get("body") or "{}") if isinstance(answer, dict) else {}
    if "changeId" in body:
        return [str(body["changeId"])]
    return [str(change_id) for change_id in body.get("changeIds", [])]


def run_demo(
    root: Path, secrets: dict[str, Any], out: TextIO, seed: dict[str, Any] | None = None
) -> list[VendorReport]:
    webhook_events = sorted((root / "events" / "webhook").glob("*.json"))
    with LocalStack(root, secrets, seed=seed) as stack:
        webhook_secret = stack.secrets[WEBHOOK_SECRET]
        out.write(f"Local stack up: moto at {stack.endpoint_url}, simulators: {', '.join(stack.simulators)}\n\n")
        sources: dict[str, SourceReport] = {}
        for path in webhook_events:
            event = signed_for(json.loads(path.read_text()), webhook_secret)
            name = str(event["pathParameters"]["source"])
            response = stack.invoke(WEBHOOK_FUNCTION, event)
            source = sources.setdefault(name, SourceReport(name))
            source.webhooks += 1
            source.change_ids.update(queued_change_ids(response))
            route = f"POST /webhooks/{name}"
            out.write(f"{route:<34}{path.name:<50} -> {response['statusCode']} {response['body']}\n")
        for entry in log_entries((stack.log_dir / f"{WEBHOOK_FUNCTION}.log").read_text()):
            if entry.get("message") == "change queued" and entry.get("source") in sources:
                sources[str(entry["source"])].customer_keys.add(str(entry.get("customer_key")))
        reports = [deliver_to(stack, vendor, function) for vendor, function in sorted(stack.vendor_functions().items())]
        out.write("\n" + render_sources(list(sources.values()), reports))
        out.write("\n" + render(reports))
        out.write(switch_exigo_to_soap(stack, webhook_events[0], webhook_secret))
        out.write(f"\nFunction logs: {stack.log_dir}\n")
    return reports


def deliver_to(stack: LocalStack, vendor: str, function: str) -> VendorReport:
    delivery = stack.pump(function)
    log_text = (stack.log_dir / f"{function}.log").read_text()
    report = VendorReport(vendor, sent=delivery.delivered, outcomes=outcomes_in_log(log_text))
    report.records = json.loads(json.dumps(stack.simulators[vendor].records)) if vendor in stack.simulators else {}
    return report


def switch_exigo_to_soap(stack: LocalStack, first_event: Path, webhook_secret: Mapping[str, Any]) -> str:
    """Act two: the same deployment moved to Exigo's SOAP API by its secret alone, then a newer change."""
    secret_name = f"customer-sync/{STAGE}/exigo"
    secret = {**stack.secrets[secret_name], "api": "soap"}
    boto3.client("secretsmanager").put_secret_value(SecretId=secret_name, SecretString=json.dumps(secret))
    stack.restart("ExigoFunction")  # a new container reads the secret at cold start
    event = json.loads(first_event.read_text())
    payload = json.loads(event["body"])
    payload.update(phone="+46709990000", updated_at="2026-11-20T11:00:00+01:00")
    event["body"] = json.dumps(payload)
    response = stack.invoke(WEBHOOK_FUNCTION, signed_for(event, webhook_secret))
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


def render_sources(sources: list[SourceReport], reports: list[VendorReport]) -> str:
    """Per source: what its webhooks queued, and how many of its customers each vendor's records now hold."""
    lines = [
        "per source: webhooks, changes queued, customers, and how many of those customers each vendor now has",
        f"{'source':<18}{'webhooks':>9}{'changes':>8}{'customers':>10}" + "".join(f"{r.vendor:>12}" for r in reports),
    ]
    for source in sources:
        held = [sum(f'"{key}"' in json.dumps(report.records) for key in source.customer_keys) for report in reports]
        counts = f"{source.webhooks:>9}{len(source.change_ids):>8}{len(source.customer_keys):>10}"
        lines.append(f"{source.source:<18}{counts}" + "".join(f"{n:>12}" for n in held))
    return "\n".join(lines) + "\n"


def render(reports: list[VendorReport]) -> str:
    lines = [f"{'vendor':<12}{'sent':>6}{'applied':>9}{'skipped':>9}{'failed':>8}"]
    for report in reports:
        o = report.outcomes
        lines.append(f"{report.vendor:<12}{report.sent:>6}{o['applied']:>9}{o['skipped']:>9}{o['failed']:>8}")
    for report in reports:
        lines.append(f"\n{report.vendor}: the simulator's records")
        lines.append(json.dumps(report.records, indent=2, sort_keys=True))
    return "\n".join(lines) + "\n"
