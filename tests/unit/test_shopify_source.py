import json
import time
from typing import Any

import pytest
from pydantic import ValidationError

from custsync.model import CustomerChange
from custsync.sources import SignatureInvalid, TimeWindow, WebhookRequest
from custsync.sources.shopify import SOURCE, sign

SECRET = "shpss_unit_test_secret"
WINDOW = TimeWindow(now=time.time(), tolerance_seconds=300)


def request(body: bytes, sent: dict[str, str]) -> WebhookRequest:
    return WebhookRequest("POST", "https://hooks.example.com/webhooks/shopify", sent, body)


def normalise(sent: dict[str, str], payload: dict[str, Any]) -> CustomerChange:
    (change,) = SOURCE.normalise(request(json.dumps(payload).encode(), sent))
    return change


def payload(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": 7001,
        "email": "ada@example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "phone": "+46701234567",
        "state": "enabled",
        "note": "Prefers email",
        "tags": "vip",
        "updated_at": "2026-11-20T10:00:00+01:00",
        "default_address": {
            "company": "Acme AB",
            "address1": "Drottninggatan 1",
            "city": "Stockholm",
            "province": "Stockholm",
            "zip": "111 51",
            "country_code": "SE",
        },
    }
    body.update(overrides)
    return body


def headers(body: bytes, **overrides: str) -> dict[str, str]:
    values = {
        "X-Shopify-Topic": "customers/update",
        "X-Shopify-Hmac-Sha256": sign(body, SECRET),
        "X-Shopify-Webhook-Id": "wh-1",
    }
    values.update(overrides)
    return values


def test_a_body_signed_with_the_secret_verifies_whatever_the_header_case() -> None:
    body = json.dumps(payload()).encode()
    lower = {k.lower(): v for k, v in headers(body).items()}
    SOURCE.verify(request(body, lower), [SECRET], WINDOW)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b, h: (b + b" ", h), "does not match"),
        (lambda b, h: (b, {**h, "X-Shopify-Hmac-Sha256": sign(b, "another-secret")}), "does not match"),
        (lambda b, h: (b, {k: v for k, v in h.items() if k != "X-Shopify-Hmac-Sha256"}), "missing"),
    ],
)
def test_a_tampered_or_unsigned_body_is_refused(mutate: Any, message: str) -> None:
    body = json.dumps(payload()).encode()
    body, sent = mutate(body, headers(body))
    with pytest.raises(SignatureInvalid, match=message):
        SOURCE.verify(request(body, sent), [SECRET], WINDOW)


def test_a_customers_update_maps_to_the_canonical_change() -> None:
    body = json.dumps(payload()).encode()
    change = normalise(headers(body), payload())

    assert change.change_id.startswith("shopify:7001:")
    assert change.source == "shopify"
    assert change.occurred_at.isoformat() == "2026-11-20T10:00:00+01:00"
    customer = change.customer
    assert (customer.key, customer.first_name, customer.last_name, customer.company) == (
        "7001",
        "Ada",
        "Lovelace",
        "Acme AB",
    )
    assert customer.email == "ada@example.com"
    assert "status" not in customer.model_fields_set, "state is the login account's, not the customer's activity"
    assert customer.address is not None and customer.address.country == "SE"
    assert customer.phones is not None and customer.phones.main == "+46701234567"
    assert customer.attributes == {"tags": "vip"}


def test_fields_shopify_left_out_stay_not_sent() -> None:
    sparse = {"id": 7001, "updated_at": "2026-11-20T10:00:00Z", "email": "ada@example.com"}
    change = normalise(headers(b"{}"), sparse)
    assert change.customer.model_fields_set == {"key", "email"}


def test_a_redelivered_body_is_the_same_change_whatever_its_unsigned_webhook_id() -> None:
    """Shopify signs the body alone: a captured body sent again with a fresh X-Shopify-Webhook-Id (or none) is
    the change it was, so the queues and the state table deduplicate it."""
    body = json.dumps(payload()).encode()
    first = normalise(headers(body), payload())
    again = [normalise(headers(body, **{"X-Shopify-Webhook-Id": "fresh-id"}), payload())]
    again.append(normalise({k: v for k, v in headers(body).items() if k != "X-Shopify-Webhook-Id"}, payload()))
    assert [change.change_id for change in again] == [first.change_id] * 2
    assert normalise(headers(body), payload(note="Prefers phone")).change_id != first.change_id
    create = normalise(headers(body, **{"X-Shopify-Topic": "customers/create"}), payload())
    assert create.change_id != first.change_id, "one id per handled topic"


@pytest.mark.parametrize(
    "topic", ["orders/create", "customers/disable", "customers/enable", "customers/data_request", "shop/redact"]
)
def test_a_topic_not_handled_is_acknowledged_and_named_as_ignored(topic: str) -> None:
    body = json.dumps(payload()).encode()
    changes = SOURCE.normalise(request(body, headers(body, **{"X-Shopify-Topic": topic})))
    assert (changes, changes.ignored) == ([], [topic])


