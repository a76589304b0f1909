"""Vendors that trickle, flood, lie and redirect: every record is retried or parked with a reason naming the
cause, memory stays bounded, and the function returns within its deadline.

Each vendor function runs in-process against a hostile server on loopback (``hostile_servers.py``), its
secret pointed there in moto: every URL its secret declares (``VendorSecret.urls()``). The tests of what every
vendor call must survive run every vendor of vendors.yaml in each API or wire format its secret can choose
(``TARGETS``); those of one transport's replies (SOAP entities, XML-RPC, memory) name vendors speaking it.
"""

from __future__ import annotations

import importlib
import json
import tracemalloc
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import format_datetime
from pathlib import Path
from typing import Any, cast

import boto3
import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext

from conftest import ROOT, FakeLambdaContext, forget_secrets
from custsync.runtime import build_handler
from devkit.routes import connector_class
from devkit.vendors import vendor_names
from flow import change, dlq_messages, queue, queue_depth, secret_choices, sqs_batch, variant_id
from hostile_servers import Behaviour, answer, flood, hostile, redirect, trickle
from hostile_xml import ENTITY_ATTACKS, SECRET, bait, with_doctype

MiB = 1024 * 1024
CALL_TIMEOUT = 1.0
RECORD = json.dumps({"CustomerId": 1, "CustomerName": "Hostile AB"}).encode()
# A valid reply long enough that, trickled at 20 bytes a second, it takes ~50 s whole.
SLOW_RECORD = RECORD + b" " * 900
SOAP_ENVELOPE = (
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    '<customersUpdateResponse xmlns="http://www.centra.com/webservices/">&x;</customersUpdateResponse>'
    "</soap:Body></soap:Envelope>"
)
CENTRA_OK = (
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    b'<customersUpdateResponse xmlns="http://www.centra.com/webservices/">OK</customersUpdateResponse>'
    b"</soap:Body></soap:Envelope>"
)
# A well-behaved answer, to measure what the function itself allocates (moto runs in this process too).
BENIGN = {"exsalerate-json": answer(200, RECORD), "centra": answer(200, CENTRA_OK, "text/xml; charset=utf-8")}
# A vendor left out of the vendor-wide tests below, with the reason; none is.
NOT_HOSTILE: dict[str, str] = {}
# Every vendor, in each API or wire format its secret can choose: ``exigo-soap`` -> ("exigo", {"api": "soap"}).
TARGETS = {
    variant_id(vendor, choice): (vendor, choice)
    for vendor in vendor_names()
    if vendor not in NOT_HOSTILE
    for choice in secret_choices(vendor)
}


def point_at(target: str, url: str) -> dict[str, str]:
    """What the target's secret needs for every one of its calls to go to ``url``: each of its URLs, its choice."""
    vendor, choice = TARGETS[target]
    return {**dict.fromkeys(connector_class(ROOT, vendor).secret_model.urls(), url), **choice}


def test_every_vendor_meets_the_hostile_servers_or_says_why_not() -> None:
    assert {vendor for vendor, _ in TARGETS.values()} | set(NOT_HOSTILE) == set(vendor_names())


@dataclass
class Run:
    response: dict[str, Any]
    peak_bytes: int
    parked: list[dict[str, Any]]
    requests: int


@pytest.fixture
def against(stack: Any, function_env: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Run]:
    """Run one change through ``target``'s function while its vendor is ``behaviour``."""

    def run(
        target: str, behaviour: Behaviour, *, timeout_seconds: float | None = None, warm: bool = False, **env: str
    ) -> Run:
        vendor, _ = TARGETS[target]
        function = f"{vendor.capitalize()}Function"
        with hostile(behaviour) as server:
            secrets = boto3.client("secretsmanager")
            name = f"customer-sync/local/{vendor}"
            secret = json.loads(secrets.get_secret_value(SecretId=name)["SecretString"])
            secrets.put_secret_value(SecretId=name, SecretString=json.dumps({**secret, **point_at(target, server.url)}))
            forget_secrets()
            function_env(function)
            for key, value in {"MAX_ATTEMPTS": "1", "CALL_TIMEOUT_SECONDS": str(CALL_TIMEOUT), **env}.items():
                monkeypatch.setenv(key, value)
            connector = getattr(importlib.import_module(f"{vendor}.connector"), f"{vendor.capitalize()}Connector")
            handler = build_handler(connector)
            # ``warm``: a first change warms the function (clients, secrets, service models), so that the
            # second's memory is its own.
            run_id = uuid.uuid4().hex[:8]
            for key in ("H0", "H1") if warm else ("H1",):  # each run its own customers: earlier ones are in flight
                customer = {"key": f"{run_id}-{key}", "company": "Hostile AB", "email": "h@example.com"}
                ids = {"everlytic": "9001"}
                queue(stack, function, change(f"{run_id}-{key}", "2026-11-20T09:00:00Z", customer, vendor_ids=ids))
                _, event = sqs_batch(stack, function)
                requests_before = server.requests
                tracemalloc.start()
                response = handler(event, cast(LambdaContext, FakeLambdaContext(timeout_seconds)))
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
            parked = [m for m in dlq_messages(stack, function) if m["body"]["change_id"] == f"{run_id}-H1"]
            return Run(response, peak, parked, server.requests - requests_before)

    return run


