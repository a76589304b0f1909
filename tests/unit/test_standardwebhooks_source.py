"""Standard Webhooks: the reference library (PyPI ``standardwebhooks``) signs, and checks what ``sign`` makes."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError
from standardwebhooks.webhooks import Webhook

from custsync.errors import ConfigurationError
from custsync.model import CustomerChange
from custsync.sources import SignatureInvalid, TimeWindow, WebhookRequest
from custsync.sources.standardwebhooks import SOURCE

SECRET = "whsec_" + base64.b64encode(b"in-house-erp-signing-key-0001").decode()
URL = "https://hooks.example.com/prod/webhooks/standardwebhooks"
NOW = int(time.time())
WINDOW = TimeWindow(now=NOW, tolerance_seconds=300)
MESSAGE_ID = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"


def signed(body: bytes, *, secret: str = SECRET, at: int = NOW, message_id: str = MESSAGE_ID) -> WebhookRequest:
    """As an in-house system sends it, signed by the Standard Webhooks reference library."""
    signature = Webhook(secret).sign(message_id, datetime.fromtimestamp(at, UTC), body.decode())
    headers = {"webhook-id": message_id, "webhook-timestamp": str(at), "webhook-signature": signature}
    return WebhookRequest("POST", URL, headers, body)


CHANGE: dict[str, Any] = {
    "change_id": "erp-change-0001",
    "source": "erp",
    "occurred_at": "2026-11-20T10:40:00Z",
    "customer": {"key": "erp:C-3001", "company": "Jackson Engineering", "email": "mary.jackson@example.com"},
    "vendor_ids": {"everlytic": "9007"},
}
BODY = json.dumps(CHANGE).encode()


# -- verification --------------------------------------------------------------------------------


def test_a_message_signed_by_the_reference_library_verifies() -> None:
    SOURCE.verify(signed(BODY), [SECRET], WINDOW)


def test_the_reference_library_accepts_what_sign_produces() -> None:
    request = WebhookRequest("POST", URL, {"webhook-id": MESSAGE_ID}, BODY)
    now = int(time.time())  # the library checks against the wall clock, not this module's NOW
    headers = {"webhook-id": MESSAGE_ID, **SOURCE.sign(request, SECRET, now)}
    assert Webhook(SECRET).verify(BODY, headers) == CHANGE


def test_any_of_several_v1_signatures_may_match_and_other_versions_are_ignored() -> None:
    request = signed(BODY)
    good = request.headers["webhook-signature"]
    other = Webhook("whsec_" + base64.b64encode(b"another key").decode()).sign(MESSAGE_ID, datetime.now(UTC), "x")
    headers = {**request.headers, "webhook-signature": f"v1a,bm90IGVkMjU1MTk= {other} {good}"}
    SOURCE.verify(WebhookRequest("POST", URL, headers, BODY), [SECRET], WINDOW)


def test_a_secret_without_its_prefix_is_the_same_key() -> None:
    SOURCE.verify(signed(BODY), [SECRET.removeprefix("whsec_")], WINDOW)


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (WebhookRequest("POST", URL, signed(BODY).headers, BODY[:-1] + b" }"), "no v1 signature matches"),
        (signed(BODY, secret="whsec_" + base64.b64encode(b"other").decode()), "no v1 signature matches"),
        (WebhookRequest("POST", URL, {**signed(BODY).headers, "webhook-id": "msg_other"}, BODY), "no v1 signature"),
        (signed(BODY, at=NOW - 301), "webhook-timestamp: timestamp is more than 300 seconds old"),
        (signed(BODY, at=NOW + 301), "webhook-timestamp: timestamp is more than 300 seconds in the future"),
        (WebhookRequest("POST", URL, {**signed(BODY).headers, "webhook-signature": "v2,abc"}, BODY), "has no v1"),
        (WebhookRequest("POST", URL, {"webhook-id": "m", "webhook-timestamp": str(NOW)}, BODY), "webhook-signature"),
    ],
    ids=["tampered", "wrong-secret", "other-id", "stale", "future", "no-v1", "unsigned"],
)
def test_a_message_not_signed_with_the_secret_now_is_refused(request_: WebhookRequest, message: str) -> None:
    with pytest.raises(SignatureInvalid, match=message):
        SOURCE.verify(request_, [SECRET], WINDOW)


def test_during_a_rotation_either_secret_verifies() -> None:
    new = "whsec_" + base64.b64encode(b"the-new-key").decode()
    for secret in (new, SECRET):
        SOURCE.verify(signed(BODY, secret=secret), [new, SECRET], WINDOW)
    with pytest.raises(SignatureInvalid):
        SOURCE.verify(signed(BODY), [new], WINDOW)


def test_a_secret_that_is_not_base64_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="whsec_<base64 key>"):
        SOURCE.verify(signed(BODY), ["whsec_not base64!"], WINDOW)


# -- mapping -------------------------------------------------------------------------------------


def normalise(request: WebhookRequest) -> CustomerChange:
    (change,) = SOURCE.normalise(request)
    return change


def test_a_customer_change_is_queued_as_sent() -> None:
    change = normalise(signed(BODY))
    assert change.model_dump(mode="json", exclude_unset=True) == CHANGE


def test_a_bare_customer_takes_the_message_id_and_timestamp() -> None:
    change = normalise(signed(json.dumps({"key": "erp:C-3002", "phones": {"mobile": None}}).encode()))
    assert (change.change_id, change.source) == (MESSAGE_ID, "standardwebhooks")
    assert change.occurred_at == datetime.fromtimestamp(NOW, UTC)
    assert change.customer.model_fields_set == {"key", "phones"}
    assert change.customer.phones is not None and change.customer.phones.model_fields_set == {"mobile"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**CHANGE, "occurred_at": "yesterday"}, "occurred_at"),
        ({"key": "erp:1", "nickname": "x"}, "nickname"),
        ({"key": "erp:1", "address": {"country": "Sweden"}}, r"address\.country"),
    ],
)
def test_an_invalid_change_or_customer_names_the_field(body: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        normalise(signed(json.dumps(body).encode()))