@pytest.mark.parametrize("state", ["disabled", "invited", "enabled", "declined"])
def test_the_login_account_state_never_sets_the_status(state: str) -> None:
    """Shopify's state is the customer's login account: "disabled" (the default) is a guest, not an inactive one."""
    change = normalise(headers(b""), payload(state=state))
    assert "status" not in change.customer.model_fields_set


def test_empty_strings_clear() -> None:
    address = {"address1": "Drottninggatan 1", "address2": "", "company": "", "province": "", "country_code": "SE"}
    change = normalise(headers(b""), payload(default_address=address, note="", last_name=""))
    customer = change.customer
    assert customer.address is not None and customer.address.line2 is None and customer.address.region is None
    assert (customer.company, customer.notes, customer.last_name) == (None, None, None)
    assert {"company", "notes", "last_name"} <= customer.model_fields_set


@pytest.mark.parametrize(
    ("address", "region"),
    [
        ({"province": "Kentucky", "province_code": "KY", "country_code": "US"}, "US-KY"),
        ({"province": "Stockholms län", "province_code": "AB", "country_code": "SE"}, "SE-AB"),
        ({"province": "Ontario", "province_code": None, "country_code": "CA"}, "CA-ON"),
        ({"province": "Lapland", "province_code": None, "country_code": "FI"}, "Lapland"),
        ({"province": "Kentucky", "province_code": "KY", "country_code": None}, "Kentucky"),
    ],
)
def test_the_region_is_its_iso_3166_2_code_where_shopify_gives_one(address: dict[str, Any], region: str) -> None:
    change = normalise(headers(b""), payload(default_address=address))
    assert change.customer.address is not None and change.customer.address.region == region


def test_a_deletion_and_a_redaction_are_the_key_alone_at_the_time_shopify_triggered_them() -> None:
    triggered = {"X-Shopify-Triggered-At": "2026-11-21T09:00:00Z"}
    delete_headers = headers(b"", **{"X-Shopify-Topic": "customers/delete", **triggered})
    deleted = SOURCE.normalise(request(json.dumps({"id": 7001}).encode(), delete_headers))
    redact = {"shop_id": 954889, "customer": {"id": 7001, "email": "ada@example.com", "phone": "555"}}
    redacted = SOURCE.normalise(
        request(json.dumps(redact).encode(), headers(b"", **{"X-Shopify-Topic": "customers/redact", **triggered}))
    )
    for (change,), kind in ((deleted, "delete"), (redacted, "erase")):
        assert (change.kind, change.customer.model_fields_set, change.customer.key) == (kind, {"key"}, "7001")
        assert change.occurred_at.isoformat() == "2026-11-21T09:00:00+00:00"


def test_a_redaction_without_a_trigger_time_takes_the_time_it_arrived() -> None:
    redact = {"shop_id": 954889, "customer": {"id": 7001}}
    sent = headers(b"", **{"X-Shopify-Topic": "customers/redact"})
    arrived = WebhookRequest(
        "POST", "https://hooks.example.com/webhooks/shopify", sent, json.dumps(redact).encode(), received_at=1.8e9
    )
    (change,) = SOURCE.normalise(arrived)
    assert change.occurred_at.timestamp() == 1.8e9


def test_an_invalid_country_names_the_field() -> None:
    bad = payload(default_address={"country_code": "Sweden"})
    with pytest.raises(ValidationError, match=r"customer\.address\.country"):
        normalise(headers(b""), bad)


def test_vendor_ids_come_from_the_customer_sync_metafields() -> None:
    metafields = [
        {"namespace": "customer_sync", "key": "everlytic", "value": 9001},
        {"namespace": "customer_sync", "key": "expandable.contact", "value": "ALOVELACE"},
        {"namespace": "loyalty", "key": "tier", "value": "gold"},
    ]
    change = normalise(headers(b""), payload(metafields=metafields))
    assert change.vendor_ids == {"everlytic": "9001", "expandable.contact": "ALOVELACE"}


def test_a_body_signed_with_any_listed_secret_verifies() -> None:
    body = json.dumps(payload()).encode()
    for secret in ("new-secret", SECRET):
        SOURCE.verify(request(body, {"X-Shopify-Hmac-Sha256": sign(body, secret)}), ["new-secret", SECRET], WINDOW)
    with pytest.raises(SignatureInvalid, match="does not match"):
        SOURCE.verify(request(body, {"X-Shopify-Hmac-Sha256": sign(body, SECRET)}), ["new-secret"], WINDOW)


@pytest.mark.parametrize("garbage", ["not base64!", "ä", "\udc80"])
def test_a_signature_that_is_not_base64_is_refused_not_a_crash(garbage: str) -> None:
    with pytest.raises(SignatureInvalid, match="does not match"):
        SOURCE.verify(request(b"{}", {"X-Shopify-Hmac-Sha256": garbage}), [SECRET], WINDOW)
