"""HubSpot signature v3 and contact property changes; HubSpot's own client library signs the requests."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hubspot.utils.signature import Signature  # type: ignore[import-untyped]
from pydantic import ValidationError

from custsync.sources import BadPayload, SignatureInvalid, TimeWindow, WebhookRequest
from custsync.sources.base import Changes
from custsync.sources.hubspot import SOURCE, signed_uri

SECRET = "hubspot-app-client-secret"
URL = "https://hooks.example.com/prod/webhooks/hubspot"
NOW = time.time()
WINDOW = TimeWindow(now=NOW, tolerance_seconds=300)
T0 = 1_763_632_800_000  # 2025-11-20T10:00:00Z in ms


def event(object_id: int, name: str, value: str | None, *, event_id: int = 1, at: int = T0, **extra: Any) -> Any:
    return {
        "eventId": event_id,
        "subscriptionId": 4242,
        "portalId": 62515,
        "appId": 9,
        "occurredAt": at,
        "subscriptionType": "contact.propertyChange",
        "attemptNumber": 0,
        "objectId": object_id,
        "propertyName": name,
        "propertyValue": value,
        "changeSource": "CRM_UI",
        **extra,
    }


def hubspot_signed(
    body: bytes, *, secret: str = SECRET, url: str = URL, method: str = "POST", at: float = NOW
) -> WebhookRequest:
    """The request as HubSpot sends it, signed by HubSpot's own library (which takes the URI already decoded)."""
    timestamp = str(int(at * 1000))
    signature = Signature.get_signature(secret, body.decode(), "v3", signed_uri(url), method, timestamp)
    headers = {"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": timestamp}
    return WebhookRequest(method, url, {**headers, "Content-Type": "application/json"}, body)


def changes(*events: Any) -> Changes:
    return SOURCE.normalise(WebhookRequest("POST", URL, {}, json.dumps(list(events)).encode()))


BODY = json.dumps([event(5101, "email", "katherine@example.com")]).encode()


# -- verification --------------------------------------------------------------------------------


def test_a_request_signed_by_hubspots_library_verifies() -> None:
    SOURCE.verify(hubspot_signed(BODY), [SECRET], WINDOW)


def test_hubspots_library_accepts_what_sign_produces() -> None:
    request = WebhookRequest("POST", URL, {}, BODY)
    headers = SOURCE.sign(request, SECRET, time.time())  # the library checks against the wall clock
    timestamp = headers["X-HubSpot-Request-Timestamp"]
    assert Signature.is_valid(headers["X-HubSpot-Signature-v3"], SECRET, BODY.decode(), URL, "POST", "v3", timestamp)


def test_the_uri_is_signed_with_hubspots_listed_characters_decoded() -> None:
    url = "https://hooks.example.com/prod/webhooks/hubspot?app=crm%3Async&who=a%40b%2Cc&path=%2Fx%28y%29&n=%25"
    assert signed_uri(url) == "https://hooks.example.com/prod/webhooks/hubspot?app=crm:sync&who=a@b,c&path=/x(y)&n=%25"
    SOURCE.verify(hubspot_signed(BODY, url=url), [SECRET], WINDOW)


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (WebhookRequest("POST", URL, hubspot_signed(BODY).headers, BODY + b" "), "does not match"),
        (hubspot_signed(BODY, secret="another-secret"), "does not match"),
        (WebhookRequest("POST", URL + "x", hubspot_signed(BODY).headers, BODY), "does not match"),
        (WebhookRequest("PUT", URL, hubspot_signed(BODY).headers, BODY), "does not match"),
        (hubspot_signed(BODY, at=NOW - 301), "X-HubSpot-Request-Timestamp: timestamp is more than 300 seconds old"),
        (hubspot_signed(BODY, at=NOW + 301), "more than 300 seconds in the future"),
        (WebhookRequest("POST", URL, {"X-HubSpot-Request-Timestamp": "1"}, BODY), "X-HubSpot-Signature-v3: header"),
        (
            WebhookRequest("POST", URL, {"X-HubSpot-Signature-v3": "x", "X-HubSpot-Request-Timestamp": "soon"}, BODY),
            "X-HubSpot-Request-Timestamp: is not a unix timestamp",
        ),
    ],
    ids=["tampered-body", "wrong-secret", "other-url", "other-method", "stale", "future", "unsigned", "bad-time"],
)
def test_a_request_not_signed_by_hubspot_now_is_refused(request_: WebhookRequest, message: str) -> None:
    with pytest.raises(SignatureInvalid, match=message):
        SOURCE.verify(request_, [SECRET], WINDOW)


