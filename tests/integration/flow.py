"""Helpers for driving the local stack in-process: build events, queue changes, deliver batches."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from lxml import etree

from custsync.fanout import FanOut
from custsync.model import CustomerChange
from custsync.sources.shopify import sign
from devkit.demo import signed_for
from devkit.stack.pump import Delivery, deliver, sqs_event
from devkit.stack.template import Template
from suite_clock import CLOCK

ROOT = Path(__file__).resolve().parents[2]
#: vendor name -> its function's logical id, read from template.yaml.
VENDOR_FUNCTIONS = Template(ROOT / "template.yaml").vendor_functions()
ALL_VENDORS = list(VENDOR_FUNCTIONS)


def secret_choices(vendor: str) -> list[dict[str, str]]:
    """Each API or wire format the vendor's secret can choose (one key set to one of its ``Literal`` values), or
    ``[{}]`` when it offers no choice: what a vendor-wide test runs each vendor in."""
    from devkit.routes import connector_class

    choices = connector_class(ROOT, vendor).secret_model.choices()
    return [{key: value} for key, values in choices.items() for value in values] or [{}]


def variant_id(vendor: str, choice: dict[str, str]) -> str:
    """``exigo-soap``; the vendor's name alone when its secret offers no choice."""
    return "-".join([vendor, *choice.values()])


def shopify_event(
    payload: dict[str, Any], webhook_id: str, secret: str, topic: str = "customers/update"
) -> dict[str, Any]:
    body = json.dumps(payload)
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign(body.encode(), secret),
        "X-Shopify-Webhook-Id": webhook_id,
    }
    return api_event("POST", "/webhooks/shopify", body, headers, {"source": "shopify"})


WEBHOOK_SAMPLES = ROOT / "events" / "webhook"
SOURCE_SAMPLES = {
    "shopify": "01-shopify-customers-update.json",
    "hubspot": "05-hubspot-contact-property-changes.json",
    "stripe": "06-stripe-customer-created.json",
    "woocommerce": "08-woocommerce-customer-updated.json",
    "standardwebhooks": "10-standardwebhooks-customer-change.json",
}


def sample_event(source: str, file_name: str | None = None) -> dict[str, Any]:
    """A source's sample webhook from events/webhook/, as API Gateway hands it to the function."""
    event: dict[str, Any] = json.loads((WEBHOOK_SAMPLES / (file_name or SOURCE_SAMPLES[source])).read_text())
    return event


def signed(event: dict[str, Any], secret: str, now: float | None = None) -> dict[str, Any]:
    """``event`` signed with ``secret`` as its source signs, at ``now`` (default: now on the suite's clock,
    ``tests/suite_clock.py``, which the in-process webhook checks against)."""
    return signed_for(event, {event["pathParameters"]["source"]: secret}, CLOCK.now() if now is None else now)


def api_event(
    method: str,
    path: str,
    body: str | None,
    headers: dict[str, str] | None = None,
    path_parameters: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    headers = headers or {}
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "requestId": "req-1",
            "stage": "test",
            "httpMethod": method,
            "path": path,
            "resourcePath": path,
        },
        "body": body,
        "isBase64Encoded": False,
    }


def shopify_customer(
    customer_id: int = 7001, updated_at: str = "2026-11-20T10:00:00+01:00", **overrides: Any
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": customer_id,
        "email": "ada@example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "phone": "+46701234567",
        "state": "enabled",
        "note": "Prefers email",
        "tags": "vip",
        "updated_at": updated_at,
        "default_address": {
            "company": "Acme AB",
            "address1": "Drottninggatan 1",
            "city": "Stockholm",
            "province": "Stockholm",
            "zip": "111 51",
            "country_code": "SE",
        },
    }
    payload.update(overrides)
    return payload


def change(change_id: str, occurred_at: str, customer: dict[str, Any], **extra: Any) -> CustomerChange:
    return CustomerChange.model_validate(
        {"change_id": change_id, "source": "test", "occurred_at": occurred_at, "customer": customer, **extra}
    )


def queue(stack: Any, function: str, *changes: CustomerChange) -> None:
    url, _ = stack.queue_of(function)
    fanout = FanOut({"vendor": url}, stack.sqs)
    for item in changes:
        fanout.send(item)


def pump(stack: Any, function: str, handler: Any, context: Any) -> Delivery:
    url, arn = stack.queue_of(function)
    return deliver(stack.sqs, url, arn, lambda event: handler(event, context))


