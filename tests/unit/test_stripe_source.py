"""Stripe-Signature and customer events; stripe-python signs the requests and checks what ``sign`` makes."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import stripe as stripe_python
from pydantic import ValidationError

from custsync.sources import SignatureInvalid, TimeWindow, WebhookRequest
from custsync.sources.base import Changes
from custsync.sources.stripe import SOURCE, split_name

SECRET = "whsec_unit_test_endpoint_secret"
URL = "https://hooks.example.com/prod/webhooks/stripe"
NOW = int(time.time())
WINDOW = TimeWindow(now=NOW, tolerance_seconds=300)


def stripe_customer(**overrides: Any) -> dict[str, Any]:
    customer: dict[str, Any] = {
        "id": "cus_Q1w2E3r4T5y6U7",
        "object": "customer",
        "address": {
            "city": "Hampton",
            "country": "US",
            "line1": "1 Langley Blvd",
            "line2": None,
            "postal_code": "23681",
            "state": "VA",
        },
        "balance": 0,
        "created": 1763632000,
        "email": "mary@example.com",
        "metadata": {"tier": "gold", "customer_sync.everlytic": "9005"},
        "name": "Mary Winston Jackson",
        "phone": "+1 757 555 0150",
        "shipping": None,
    }
    customer.update(overrides)
    return customer


def stripe_event(kind: str = "customer.created", previous: dict[str, Any] | None = None, **customer: Any) -> bytes:
    data: dict[str, Any] = {"object": stripe_customer(**customer)}
    if previous is not None:
        data["previous_attributes"] = previous
    body = {
        "id": "evt_1QzXyZ2eZvKYlo2C",
        "object": "event",
        "api_version": "2025-10-29.clover",
        "created": 1763632800,
        "data": data,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": "req_1", "idempotency_key": None},
        "type": kind,
    }
    return json.dumps(body, indent=2).encode()


def stripe_signed(body: bytes, *, secret: str = SECRET, at: int = NOW) -> WebhookRequest:
    """As Stripe sends it: the header made by stripe-python's own signing helper."""
    header = stripe_python.WebhookSignature.generate_signature_header(body.decode(), secret, timestamp=at)
    return WebhookRequest("POST", URL, {"Stripe-Signature": header, "Content-Type": "application/json"}, body)


def normalise(body: bytes) -> Changes:
    return SOURCE.normalise(WebhookRequest("POST", URL, {}, body))


BODY = stripe_event()


# -- verification --------------------------------------------------------------------------------


def test_a_body_signed_by_stripe_python_verifies() -> None:
    SOURCE.verify(stripe_signed(BODY), [SECRET], WINDOW)


def test_stripe_python_accepts_what_sign_produces() -> None:
    now = int(time.time())  # the library checks against the wall clock, not this module's NOW
    header = SOURCE.sign(WebhookRequest("POST", URL, {}, BODY), SECRET, now)["Stripe-Signature"]
    assert stripe_python.WebhookSignature.verify_header(BODY.decode(), header, SECRET, tolerance=300)
    event = stripe_python.Webhook.construct_event(BODY.decode(), header, SECRET)
    assert event.id == "evt_1QzXyZ2eZvKYlo2C"


def test_any_of_several_v1_signatures_may_match_and_other_schemes_are_ignored() -> None:
    good = stripe_signed(BODY).headers["Stripe-Signature"].split(",")[1]
    header = f"t={NOW},v0=00ff,v1={'0' * 64},{good},v2=whatever"
    SOURCE.verify(WebhookRequest("POST", URL, {"stripe-signature": header}, BODY), [SECRET], WINDOW)


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (WebhookRequest("POST", URL, stripe_signed(BODY).headers, BODY + b"\n"), "no v1 signature matches the body"),
        (stripe_signed(BODY, secret="whsec_another"), "no v1 signature matches"),
        (stripe_signed(BODY, at=NOW - 301), "Stripe-Signature: timestamp is more than 300 seconds old"),
        (stripe_signed(BODY, at=NOW + 301), "Stripe-Signature: timestamp is more than 300 seconds in the future"),
        (WebhookRequest("POST", URL, {"Stripe-Signature": f"v1={'0' * 64}"}, BODY), "has no t="),
        (WebhookRequest("POST", URL, {"Stripe-Signature": f"t={NOW},v0=abc"}, BODY), "has no v1 signature"),
        (WebhookRequest("POST", URL, {"Stripe-Signature": f"t={NOW},v1=zz"}, BODY), "no v1 signature matches"),
        (WebhookRequest("POST", URL, {}, BODY), "Stripe-Signature: header is missing"),
    ],
    ids=["tampered", "wrong-secret", "stale", "future", "no-t", "no-v1", "not-hex", "unsigned"],
)
def test_a_body_not_signed_by_stripe_now_is_refused(request_: WebhookRequest, message: str) -> None:
    with pytest.raises(SignatureInvalid, match=message):
        SOURCE.verify(request_, [SECRET], WINDOW)