def test_during_a_rotation_either_secret_verifies_and_a_removed_one_does_not() -> None:
    for secret in ("new-secret", SECRET):
        SOURCE.verify(hubspot_signed(BODY, secret=secret), ["new-secret", SECRET], WINDOW)
    with pytest.raises(SignatureInvalid):
        SOURCE.verify(hubspot_signed(BODY, secret=SECRET), ["new-secret"], WINDOW)


def test_the_window_is_the_configured_tolerance() -> None:
    SOURCE.verify(hubspot_signed(BODY, at=NOW - 500), [SECRET], TimeWindow(now=NOW, tolerance_seconds=600))


# -- mapping -------------------------------------------------------------------------------------


def test_a_new_contacts_properties_set_at_one_instant_are_one_partial_change() -> None:
    (change,) = changes(
        event(5101, "firstname", "Katherine", event_id=11),
        event(5101, "lastname", "Johnson", event_id=12),
        event(5101, "email", "katherine@example.com", event_id=13),
        event(5101, "mobilephone", "+1 757 555 0100", event_id=14),
        event(5101, "city", "Hampton", event_id=15),
        event(5101, "lifecyclestage", "customer", event_id=16),
        event(5101, "customer_sync_everlytic", "9003", event_id=17),
        event(5101, "customer_sync_expandable_contact", "KJOHNSON", event_id=18),
    )
    assert change.source == "hubspot"
    assert change.occurred_at.isoformat() == "2025-11-20T10:00:00+00:00"
    customer = change.customer
    assert customer.key == "hubspot:5101"
    assert customer.model_fields_set == {"key", "first_name", "last_name", "email", "phones", "address", "attributes"}
    assert (customer.first_name, customer.last_name, customer.email) == (
        "Katherine",
        "Johnson",
        "katherine@example.com",
    )
    assert customer.phones is not None and customer.phones.model_fields_set == {"mobile"}
    assert customer.address is not None and customer.address.model_fields_set == {"city"}
    assert customer.attributes == {"lifecyclestage": "customer"}
    assert change.vendor_ids == {"everlytic": "9003", "expandable.contact": "KJOHNSON"}


def test_a_multi_contact_delivery_is_one_change_per_contact_and_instant_oldest_first() -> None:
    result = changes(
        event(5102, "email", "dorothy@example.com", event_id=21, at=T0 + 5_000),
        event(5101, "phone", "+1 757 555 0101", event_id=22, at=T0 + 9_000),
        event(5101, "hs_lead_status", "OPEN", event_id=23, at=T0),
        event(5102, "company", "NACA", event_id=24, at=T0 + 5_000),
        event(5101, "hs_lead_status", "CONNECTED", event_id=25, at=T0 + 9_000),
    )
    assert [(c.customer.key, c.occurred_at.timestamp()) for c in result] == [
        ("hubspot:5101", T0 / 1000),
        ("hubspot:5102", T0 / 1000 + 5),
        ("hubspot:5101", T0 / 1000 + 9),
    ]
    first, second, third = (c.customer for c in result)
    assert first.attributes == {"hs_lead_status": "OPEN"}
    assert (second.email, second.company) == ("dorothy@example.com", "NACA")
    assert third.phones is not None and third.phones.main == "+1 757 555 0101"
    assert third.attributes == {"hs_lead_status": "CONNECTED"}
    assert len({c.change_id for c in result}) == 3


def test_the_latest_event_wins_when_one_property_changes_twice_in_one_instant() -> None:
    (change,) = changes(
        event(5101, "email", "new@example.com", event_id=9), event(5101, "email", "old@example.com", event_id=3)
    )
    assert change.customer.email == "new@example.com"


def test_change_ids_are_stable_across_redeliveries_and_tell_contacts_apart() -> None:
    shared_event_id = [
        event(5101, "email", "a@example.com", event_id=7),
        event(5102, "email", "b@example.com", event_id=7),
    ]
    first, second = changes(*shared_event_id)
    assert first.change_id != second.change_id  # HubSpot: eventId "is not guaranteed to be unique"
    assert first.change_id.startswith("hubspot:5101:1763632800000:")
    redelivered = [{**e, "attemptNumber": 3} for e in shared_event_id]
    assert [c.change_id for c in changes(*redelivered)] == [first.change_id, second.change_id]


def test_an_empty_value_clears_the_field() -> None:
    (change,) = changes(event(5101, "phone", ""), event(5101, "jobtitle", "", event_id=2))
    assert change.customer.phones is not None
    assert change.customer.phones.model_fields_set == {"main"} and change.customer.phones.main is None
    assert change.customer.attributes == {"jobtitle": None}


