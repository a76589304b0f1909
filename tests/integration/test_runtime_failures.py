"""Failures that are nobody's input: an exception nothing expected, a failed visibility change, a whole batch failing.

Each ends with the record retried or parked with a reason, never an escaped exception or a crashed invocation.
"""

from __future__ import annotations

import io
from typing import Any

import pytest

from flow import change, emitted_metrics, queue, sqs_batch


def test_an_unexpected_exception_in_a_connector_is_a_retry_named_by_its_type(
    stack: Any,
    vendor_handler: Any,
    lambda_context: Any,
    capsys: pytest.CaptureFixture[str],
    captured_logs: io.StringIO,
) -> None:
    handler = vendor_handler("exsalerate")
    engine = handler.runtime.engine

    def broken(*_: Any) -> Any:
        raise KeyError("CustomerId")

    engine.connector.send = broken
    queue(stack, "ExsalerateFunction", change("u-1", "2026-11-20T09:00:00Z", {"key": "U1", "company": "Odd AB"}))
    messages, event = sqs_batch(stack, "ExsalerateFunction")

    response = handler(event, lambda_context)

    assert response == {"batchItemFailures": [{"itemIdentifier": messages[0]["MessageId"]}]}
    assert "unexpected KeyError at exsalerate: 'CustomerId'" in captured_logs.getvalue()
    assert emitted_metrics(capsys.readouterr().out)[("exsalerate", "UnexpectedErrors")] == 1


def test_a_whole_batch_failing_at_a_batch_vendor_fails_each_record_not_the_invocation(
    stack: Any, vendor_handler: Any, lambda_context: Any
) -> None:
    handler = vendor_handler("centra")

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("zeep state is broken")

    handler.runtime.engine.connector.soap.call = broken
    customers = ({"key": f"W{n}", "first_name": f"W{n}"} for n in range(3))
    queue(stack, "CentraFunction", *(change(f"w-{n}", "2026-11-20T09:00:00Z", c) for n, c in enumerate(customers)))
    messages, event = sqs_batch(stack, "CentraFunction")

    response = handler(event, lambda_context)

    failed = sorted(item["itemIdentifier"] for item in response["batchItemFailures"])
    assert failed == sorted(message["MessageId"] for message in messages)


def test_a_failed_visibility_change_is_logged_and_the_record_still_fails_back(
    stack: Any, vendor_handler: Any, lambda_context: Any, captured_logs: io.StringIO
) -> None:
    handler = vendor_handler("exsalerate")
    stack.simulators["exsalerate"].faults.add("status", status=503, method="PUT")
    queue(stack, "ExsalerateFunction", change("v-1", "2026-11-20T09:00:00Z", {"key": "V1", "company": "Vis AB"}))
    messages, event = sqs_batch(stack, "ExsalerateFunction")
    event["Records"][0]["receiptHandle"] = "expired-receipt-handle"

    response = handler(event, lambda_context)

    assert response == {"batchItemFailures": [{"itemIdentifier": messages[0]["MessageId"]}]}
    assert "could not delay the retry; the queue's visibility timeout applies" in captured_logs.getvalue()
