"""``?dryRun=true`` shows each vendor's request as it would go on the wire: the same bytes the vendor receives when
the change is then applied, but for the secrets, masked; and nothing that changes anything is sent."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from custsync.preview import MASK
from flow import ALL_VENDORS
from test_sync_api import put

CUSTOMER = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "company": "Wire AB",
    "email": "wire@example.com",
    "address": {"city": "Stockholm", "country": "SE"},
}
READS = ("GET", "HEAD")


def writes(simulator: Any) -> list[Any]:
    """The calls that could change something: not reads, not Expandable's token."""
    return [c for c in simulator.calls if c.method not in READS and not c.path.endswith("auth-token-get")]


def as_pattern(masked: str) -> re.Pattern[str]:
    """``masked`` with each mask standing for whatever was there."""
    return re.compile(".+?".join(re.escape(part) for part in masked.split(MASK)), re.DOTALL)


# Each vendor as configured locally, and each other wire format a secret can choose.
VARIANTS = [
    *[pytest.param(vendor, {}, id=vendor) for vendor in ALL_VENDORS],
    pytest.param("exigo", {"customer-sync/local/exigo": {"api": "soap"}}, id="exigo-soap"),
    pytest.param("everlytic", {"customer-sync/local/everlytic": {"api": "xmlrpc"}}, id="everlytic-xmlrpc"),
    pytest.param("exsalerate", {"customer-sync/local/exsalerate": {"format": "xml"}}, id="exsalerate-xml"),
    pytest.param("exsalerate", {"customer-sync/local/exsalerate": {"format": "form"}}, id="exsalerate-form"),
]


@pytest.mark.parametrize(("vendor", "secrets"), VARIANTS, indirect=["secrets"])
def test_the_dry_runs_wire_request_is_what_the_vendor_then_receives_but_the_secrets(
    stack: Any, vendor_handler: Any, lambda_context: Any, secrets: dict[str, Any], vendor: str
) -> None:
    handler = vendor_handler(vendor)
    simulator = stack.simulators[vendor]
    query = {}
    if vendor == "everlytic":  # Everlytic updates only a customer it has, by its own id
        simulator.seed_customer(9001, name="Wire AB")
        query = {"vendorId": "9001"}

    status, dry = put(handler, lambda_context, "W-1", CUSTOMER, {**query, "dryRun": "true"}, vendor=vendor)
    assert status == 200, dry
    assert writes(simulator) == [], "a dry run sends nothing that changes anything"
    assert dry["wire"], "the request as it would go on the wire"

    status, applied = put(handler, lambda_context, "W-1", CUSTOMER, query, vendor=vendor)
    assert (status, applied["outcome"]) == (200, "applied"), applied
    # A call made only on the vendor's answer (Expandable's create, after "not found") is not in a dry run.
    received = writes(simulator)[: len(dry["wire"])]
    for shown, call in zip(dry["wire"], received, strict=True):
        assert (shown["method"], shown["url"].split("?")[0].removesuffix("/")) == (
            call.method,
            f"{simulator_origin(stack, vendor)}{call.path}".removesuffix("/"),
        )
        body = call.body.decode()
        assert as_pattern(shown["body"]).fullmatch(body), (shown["body"], body)
        headers = {name.lower(): value for name, value in call.headers.items()}
        for name, value in shown["headers"].items():
            if name.lower() in ("host", "content-length", "user-agent", "accept", "accept-encoding", "connection"):
                continue
            assert as_pattern(value).fullmatch(headers[name.lower()]), name

    secret = secrets[f"customer-sync/local/{vendor}"]
    credentials = [str(value) for key, value in secret.items() if key in ("password", "api_key")]
    assert credentials
    assert not [value for value in credentials if value in json.dumps(dry["wire"])]


def simulator_origin(stack: Any, vendor: str) -> str:
    return str(stack.simulator_urls[vendor])


def test_a_token_in_the_body_and_basic_auth_are_masked(stack: Any, vendor_handler: Any, lambda_context: Any) -> None:
    _, expandable = put(
        vendor_handler("expandable"), lambda_context, "W-2", CUSTOMER, {"dryRun": "true"}, vendor="expandable"
    )
    (update,) = expandable["wire"]
    assert json.loads(update["body"])["AUTH_TOKEN"] == MASK
    assert update["url"].endswith("/api/customer-contact-update")

    _, exsalerate = put(
        vendor_handler("exsalerate"), lambda_context, "W-2", CUSTOMER, {"dryRun": "true"}, vendor="exsalerate"
    )
    (request,) = exsalerate["wire"]
    assert (request["method"], request["headers"]["authorization"]) == ("PUT", f"Basic {MASK}")
    assert json.loads(request["body"])["CustomerName"] == "Wire AB"