@pytest.mark.parametrize(
    ("value", "country", "attribute"),
    [
        ("se", "SE", "se"),
        ("Sweden", "SE", "Sweden"),
        ("SWE", "SE", "SWE"),
        ("United States", "US", "United States"),
        ("Atlantis", None, "Atlantis"),
        ("", None, None),
    ],
)
def test_country_is_the_code_of_the_country_it_names(value: str, country: str | None, attribute: str | None) -> None:
    (change,) = changes(event(5101, "country", value))
    assert change.customer.address is not None
    assert change.customer.address.model_fields_set == {"country"}
    assert change.customer.address.country == country
    assert change.customer.attributes == {"country": attribute}


def test_a_state_is_the_code_of_the_region_it_names_when_the_change_names_the_country() -> None:
    (change,) = changes(event(5101, "state", "Kentucky"), event(5101, "country", "United States", event_id=2))
    assert change.customer.address is not None
    assert (change.customer.address.region, change.customer.address.country) == ("US-KY", "US")
    (alone,) = changes(event(5101, "state", "Kentucky"))
    assert alone.customer.address is not None and alone.customer.address.region == "Kentucky"


def test_events_other_than_contact_changes_are_ignored_and_named() -> None:
    result = changes(
        event(5101, "email", "k@example.com", subscriptionType="contact.creation"),
        event(5101, "name", "Acme", subscriptionType="company.propertyChange"),
        event(5101, "email", "k@example.com", subscriptionType="object.propertyChange", objectTypeId="0-2"),
        event(5101, "firstname", "Kath", subscriptionType="object.propertyChange", objectTypeId="0-1"),
        event(5101, "x", None, subscriptionType="company.deletion"),
        "not an event",
    )
    assert [c.customer.first_name for c in result] == ["Kath"]
    assert result.ignored == [
        "contact.creation",
        "company.propertyChange",
        "object.propertyChange",
        "company.deletion",
        "(not an event)",
    ]
    assert changes() == []


def test_an_event_naming_its_type_event_type_as_some_of_hubspots_examples_do_is_read_alike() -> None:
    legacy = {key: value for key, value in event(5101, "email", "k@example.com").items() if key != "subscriptionType"}
    (change,) = changes({**legacy, "eventType": "contact.propertyChange"})
    assert change.customer.email == "k@example.com"


def lifecycle(object_id: int, kind: str, *, event_id: int = 1, at: int = T0, **extra: Any) -> dict[str, Any]:
    """A deletion event as HubSpot documents the common fields (no property)."""
    return {
        "eventId": event_id,
        "subscriptionId": 4243,
        "portalId": 62515,
        "appId": 9,
        "occurredAt": at,
        "subscriptionType": kind,
        "attemptNumber": 0,
        "objectId": object_id,
        "changeSource": "CRM_UI",
        **extra,
    }


def test_a_deletion_and_a_privacy_deletion_are_a_delete_then_an_erase_of_the_contact() -> None:
    result = changes(
        lifecycle(5101, "contact.privacyDeletion", event_id=31),
        lifecycle(5101, "contact.deletion", event_id=31),
        event(5101, "email", "k@example.com", event_id=30),
        lifecycle(5102, "object.deletion", event_id=32, at=T0 + 1, objectTypeId="0-1"),
        lifecycle(5103, "object.deletion", event_id=33, objectTypeId="0-2"),
    )
    assert [(c.customer.key, c.kind) for c in result] == [
        ("hubspot:5101", "update"),
        ("hubspot:5101", "delete"),
        ("hubspot:5101", "erase"),
        ("hubspot:5102", "delete"),
    ]
    assert all(c.customer.model_fields_set == {"key"} for c in result[1:])
    assert len({c.change_id for c in result}) == 4
    assert result[2].occurred_at.timestamp() == T0 / 1000
    assert result.ignored == ["object.deletion"]


def test_an_invalid_event_is_named_by_its_index_and_field() -> None:
    with pytest.raises(ValidationError, match=r"1\.objectId"):
        changes(event(5101, "email", "k@example.com"), {**event(5101, "email", "x"), "objectId": "not a number"})


def test_an_invalid_email_names_the_field() -> None:
    with pytest.raises(ValidationError, match=r"customer\.email"):
        changes(event(5101, "email", "not-an-email"))


def test_a_body_that_is_not_an_array_is_named() -> None:
    with pytest.raises(BadPayload, match="JSON array"):
        SOURCE.normalise(WebhookRequest("POST", URL, {}, json.dumps(event(5101, "email", "k@example.com")).encode()))
