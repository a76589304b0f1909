"""Two state-table round trips per applied change on its customer's row (the claim returns the row; the commit
ends the lease), and customers of one batch applied at once. The vendor's own rows (its shared health and rate,
``custsync.vendor_rows``) cost what the limits need, counted apart (benchmarks/limits.py measures them)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from custsync import aws
from flow import change, pump, queue

FUNCTION = "ExsalerateFunction"


@pytest.fixture
def dynamodb_calls(stack: Any) -> Counter[str]:
    """Every DynamoDB operation the functions in this process make on customers' rows, by name."""
    calls: Counter[str] = Counter()

    def count(model: Any, params: dict[str, Any], **_: Any) -> None:
        if not params["Key"]["customer_key"]["S"].startswith("#"):
            calls[model.name] += 1

    aws.dynamodb().meta.events.register("before-parameter-build.dynamodb", count)
    return calls


def test_an_applied_change_costs_two_state_table_calls(
    stack: Any, vendor_handler: Callable[..., Any], lambda_context: Any, dynamodb_calls: Counter[str]
) -> None:
    handler = vendor_handler("exsalerate")
    queue(stack, FUNCTION, change("a-1", "2026-11-20T09:00:00Z", {"key": "A1", "company": "Two Calls AB"}))
    pump(stack, FUNCTION, handler, lambda_context)
    assert dynamodb_calls == {"UpdateItem": 2}


@pytest.mark.parametrize(
    ("second", "why"),
    [
        ({"key": "A1", "company": "Two Calls AB"}, "no-op"),
        ({"key": "A1", "company": "Older AB"}, "stale"),
    ],
)
def test_a_skipped_change_costs_two_as_well(
    stack: Any,
    vendor_handler: Callable[..., Any],
    lambda_context: Any,
    dynamodb_calls: Counter[str],
    second: dict[str, Any],
    why: str,
) -> None:
    handler = vendor_handler("exsalerate")
    queue(stack, FUNCTION, change("a-1", "2026-11-20T09:00:00Z", {"key": "A1", "company": "Two Calls AB"}))
    pump(stack, FUNCTION, handler, lambda_context)
    dynamodb_calls.clear()
    occurred = "2026-11-20T09:05:00Z" if why == "no-op" else "2026-11-20T08:00:00Z"
    queue(stack, FUNCTION, change("a-2", occurred, second))
    pump(stack, FUNCTION, handler, lambda_context)
    assert dynamodb_calls == {"UpdateItem": 2}


def test_the_customers_of_a_batch_are_applied_at_once_each_in_order(
    stack: Any, vendor_handler: Callable[..., Any], lambda_context: Any
) -> None:
    handler = vendor_handler("exsalerate", GROUP_CONCURRENCY="4")
    simulator = stack.simulators["exsalerate"]
    in_flight, most = 0, 0
    lock = threading.Lock()
    original = simulator._with_faults  # before the simulator's own lock: requests may overlap here

    def counted(request: Any) -> Any:
        nonlocal in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)
        try:
            time.sleep(0.1)  # a vendor that takes 100 ms
            return original(request)
        finally:
            with lock:
                in_flight -= 1

    simulator._with_faults = counted
    changes = [change(f"c-{n}", "2026-11-20T09:00:00Z", {"key": f"C{n}", "company": f"Co {n}"}) for n in range(8)]
    changes += [change("c-0b", "2026-11-20T09:01:00Z", {"key": "C0", "company": "Co 0, renamed"})]
    queue(stack, FUNCTION, *changes)

    pump(stack, FUNCTION, handler, lambda_context)

    assert most >= 2, "customers overlap"
    assert most <= 4, "no more at once than GROUP_CONCURRENCY"
    (record,) = [r for r in simulator.records.values() if r["RefCode"] == "C0"]
    assert record["CustomerName"] == "Co 0, renamed", "a customer's own records in order"
