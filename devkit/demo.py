"""``custsync demo``: the sample webhooks through the whole local stack, and what each vendor ended with."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from custsync.sources.shopify import sign
from devkit.stack.local import LocalStack

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


def run_demo(root: Path, secrets: dict[str, Any], out: TextIO) -> list[VendorReport]:
    webhook_events = sorted((root / "events" / "webhook").glob("*.json"))
    with LocalStack(root, secrets) as stack:
        shopify_secret = str(stack.secrets[WEBHOOK_SECRET]["shopify"])
        out.write(f"Local stack up: moto at {stack.endpoint_url}, simulators: {', '.join(stack.simulators)}\n\n")
        for path in webhook_events:
            event = signed_for(json.loads(path.read_text()), shopify_secret)
            response = stack.invoke(WEBHOOK_FUNCTION, event)
            out.write(f"POST /webhooks/shopify  {path.name:<55} -> {response['statusCode']} {response['body']}\n")
        reports = []
        for vendor, function in sorted(stack.vendor_functions().items()):
            delivery = stack.pump(function)
            log_path = stack.log_dir / f"{function}.log"
            report = VendorReport(vendor, sent=delivery.delivered, outcomes=outcomes_in_log(log_path.read_text()))
            report.records = dict(stack.simulators[vendor].records) if vendor in stack.simulators else {}
            reports.append(report)
        out.write("\n" + render(reports))
        out.write(f"\nFunction logs: {stack.log_dir}\n")
    return reports


def render(reports: list[VendorReport]) -> str:
    lines = [f"{'vendor':<12}{'sent':>6}{'applied':>9}{'skipped':>9}{'failed':>8}"]
    for report in reports:
        o = report.outcomes
        lines.append(f"{report.vendor:<12}{report.sent:>6}{o['applied']:>9}{o['skipped']:>9}{o['failed']:>8}")
    for report in reports:
        lines.append(f"\n{report.vendor}: the simulator's records")
        lines.append(json.dumps(report.records, indent=2, sort_keys=True))
    return "\n".join(lines) + "\n"