def parked_reason(run: Run) -> str:
    (parked,) = run.parked
    assert run.response["batchItemFailures"] == []
    reason: str = parked["reason"]
    return reason


@pytest.mark.parametrize("target", TARGETS)
def test_a_reply_trickled_a_byte_at_a_time_is_cut_at_the_calls_deadline(
    against: Callable[..., Run], target: str
) -> None:
    trickled = trickle(200, SLOW_RECORD, interval=0.05)
    run = against(target, trickled)
    assert "did not answer within the call's deadline (ReadTimeout); the outcome is unknown" in parked_reason(run)
    assert trickled.sent <= trickled.most_sent_in(CALL_TIMEOUT + 0.5), "the call ran on after its deadline"


def test_the_call_never_outlives_the_invocation(against: Callable[..., Run]) -> None:
    """A generous call timeout is still cut to Lambda's remaining time minus the margin."""
    trickled = trickle(200, SLOW_RECORD, interval=0.05)  # whole in ~50 s: inside the 60 s call timeout
    run = against(
        "exsalerate-json", trickled, timeout_seconds=3.0, CALL_TIMEOUT_SECONDS="60", DEADLINE_MARGIN_SECONDS="1"
    )
    assert "did not answer within the call's deadline" in parked_reason(run)
    assert trickled.sent <= trickled.most_sent_in(3.0), "the call outlived the invocation"


def extra_memory(against: Callable[..., Run], target: str, run: Run) -> int:
    """What ``run`` allocated at its peak beyond the same function answered well."""
    return run.peak_bytes - against(target, BENIGN[target], warm=True).peak_bytes


@pytest.mark.parametrize("target", ["exsalerate-json", "centra"])
def test_a_10_mb_reply_is_refused_at_the_cap_with_bounded_memory(against: Callable[..., Run], target: str) -> None:
    run = against(target, flood(200, 10 * MiB, prefix=b'{"CustomerName": "'), warm=True)
    assert "reply is over the 1048576-byte cap; not read further" in parked_reason(run)
    assert extra_memory(against, target, run) < 3 * MiB


@pytest.mark.parametrize("target", ["exsalerate-json", "centra"])
def test_a_10_mb_error_page_is_classified_by_its_status_and_cut(against: Callable[..., Run], target: str) -> None:
    run = against(target, flood(503, 10 * MiB, "text/html", prefix=b"<html>Service Unavailable"), warm=True)
    reason = parked_reason(run)
    assert "answered HTTP 503: " in reason
    assert len(reason) < 1200
    assert extra_memory(against, target, run) < 1 * MiB


def test_a_large_reply_under_the_cap_setting_is_read(against: Callable[..., Run]) -> None:
    record = json.dumps({"CustomerId": 7, "Padding": "n" * 2 * MiB}).encode()
    run = against("exsalerate-json", answer(200, record), MAX_RESPONSE_BYTES=str(4 * MiB))
    assert run.response["batchItemFailures"] == []
    assert run.parked == []


