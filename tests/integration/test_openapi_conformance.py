"""openapi.yaml against the real handlers: schemathesis' requests, in process, through the real resolvers.

Every function of the API is built against the local stack (moto and the vendor simulators) as Lambda would at
cold start; ``Gateway`` stands in for API Gateway (``devkit/stack/gateway.py``). Every response must conform to
the document: a documented status, content type, headers and body. 502 and 503 are documented for causes
(a vendor down or refusing our credentials, the queue unavailable, a malformed secret): on the healthy stack of
the generated run none of them holds, so any 5xx there fails; the causes are then provoked one by one, and each
must give its documented status and body.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conftest import ROOT, WEBHOOK_SECRET_NAME, WEBHOOK_SECRETS, forget_secrets
from devkit.openapi import DOCUMENT, api_routes, sync_api_functions
from devkit.stack.gateway import Gateway, Route
from devkit.stack.template import Template
from flow import sample_event, signed

CONFORMANCE = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
schema = schemathesis.openapi.from_path(ROOT / DOCUMENT)


@pytest.fixture
def gateway(
    stack: Any, function_env: Any, vendor_handler: Any, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> Gateway:
    """Every function of the API built against the stack, each with its own environment only."""
    template = Template(ROOT / "template.yaml")
    vendors = sync_api_functions(template)
    functions = ["WebhookFunction", *vendors.values()]
    every_setting = {name for function in functions for name in stack.function_environment(function)}

    def environment_of(function: str) -> None:
        for name in every_setting - set(stack.function_environment(function)):
            monkeypatch.delenv(name, raising=False)
        function_env(function)

    environment_of("WebhookFunction")
    handlers = {"WebhookFunction": importlib.reload(importlib.import_module("webhook.app")).lambda_handler}
    for vendor, function in vendors.items():
        environment_of(function)
        handlers[function] = vendor_handler(vendor)
    return Gateway([Route(m, p, handlers[f]) for (m, p), f in api_routes(template).items()], lambda_context)


@schema.parametrize()
@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_answer_is_documented_and_none_is_a_server_error(case: schemathesis.Case[Any], gateway: Gateway) -> None:
    case.call_and_validate(app=gateway, checks=[not_a_server_error, *CONFORMANCE])


# -- the documented causes of 502 and 503, and the answers no generated request reaches (a valid signature) ----------
def webhook(file_name: str) -> dict[str, Any]:
    """A sample webhook, signed when it is sent (``signed_call``): a signature made here, at import, would be
    minutes old by the time a slow suite reaches the test, and refused."""
    return {"source": sample_event("", file_name)["pathParameters"]["source"], "sample": file_name}


def signed_call(request: dict[str, Any]) -> dict[str, Any]:
    """The request's sample webhook signed now; its headers and body are sent as they are."""
    return signed(sample_event("", request["sample"]), WEBHOOK_SECRETS[request["source"]])


def put(vendor: str, **query: str) -> dict[str, Any]:
    customer = {"first_name": "Ada", "last_name": "Lovelace", "company": "Doc AB", "email": "ada@example.com"}
    return {"vendor": vendor, "query": query, "body": customer}


def queue_deleted(stack: Any) -> None:
    stack.sqs.delete_queue(QueueUrl=stack.queue_of("CentraFunction")[0])


def secret_malformed(stack: Any) -> None:
    value = {**WEBHOOK_SECRETS, "shopify": 42}
    boto3.client("secretsmanager").put_secret_value(SecretId=WEBHOOK_SECRET_NAME, SecretString=json.dumps(value))
    forget_secrets()


def webhook_secret_deleted(stack: Any) -> None:
    boto3.client("secretsmanager").delete_secret(SecretId=WEBHOOK_SECRET_NAME, ForceDeleteWithoutRecovery=True)
    forget_secrets()


def webhook_secret_unset(stack: Any) -> None:
    boto3.client("secretsmanager").put_secret_value(SecretId=WEBHOOK_SECRET_NAME, SecretString="{}")
    forget_secrets()


def vendor_secret_unset(stack: Any) -> None:
    boto3.client("secretsmanager").put_secret_value(SecretId="customer-sync/local/exsalerate", SecretString="{}")
    forget_secrets()


def vendor_fault(kind: str, **options: Any) -> Callable[[Any], None]:
    return lambda stack: stack.simulators["exsalerate"].faults.add(kind, method="PUT", **options)


def password_changed(stack: Any) -> None:
    stack.simulators["exsalerate"].password = "changed-at-the-vendor"


SHOPIFY = webhook("01-shopify-customers-update.json")
HUBSPOT = webhook("05-hubspot-contact-property-changes.json")
PING = webhook("09-woocommerce-ping.json")
PUT = put("exsalerate")
# A scenario: the request, what is wrong (None: nothing), the status, members of the body (``...``: present).
SCENARIOS: dict[str, tuple[dict[str, Any], Callable[[Any], None] | None, int, dict[str, Any]]] = {
    "a signed change is queued": (SHOPIFY, None, 202, {"changeId": ...}),
    "a HubSpot delivery is several": (HUBSPOT, None, 202, {"changeIds": ...}),
    "a ping queues nothing": (PING, None, 200, {"changeIds": [], "vendors": []}),
    "the queue is unavailable": (SHOPIFY, queue_deleted, 503, {"error": ...}),
    "the source's secret is malformed": (SHOPIFY, secret_malformed, 503, {"error": ...}),
    "Secrets Manager is unavailable": (SHOPIFY, webhook_secret_deleted, 503, {"error": ...}),
    "the source is not configured": (SHOPIFY, webhook_secret_unset, 404, {"error": ...}),
    "the vendor is not configured": (PUT, vendor_secret_unset, 503, {"error": ...}),
    "a dry run": (put("exsalerate", dryRun="true"), None, 200, {"dryRun": True, "request": ...}),
    "applied": (PUT, None, 200, {"outcome": "applied"}),
    "the vendor refuses the customer": (PUT, vendor_fault("status", status=400), 422, {"vendorStatus": 400}),
    "the vendor is down": (PUT, vendor_fault("status", status=503), 503, {"vendorStatus": 503}),
    "the vendor drops the connection": (PUT, vendor_fault("reset"), 503, {"error": ...}),
    "the vendor refuses our credentials": (PUT, password_changed, 502, {"vendorStatus": 401}),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_each_documented_cause_gives_its_documented_answer(stack: Any, gateway: Gateway, scenario: str) -> None:
    request, cause, status, expected = SCENARIOS[scenario]
    if cause is not None:
        cause(stack)
    if "sample" in request:
        event = signed_call(request)
        case = schema.find_operation_by_id("receiveWebhook").Case(path_parameters={"source": request["source"]})
        response = case.call(app=gateway, headers=event["headers"], data=event["body"].encode())
    else:
        case = schema.find_operation_by_id("putCustomer").Case(
            path_parameters={"vendor": request["vendor"], "key": "DOC-1"},
            query=request["query"],
            body=request["body"],
            media_type="application/json",
        )
        response = case.call(app=gateway)

    case.validate_response(response, checks=CONFORMANCE)
    assert response.status_code == status, response.text
    body = response.json()
    assert {name: body.get(name, "absent") for name in expected} == {
        name: body.get(name, "absent") if value is ... else value for name, value in expected.items()
    }
