"""Every webhook source through the real handler, moto's queues and Secrets Manager: answers and secret rotation."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from conftest import WEBHOOK_SECRET_NAME, WEBHOOK_SECRETS, WebhookPost, forget_secrets
from flow import ALL_VENDORS, SOURCE_SAMPLES, api_event, queue_depth, sample_event, signed
from suite_clock import CLOCK


def queued(stack: Any) -> list[dict[str, Any]]:
    url, _ = stack.queue_of("ExsalerateFunction")
    messages = stack.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])
    return [
        {"group": m["Attributes"]["MessageGroupId"], "dedup": m["Attributes"]["MessageDeduplicationId"],
         **json.loads(m["Body"])}
        for m in messages.get("Messages", [])
    ]  # fmt: skip


@pytest.mark.parametrize("source", sorted(SOURCE_SAMPLES))
def test_each_sources_signed_sample_is_queued_for_every_vendor(post: WebhookPost, stack: Any, source: str) -> None:
    status, body = post(signed(sample_event(source), WEBHOOK_SECRETS[source]))
    assert status == 202, body
    assert body["vendors"] == ALL_VENDORS
    change_ids = body.get("changeIds") or [body["changeId"]]
    messages = queued(stack)
    assert sorted(m["dedup"] for m in messages) == sorted(change_ids)
    assert {m["source"] for m in messages} == {"erp" if source == "standardwebhooks" else source}
    assert all(m["group"] == m["customer"]["key"] for m in messages)


def test_a_hubspot_delivery_for_two_contacts_is_three_changes_in_two_groups(post: WebhookPost, stack: Any) -> None:
    status, body = post(signed(sample_event("hubspot"), WEBHOOK_SECRETS["hubspot"]))
    assert status == 202
    assert set(body) == {"changeIds", "vendors"} and len(body["changeIds"]) == 3
    assert sorted(m["group"] for m in queued(stack)) == ["hubspot:5101", "hubspot:5101", "hubspot:5102"]


def test_the_woocommerce_ping_is_200_and_queues_nothing(post: WebhookPost, stack: Any) -> None:
    status, body = post(sample_event("woocommerce", "09-woocommerce-ping.json"))  # unsigned, as WooCommerce sends it
    assert (status, body) == (200, {"changeIds": [], "vendors": []})
    assert queue_depth(stack, "ExsalerateFunction") == 0


def test_a_stripe_event_type_not_handled_is_acknowledged(post: WebhookPost, stack: Any) -> None:
    event = sample_event("stripe")
    event["body"] = json.dumps({"id": "evt_invoice", "object": "event", "type": "invoice.paid", "data": {"object": {}}})
    status, body = post(signed(event, WEBHOOK_SECRETS["stripe"]))
    assert (status, body) == (200, {"changeIds": [], "vendors": []})
    assert queue_depth(stack, "ExsalerateFunction") == 0


@pytest.mark.parametrize(
    ("source", "header"),
    [
        ("hubspot", "X-HubSpot-Request-Timestamp"),
        ("stripe", "Stripe-Signature"),
        ("standardwebhooks", "webhook-timestamp"),
    ],
)
def test_a_stale_or_post_dated_timestamp_is_401_naming_the_header(
    post: WebhookPost, stack: Any, source: str, header: str
) -> None:
    for skew, word in ((-301, "old"), (301, "future")):
        status, body = post(signed(sample_event(source), WEBHOOK_SECRETS[source], CLOCK.now() + skew))
        assert status == 401
        assert body["error"].startswith(f"{header}: timestamp is more than 300 seconds") and word in body["error"]
    assert queue_depth(stack, "ExsalerateFunction") == 0


@pytest.mark.parametrize("source", sorted(SOURCE_SAMPLES))
def test_a_sample_signed_with_another_secret_is_401_and_says_nothing_of_the_secrets(
    post: WebhookPost, source: str
) -> None:
    other = {"standardwebhooks": "whsec_b3RoZXI=", "stripe": "whsec_another"}.get(source, "another-secret")
    status, body = post(signed(sample_event(source), other))
    assert status == 401
    assert "secret" not in body["error"]


@pytest.mark.parametrize("secrets", [{WEBHOOK_SECRET_NAME: {"stripe": []}}], indirect=True)
def test_a_source_without_a_secret_is_404(post: WebhookPost) -> None:
    status, body = post(signed(sample_event("stripe"), WEBHOOK_SECRETS["stripe"]))
    assert status == 404
    assert body["error"] == "source: 'stripe' is not configured as a webhook source"


@pytest.mark.parametrize(
    "secrets", [{WEBHOOK_SECRET_NAME: {"stripe": 42, "standardwebhooks": "whsec_not base64!"}}], indirect=True
)
@pytest.mark.parametrize("source", ["stripe", "standardwebhooks"])
def test_a_misconfigured_secret_is_503_so_the_sender_redelivers(post: WebhookPost, source: str) -> None:
    status, body = post(signed(sample_event(source), WEBHOOK_SECRETS[source]))
    assert status == 503
    assert "misconfigured secret" in body["error"]


@pytest.mark.parametrize("source", sorted(SOURCE_SAMPLES))
def test_a_secret_is_rotated_without_refusing_a_webhook(post: WebhookPost, source: str) -> None:
    """The README's procedure: add the new secret first, switch the sender once every container has read it
    (``CACHE_SECONDS``), remove the old one. Every webhook the sender signs along the way is accepted."""
    old = WEBHOOK_SECRETS[source]
    new = {"standardwebhooks": "whsec_bmV3LWtleQ==", "stripe": "whsec_new"}.get(source, "new-secret")
    secretsmanager = boto3.client("secretsmanager")

    def configure(value: str | list[str]) -> None:
        secret = json.loads(secretsmanager.get_secret_value(SecretId=WEBHOOK_SECRET_NAME)["SecretString"])
        secretsmanager.put_secret_value(
            SecretId=WEBHOOK_SECRET_NAME, SecretString=json.dumps({**secret, source: value})
        )

    def answer(secret: str) -> int:
        return post(signed(sample_event(source), secret))[0]

    assert answer(old) == 202
    configure([new, old])
    assert answer(old) == 202, "containers still holding the old list accept the sender, which has not switched"
    forget_secrets()  # CACHE_SECONDS later: every container has read [new, old]; the sender switches to new
    assert (answer(new), answer(old)) == (202, 202), "in-flight retries signed with the old secret still pass"
    configure([new])
    assert answer(new) == 202
    forget_secrets()
    assert (answer(new), answer(old)) == (202, 401)


def test_an_unknown_route_and_source_keep_their_answers(post: WebhookPost) -> None:
    assert post(api_event("POST", "/webhooks/magento", "{}", {}, {"source": "magento"}))[0] == 404
