"""PUT /vendors/{vendor}/customers/{key}: synchronous apply and dry run through the same engine."""

from __future__ import annotations

import json
from typing import Any

import pytest

from flow import ALL_VENDORS, api_event, emitted_metrics

PATH = "/vendors/exsalerate/customers/{key}"


def put(
    handler: Any,
    context: Any,
    key: str,
    body: Any,
    query: dict[str, str] | None = None,
    vendor: str = "exsalerate",
    request_id: str = "req-1",
    occurred_at: str = "2026-11-21T08:00:00Z",
) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json", "X-Occurred-At": occurred_at, "Idempotency-Key": request_id}
    event = api_event(
        "PUT", f"/vendors/{vendor}/customers/{key}", json.dumps(body), headers, {"vendor": vendor, "key": key}, query
    )
    event["resource"] = PATH
    response = handler(event, context)
    return response["statusCode"], json.loads(response["body"])


def test_put_applies_the_customer_and_returns_the_vendor_result(
    stack: Any, exsalerate: Any, lambda_context: Any
) -> None:
    status, body = put(exsalerate, lambda_context, "K-1", {"company": "Api AB", "email": "api@example.com"})
    assert status == 200
    assert body["outcome"] == "applied"
    assert body["response"]["CustomerName"] == "Api AB"
    assert len(stack.simulators["exsalerate"].calls_to("/api/Customer", "PUT")) == 1


def test_dry_run_returns_the_exact_request_and_sends_nothing(stack: Any, exsalerate: Any, lambda_context: Any) -> None:
    status, body = put(exsalerate, lambda_context, "K-2", {"company": "Dry AB"}, {"dryRun": "true"})
    assert status == 200
    assert body["request"]["calls"][0]["payload"] == {
        "AssignedToEmail": "sales@example.com",
        "CustomerName": "Dry AB",
        "RefCode": "K-2",
        "SiteOwnerId": 1,
    }
    assert stack.simulators["exsalerate"].calls_to("/api/Customer", "PUT") == []
    assert stack.simulators["exsalerate"].records == {}


def test_the_same_put_twice_is_a_no_op(stack: Any, exsalerate: Any, lambda_context: Any) -> None:
    put(exsalerate, lambda_context, "K-3", {"company": "Same AB"})
    _, second = put(
        exsalerate,
        lambda_context,
        "K-3",
        {"company": "Same AB"},
        request_id="req-2",
        occurred_at="2026-11-21T09:00:00Z",
    )
    assert second["outcome"] == "skipped"
    assert second["reason"].startswith("no-op")
    assert len(stack.simulators["exsalerate"].calls_to("/api/Customer", "PUT")) == 1


def test_an_invalid_body_is_400_naming_the_field(exsalerate: Any, lambda_context: Any) -> None:
    status, body = put(exsalerate, lambda_context, "K-4", {"company": "X", "email": "nope"})
    assert status == 400
    assert body["error"].startswith("email:")


def test_a_mapping_failure_is_400_naming_the_vendor_field(exsalerate: Any, lambda_context: Any) -> None:
    status, body = put(exsalerate, lambda_context, "K-5", {"email": "only@example.com"})
    assert (status, body["error"]) == (400, "CustomerName: is required and no change has carried it yet")


def test_a_key_mismatch_and_a_wrong_vendor_are_refused(exsalerate: Any, lambda_context: Any) -> None:
    assert put(exsalerate, lambda_context, "K-6", {"key": "OTHER", "company": "X"})[0] == 400
    assert put(exsalerate, lambda_context, "K-6", {"company": "X"}, vendor="centra")[0] == 404


def test_a_vendor_outage_is_503_and_a_vendor_refusal_422(stack: Any, exsalerate: Any, lambda_context: Any) -> None:
    simulator = stack.simulators["exsalerate"]
    simulator.faults.add("status", status=503, method="PUT")
    status, body = put(exsalerate, lambda_context, "K-7", {"company": "Down AB"})
    assert (status, body["vendorStatus"]) == (503, 503)
    simulator.faults.add("status", status=400, message="Rejected by Exsalerate", method="PUT")
    status, body = put(exsalerate, lambda_context, "K-8", {"company": "No AB"})
    assert status == 422
    assert "Rejected by Exsalerate" in body["error"]


def test_refused_requests_and_failed_changes_are_counted(
    stack: Any, exsalerate: Any, lambda_context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    stack.simulators["exsalerate"].faults.add("status", status=503, method="PUT")
    capsys.readouterr()

    put(exsalerate, lambda_context, "K-9", {"company": "X", "email": "nope"})
    put(exsalerate, lambda_context, "K-9", {"company": "X"}, vendor="centra")
    put(exsalerate, lambda_context, "K-9", {"company": "Down AB"})

    totals = emitted_metrics(capsys.readouterr().out)
    assert totals[("exsalerate", "RequestsRejected")] == 2
    assert totals[("exsalerate", "ChangesFailed")] == 1
    assert ("exsalerate", "ChangesApplied") not in totals


@pytest.mark.parametrize("vendor", ALL_VENDORS)
def test_a_dry_run_shows_the_request_but_no_credential(
    stack: Any, vendor_handler: Any, lambda_context: Any, secrets: dict[str, Any], vendor: str
) -> None:
    customer = {"first_name": "Ada", "last_name": "Lovelace", "company": "Dry AB", "email": "dry@example.com"}
    query = {"dryRun": "true", "vendorId": "9001"}
    before = json.dumps(stack.simulators[vendor].records, sort_keys=True, default=str)
    status, body = put(vendor_handler(vendor), lambda_context, "K-10", customer, query, vendor=vendor)

    assert status == 200
    assert body["request"]["calls"], "the mapped vendor request is shown"
    secret = secrets[f"customer-sync/local/{vendor}"]
    credentials = [str(value) for key, value in secret.items() if key in ("password", "api_key")]
    assert credentials
    assert not [value for value in credentials if value in json.dumps(body)]
    assert json.dumps(stack.simulators[vendor].records, sort_keys=True, default=str) == before, "nothing was written"