def dlq_messages(stack: Any, function: str) -> list[dict[str, Any]]:
    messages = stack.sqs.receive_message(
        QueueUrl=stack.dlq_of(function), MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages", [])
    return [
        {"body": json.loads(m["Body"]), **{k: v["StringValue"] for k, v in m.get("MessageAttributes", {}).items()}}
        for m in messages
    ]


def queue_depth(stack: Any, function: str) -> int:
    url, _ = stack.queue_of(function)
    attributes = stack.sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


FIXTURES = ROOT / "tests" / "fixtures"


def element_names(xml: bytes | str) -> list[str]:
    """Every element's {namespace}name in document order: what two envelopes must agree on."""
    root = etree.fromstring(xml.encode() if isinstance(xml, str) else xml)
    return [str(element.tag) for element in root.iter() if isinstance(element.tag, str)]


def sqs_batch(stack: Any, function: str) -> tuple[list[Any], dict[str, Any]]:
    """Receive what is queued for ``function`` and the SQS event Lambda would build from it."""
    url, arn = stack.queue_of(function)
    messages = stack.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    return messages, sqs_event(messages, arn)


def records_after(
    secrets: dict[str, Any],
    vendor: str,
    overrides: dict[str, Any],
    changes: list[CustomerChange],
    log_dir: Path,
    seed: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run ``changes`` through ``vendor`` on a fresh stack whose vendor secret has ``overrides``;
    return the simulator's records. For comparing transports of one vendor."""
    from conftest import FakeLambdaContext, forget_secrets
    from custsync.runtime import build_handler
    from devkit.stack.local import LocalStack

    forget_secrets()
    variant = json.loads(json.dumps(secrets))
    variant[f"customer-sync/local/{vendor}"].update(overrides)
    function = VENDOR_FUNCTIONS[vendor]
    connector = getattr(importlib.import_module(f"{vendor}.connector"), f"{vendor.capitalize()}Connector")
    with LocalStack(ROOT, variant, log_dir=log_dir, seed=seed) as local, pytest.MonkeyPatch.context() as env:
        for name, value in local.function_environment(function).items():
            env.setenv(name, value)
        queue(local, function, *changes)
        pump(local, function, build_handler(connector), FakeLambdaContext())
        records: dict[str, Any] = json.loads(json.dumps(local.simulators[vendor].records))
    forget_secrets()
    return records


def emitted_metrics(stdout: str) -> dict[tuple[str, str], float]:
    """CloudWatch EMF lines on stdout per (vendor dimension, metric name): counts summed, timings counted."""
    totals: dict[tuple[str, str], float] = {}
    for line in stdout.splitlines():
        if '"_aws"' not in line:
            continue
        document = json.loads(line)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            assert [sorted(names) for names in directive["Dimensions"]] == [["service", "vendor"]]
            for metric in directive["Metrics"]:
                value = document[metric["Name"]]
                values = value if isinstance(value, list) else [value]
                key = (document["vendor"], metric["Name"])
                totals[key] = totals.get(key, 0.0) + (len(values) if metric["Unit"] == "Milliseconds" else sum(values))
    return totals


def rotate_password(stack: Any, vendor: str, password: str) -> None:
    """The vendor's password changes and its secret is updated to match; the functions still cache the old."""
    stack.simulators[vendor].password = password
    name = f"customer-sync/local/{vendor}"
    secretsmanager = boto3.client("secretsmanager")
    secret = json.loads(secretsmanager.get_secret_value(SecretId=name)["SecretString"])
    secretsmanager.put_secret_value(SecretId=name, SecretString=json.dumps({**secret, "password": password}))


@dataclass
class VendorFlow:
    """One vendor's function on a test's local stack (the ``vendor`` fixture): its handler, built as at cold
    start, its simulator, and its queue and DLQ."""

    name: str
    stack: Any
    build: Callable[..., Any]  # the ``vendor_handler`` fixture
    context: Any
    handler: Any = field(init=False)

    def __post_init__(self) -> None:
        self.handler = self.build(self.name)

    @property
    def function(self) -> str:
        return VENDOR_FUNCTIONS[self.name]

    @property
    def simulator(self) -> Any:
        return self.stack.simulators[self.name]

    @property
    def queue_url(self) -> str:
        url: str = self.stack.queue_of(self.function)[0]
        return url

    def cold_start(self, **environment: str) -> Any:
        """A new container: the handler built again, ``environment`` overriding the function's
        (``GROUP_CONCURRENCY="1"``). ``pump`` and ``invoke`` use it from then on."""
        self.handler = self.build(self.name, **environment)
        return self.handler

    def only_record(self) -> dict[str, Any]:
        """The simulator's one record; none or several fail the test."""
        (record,) = self.simulator.records.values()
        return dict(record)

    def queue(self, *changes: CustomerChange) -> None:
        queue(self.stack, self.function, *changes)

    def send_raw(self, body: dict[str, Any]) -> None:
        """Queue ``body`` as it is, not validated as a change first (``queue`` validates)."""
        self.stack.sqs.send_message(
            QueueUrl=self.queue_url,
            MessageBody=json.dumps(body),
            MessageGroupId=body["customer"]["key"],
            MessageDeduplicationId=body["change_id"],
        )

    def pump(self) -> Delivery:
        """Deliver what is queued to the handler, batch by batch, as Lambda's event source mapping does."""
        return pump(self.stack, self.function, self.handler, self.context)

    def sqs_batch(self) -> tuple[list[Any], dict[str, Any]]:
        return sqs_batch(self.stack, self.function)

    def invoke(self, event: dict[str, Any]) -> Any:
        return self.handler(event, self.context)

    def dlq(self) -> list[dict[str, Any]]:
        return dlq_messages(self.stack, self.function)

    def depth(self) -> int:
        return queue_depth(self.stack, self.function)

    def rotate_password(self, password: str) -> None:
        rotate_password(self.stack, self.name, password)