@pytest.mark.parametrize(
    "attack", ["billion laughs", "quadratic blowup", "external entity, local file", "external DTD"]
)
@pytest.mark.parametrize("target", ["centra", "exigo-soap"])
def test_a_soap_reply_with_entities_is_refused_unread(
    against: Callable[..., Run], tmp_path: Path, attack: str, target: str
) -> None:
    with bait(tmp_path) as found:
        reply = with_doctype(ENTITY_ATTACKS[attack], SOAP_ENVELOPE, found).encode()
        run = against(target, answer(200, reply, "text/xml; charset=utf-8"))
        assert found.hits == [], "nothing is fetched"
    reason = parked_reason(run)
    assert "sent an XML reply with a DTD or entities" in reason
    assert SECRET not in reason


# An XML-RPC reply whose value is the entity: expanded, it would read as a valid reply.
XMLRPC_REPLY = "<methodResponse><params><param><value><string>&x;</string></value></param></params></methodResponse>"


@pytest.mark.parametrize("attack", ["internal entity", "billion laughs", "external entity, local file"])
def test_an_xmlrpc_reply_with_a_doctype_is_refused_unread_as_a_soap_one_is(
    against: Callable[..., Run], tmp_path: Path, attack: str
) -> None:
    with bait(tmp_path) as found:
        reply = with_doctype(ENTITY_ATTACKS[attack].replace("Envelope", "methodResponse"), XMLRPC_REPLY, found)
        run = against("everlytic-xmlrpc", answer(200, reply.encode(), "text/xml"))
        assert found.hits == [], "nothing is fetched"
    reason = parked_reason(run)
    assert "sent an XML reply with a DTD or entities" in reason
    assert SECRET not in reason


@pytest.mark.parametrize(
    ("target", "body"),
    [("exigo-rest", b'{"result": nul'), ("everlytic-rest", b'{"item": {"id": 9001'), ("exsalerate-json", b"\xff\xfe{")],
)
def test_a_200_with_a_broken_body_is_a_malformed_reply_not_a_silent_failure(
    against: Callable[..., Run], target: str, body: bytes
) -> None:
    run = against(target, answer(200, body))
    if target == "exsalerate-json":  # its reply is only read for an id: an unreadable one is not an error
        assert run.parked == []
        return
    assert "sent a malformed reply (JSONDecodeError" in parked_reason(run)


@pytest.mark.parametrize("target", ["centra", "exigo-soap", "everlytic-xmlrpc"])
def test_an_xml_reply_that_is_not_xml_is_a_malformed_reply(against: Callable[..., Run], target: str) -> None:
    run = against(target, answer(200, b"<soap:Envelope><unclosed>", "text/xml"))
    assert "sent a malformed reply" in parked_reason(run)


@pytest.mark.parametrize("target", TARGETS)
def test_an_html_502_is_a_retryable_gateway_error(against: Callable[..., Run], target: str) -> None:
    run = against(target, answer(502, b"<html><body>Bad Gateway</body></html>", "text/html"))
    assert "answered HTTP 502: <html><body>Bad Gateway</body></html>" in parked_reason(run)


@pytest.mark.parametrize(
    ("target", "retry_after"),
    [*((target, "120") for target in TARGETS), *((target, "date") for target in ("exsalerate-json", "exigo-soap"))],
)
def test_a_429_waits_for_retry_after_on_every_transport(
    against: Callable[..., Run], stack: Any, target: str, retry_after: str
) -> None:
    value = "120" if retry_after == "120" else format_datetime(_in_seconds(120), usegmt=True)
    run = against(target, answer(429, b"Too many requests", "text/plain", **{"Retry-After": value}), MAX_ATTEMPTS="5")
    assert len(run.response["batchItemFailures"]) == 1, "retried, not parked"
    assert run.parked == []
    vendor, _ = TARGETS[target]
    url, _ = stack.queue_of(f"{vendor.capitalize()}Function")
    assert stack.sqs.receive_message(QueueUrl=url).get("Messages", []) == [], "hidden for Retry-After"
    assert queue_depth(stack, f"{vendor.capitalize()}Function") == 1, "the change waits, not parked"


@pytest.mark.parametrize("target", TARGETS)
def test_a_redirect_to_another_host_is_not_followed(against: Callable[..., Run], target: str) -> None:
    run = against(target, redirect("http://elsewhere.example/api/Customer"))
    reason = parked_reason(run)
    assert "answered HTTP 302: a redirect to http://elsewhere.example/api/Customer, not followed" in reason
    assert run.requests == 1


def _in_seconds(seconds: int) -> Any:
    from datetime import UTC, datetime, timedelta

    return datetime.now(UTC) + timedelta(seconds=seconds)
