"""A secret that is unset (``{}``, as the template creates it), incomplete, a placeholder or wrong is NOT CONFIGURED.

The webhook answers the source 404; a vendor function parks each change at once with a reason naming what is
missing (errorType ``NotConfigured``), however its container started, and once the operator sets the secret a
redrive goes through, with no wait for the cached secret to expire. Secrets Manager failing is a retry, never a
crash. All against moto and the simulators.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from conftest import WEBHOOK_SECRET_NAME, WEBHOOK_SECRETS, WebhookPost, forget_secrets
from devkit import dlq
from devkit.target import Target
from flow import (
    ALL_VENDORS,
    SOURCE_SAMPLES,
    VENDOR_FUNCTIONS,
    api_event,
    change,
    dlq_messages,
    pump,
    queue,
    queue_depth,
    sample_event,
    shopify_customer,
    shopify_event,
    signed,
    sqs_batch,
)

CUSTOMER = {"key": "NC1", "first_name": "Ada", "last_name": "Lovelace", "company": "Unset AB"}
EVERLYTIC_ID = 9001  # Everlytic updates by its own id; the simulator is seeded with it


def set_secret(name: str, value: Any) -> None:
    text = value if isinstance(value, str) else json.dumps(value)
    boto3.client("secretsmanager").put_secret_value(SecretId=name, SecretString=text)


def stored(name: str) -> Any:
    return json.loads(boto3.client("secretsmanager").get_secret_value(SecretId=name)["SecretString"])


def queue_two(stack: Any, vendor: str) -> None:
    ids = {"everlytic": str(EVERLYTIC_ID)}
    changes = [change(f"nc-{n}", f"2026-11-20T09:0{n}:00Z", CUSTOMER, vendor_ids=ids) for n in (1, 2)]
    queue(stack, VENDOR_FUNCTIONS[vendor], *changes)


# -- vendors -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("vendor", ALL_VENDORS)
def test_an_unset_vendor_secret_parks_each_change_at_once_and_a_redrive_after_setting_it_applies(
    stack: Any, vendor_handler: Any, lambda_context: Any, vendor: str
) -> None:
    name = f"customer-sync/local/{vendor}"
    configured = stored(name)
    set_secret(name, {})  # what the template creates
    forget_secrets()
    handler = vendor_handler(vendor)  # a cold start: builds nothing yet, so it cannot crash on the secret
    if vendor == "everlytic":
        stack.simulators[vendor].seed_customer(EVERLYTIC_ID, name="Seeded")
    queue_two(stack, vendor)

    delivery = pump(stack, VENDOR_FUNCTIONS[vendor], handler, lambda_context)

    assert (delivery.delivered, delivery.failed) == (2, 0), "each change parked, none left to retry"
    target = Target(stack.root, "local")  # `custsync dlq list|redrive VENDOR --stage local`, through moto
    dlq_url = target.queue_url(vendor, dlq=True)
    parked = [item.as_dict() for item in dlq.peek(target.sqs, dlq_url, 10)]  # shown, and left in the DLQ
    assert len(parked) == 2
    for message in parked:
        assert message["errorType"] == "NotConfigured"
        assert message["reason"].startswith(f"not configured: secret {name}: lacks base_url, ")
        assert (message["attempts"], message["deliveries"]) == ("0", "1")
    assert stack.simulators[vendor].calls == []

    set_secret(name, configured)  # no wait for the container's cached copy to expire
    assert dlq.redrive(target.sqs, dlq_url, target.queue_url(vendor), dlq.Selection()) == 2
    assert pump(stack, VENDOR_FUNCTIONS[vendor], handler, lambda_context).failed == 0
    assert dlq_messages(stack, VENDOR_FUNCTIONS[vendor]) == []
    assert stack.simulators[vendor].calls != []


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ({"base_url": "https://set-me.example"}, "lacks base_url, username, password"),  # the old template's
        ({"base_url": "http://127.0.0.1:9", "username": "u", "password": "set-me"}, "lacks password"),
        ({"base_url": "http://127.0.0.1:9", "username": "u", "password": ""}, "lacks password"),
        ({"base_url": "http://crm.example", "username": "u", "password": "p"}, "base_url: must be https"),
        ({"base_url": "https://crm.example", "username": "u", "password": "p", "format": "yaml"}, "format: Input "),
        ('{"base_url": "https://crm.example", ', "must hold a JSON object; it is not JSON"),
    ],
    ids=["placeholder", "placeholder password", "empty password", "plain http", "unknown format", "not JSON"],
)
def test_a_placeholder_missing_key_plain_http_or_wrong_value_is_not_configured(
    stack: Any, exsalerate: Any, lambda_context: Any, value: Any, reason: str
) -> None:
    set_secret("customer-sync/local/exsalerate", value)
    forget_secrets()
    queue_two(stack, "exsalerate")

    assert pump(stack, "ExsalerateFunction", exsalerate, lambda_context).failed == 0

    parked = dlq_messages(stack, "ExsalerateFunction")
    assert [m["errorType"] for m in parked] == ["NotConfigured"] * 2
    assert all(m["reason"].startswith("not configured: ") and reason in m["reason"] for m in parked)
    assert stack.simulators["exsalerate"].calls == []


def test_a_secret_broken_while_warm_parks_at_the_credential_refresh(
    stack: Any, exsalerate: Any, lambda_context: Any
) -> None:
    """The vendor refuses the cached credentials; re-read, the secret is a placeholder: parked, not retried."""
    queue(stack, "ExsalerateFunction", change("warm-1", "2026-11-20T09:00:00Z", CUSTOMER))
    assert pump(stack, "ExsalerateFunction", exsalerate, lambda_context).failed == 0
    stack.simulators["exsalerate"].password = "changed-at-the-vendor"
    set_secret("customer-sync/local/exsalerate", {**stored("customer-sync/local/exsalerate"), "password": "set-me"})
    queue(stack, "ExsalerateFunction", change("warm-2", "2026-11-20T09:01:00Z", {**CUSTOMER, "company": "Two AB"}))

    assert pump(stack, "ExsalerateFunction", exsalerate, lambda_context).failed == 0

    (parked,) = dlq_messages(stack, "ExsalerateFunction")
    assert (parked["errorType"], parked["reason"]) == (
        "NotConfigured",
        "not configured: secret customer-sync/local/exsalerate: lacks password",
    )


def test_secrets_manager_failing_is_a_retry_of_each_change_not_a_crash(
    stack: Any, exsalerate: Any, lambda_context: Any
) -> None:
    boto3.client("secretsmanager").delete_secret(
        SecretId="customer-sync/local/exsalerate", ForceDeleteWithoutRecovery=True
    )
    forget_secrets()
    queue_two(stack, "exsalerate")
    messages, event = sqs_batch(stack, "ExsalerateFunction")

    response = exsalerate(event, lambda_context)

    assert sorted(f["itemIdentifier"] for f in response["batchItemFailures"]) == sorted(
        m["MessageId"] for m in messages
    )
    assert dlq_messages(stack, "ExsalerateFunction") == []
    assert queue_depth(stack, "ExsalerateFunction") == 2


def test_the_sync_api_answers_503_naming_what_is_missing(stack: Any, exsalerate: Any, lambda_context: Any) -> None:
    set_secret("customer-sync/local/exsalerate", {})
    forget_secrets()
    for query in (None, {"dryRun": "true"}):
        path = {"vendor": "exsalerate", "key": "K-NC"}
        event = api_event("PUT", "/vendors/exsalerate/customers/K-NC", '{"company": "Api AB"}', {}, path, query)
        event["resource"] = "/vendors/{vendor}/customers/{key}"
        response = exsalerate(event, lambda_context)
        status, body = response["statusCode"], json.loads(response["body"])
        assert (status, body) == (
            503,
            {"error": "not configured: secret customer-sync/local/exsalerate: lacks base_url, username, password"},
        )


# -- the webhook -------------------------------------------------------------------------------------------------


def test_a_fresh_stack_refuses_a_webhook_signed_with_the_old_default_secret(post: WebhookPost, stack: Any) -> None:
    """The template used to create the webhook secret as {"shopify": "set-me"}: anyone could sign with it."""
    set_secret(WEBHOOK_SECRET_NAME, {"shopify": "set-me"})
    forget_secrets()

    status, body = post(shopify_event(shopify_customer(), "forged", "set-me"))

    assert (status, body) == (404, {"error": "source: 'shopify' is not configured as a webhook source"})
    assert all(queue_depth(stack, function) == 0 for function in VENDOR_FUNCTIONS.values())


@pytest.mark.parametrize(
    "secret",
    [{}, dict(zip(sorted(SOURCE_SAMPLES), [None, "", [], ["", "set-me-please"], "set-me"], strict=True))],
    ids=["{}", "empty or placeholders"],
)
def test_a_source_without_a_signing_secret_is_404(post: WebhookPost, stack: Any, secret: dict[str, Any]) -> None:
    set_secret(WEBHOOK_SECRET_NAME, secret)
    forget_secrets()

    for source in sorted(SOURCE_SAMPLES):
        status, body = post(signed(sample_event(source), WEBHOOK_SECRETS[source]))
        assert (status, body) == (404, {"error": f"source: '{source}' is not configured as a webhook source"})
    assert queue_depth(stack, "ExsalerateFunction") == 0


@pytest.mark.parametrize(
    ("break_it", "error"),
    [
        (
            lambda: boto3.client("secretsmanager").delete_secret(
                SecretId=WEBHOOK_SECRET_NAME, ForceDeleteWithoutRecovery=True
            ),
            "secret: temporarily unavailable, redeliver later",
        ),
        (lambda: set_secret(WEBHOOK_SECRET_NAME, "shopify=abc"), "source: 'shopify' has a misconfigured secret"),
        (lambda: set_secret(WEBHOOK_SECRET_NAME, "[]"), "source: 'shopify' has a misconfigured secret"),
    ],
    ids=["deleted", "not JSON", "not an object"],
)
def test_secrets_manager_failing_or_a_secret_that_is_not_a_json_object_is_503(
    post: WebhookPost, stack: Any, break_it: Any, error: str
) -> None:
    break_it()
    forget_secrets()

    status, body = post(shopify_event(shopify_customer(), "wh-sm", WEBHOOK_SECRETS["shopify"]))

    assert status == 503
    assert body["error"].startswith(error)
    assert queue_depth(stack, "ExsalerateFunction") == 0