def test_during_a_rotation_either_secret_verifies() -> None:
    for secret in ("whsec_new", SECRET):
        SOURCE.verify(stripe_signed(BODY, secret=secret), ["whsec_new", SECRET], WINDOW)
    with pytest.raises(SignatureInvalid):
        SOURCE.verify(stripe_signed(BODY), ["whsec_new"], WINDOW)


# -- mapping -------------------------------------------------------------------------------------


def test_customer_created_is_a_full_change() -> None:
    (change,) = normalise(BODY)
    assert (change.change_id, change.source) == ("evt_1QzXyZ2eZvKYlo2C", "stripe")
    assert change.occurred_at.isoformat() == "2025-11-20T10:00:00+00:00"
    customer = change.customer
    assert customer.key == "stripe:cus_Q1w2E3r4T5y6U7"
    assert (customer.first_name, customer.last_name, customer.email) == ("Mary Winston", "Jackson", "mary@example.com")
    assert customer.phones is not None and customer.phones.main == "+1 757 555 0150"
    assert customer.address is not None
    assert customer.address.model_dump() == {
        "line1": "1 Langley Blvd",
        "line2": None,
        "line3": None,
        "city": "Hampton",
        "region": "US-VA",
        "postal_code": "23681",
        "country": "US",
    }
    assert customer.attributes == {"tier": "gold"}
    assert change.vendor_ids == {"everlytic": "9005"}


def test_customer_updated_carries_only_what_previous_attributes_names() -> None:
    body = stripe_event(
        "customer.updated",
        previous={"phone": None, "address": {"line1": "Old road 1"}, "metadata": {"tier": "silver", "vip": "yes"}},
    )
    (change,) = normalise(body)
    customer = change.customer
    assert customer.model_fields_set == {"key", "phones", "address", "attributes"}
    assert customer.address is not None and customer.address.model_fields_set == {"line1"}
    assert customer.attributes == {"tier": "gold", "vip": None}  # "vip" was removed from the metadata


def test_a_name_change_sets_both_names_and_a_removed_address_clears_it() -> None:
    body = stripe_event("customer.updated", previous={"name": "Mary Jackson", "address": {"city": "X"}}, address=None)
    (change,) = normalise(body)
    assert change.customer.model_fields_set == {"key", "first_name", "last_name", "address"}
    assert change.customer.address is None


def test_an_update_of_fields_not_carried_queues_nothing() -> None:
    assert normalise(stripe_event("customer.updated", previous={"balance": 100, "invoice_settings": {}})) == []


@pytest.mark.parametrize("kind", ["invoice.paid", "customer.subscription.created", "customer.source.deleted"])
def test_other_event_types_are_acknowledged_with_nothing_queued(kind: str) -> None:
    changes = normalise(json.dumps({"id": "evt_1", "type": kind, "data": {"object": {"object": "invoice"}}}).encode())
    assert (changes, changes.ignored) == ([], [kind])


def test_a_deleted_customer_is_a_deletion_of_its_key() -> None:
    (change,) = normalise(stripe_event("customer.deleted"))
    assert (change.kind, change.customer.key) == ("delete", "stripe:cus_Q1w2E3r4T5y6U7")
    assert (change.customer.model_fields_set, change.vendor_ids) == ({"key"}, {})
    assert (change.change_id, change.occurred_at.isoformat()) == ("evt_1QzXyZ2eZvKYlo2C", "2025-11-20T10:00:00+00:00")


@pytest.mark.parametrize(
    ("address", "region"),
    [
        ({"state": "Virginia", "country": "US"}, "US-VA"),
        ({"state": "ON", "country": "CA"}, "CA-ON"),
        ({"state": "Norrland", "country": "SE"}, "Norrland"),
        ({"state": "", "country": "SE"}, None),
    ],
)
def test_the_state_is_its_iso_3166_2_code_when_it_names_a_subdivision(address: dict[str, str], region: str) -> None:
    (change,) = normalise(stripe_event(address=address))
    assert change.customer.address is not None and change.customer.address.region == region


def test_a_country_that_is_not_a_code_names_the_field() -> None:
    with pytest.raises(ValidationError, match=r"customer\.address\.country"):
        normalise(stripe_event(address={"country": "United States"}))


def test_a_customer_event_without_its_customer_names_the_field() -> None:
    with pytest.raises(ValidationError, match=r"data\.object"):
        normalise(json.dumps({"id": "evt_1", "type": "customer.created", "created": 1, "data": {}}).encode())


@pytest.mark.parametrize(
    ("name", "split"),
    [("Ada Lovelace", ("Ada", "Lovelace")), ("Mary Ann  Smith ", ("Mary Ann", "Smith")), ("Cher", (None, "Cher")),
     ("", (None, None)), (None, (None, None))],
)  # fmt: skip
def test_stripes_one_name_is_split_at_its_last_space(name: str | None, split: tuple[str | None, str | None]) -> None:
    assert split_name(name) == split
