"""The benchmark report's arithmetic: ratios of medians, goals met or not, the cost model."""

from __future__ import annotations

import pytest

from benchmarks import flood
from benchmarks.cost import per_million, state_row_kib
from benchmarks.micro import CUSTOMER
from benchmarks.stats import Samples, ratio_row, table


def test_a_row_compares_medians_and_says_whether_the_goal_is_met() -> None:
    row = ratio_row("m", Samples.of([10, 30, 20]), Samples.of([10, 9, 11]), 2.5)
    assert row.ratio == pytest.approx(2.0)
    assert row.met is True
    assert ratio_row("m", Samples.of([30]), Samples.of([10]), 2.5).met is False
    assert "| m | 20.0 ms (10.0-30.0, n=3) | 10.0 ms (9.0-11.0, n=3) | 2.00x | ≤ 2.5x | yes |" in table([row])


def test_the_cost_of_a_million_updates_adds_up_from_its_parts() -> None:
    kib = state_row_kib(CUSTOMER)
    assert 1 < kib < 10, "a state row of a few KiB: a few write units a write"
    cost = per_million(batch_ms=250, row_kib=kib)
    assert cost.lambda_requests == pytest.approx(0.02)
    assert cost.lambda_duration == pytest.approx(100_000 * 0.25 * 0.25 * 0.0000133334)
    assert cost.sqs == pytest.approx(0.60)
    assert cost.total == pytest.approx(
        cost.lambda_requests + cost.lambda_duration + cost.sqs + cost.dynamodb + cost.logs
    )


def test_a_flood_of_a_million_unsigned_requests_is_billed_per_started_millisecond() -> None:
    cost = flood.per_million(billed_ms=2.2, log_bytes=500)
    assert cost.api_gateway == pytest.approx(3.50)
    assert cost.lambda_requests == pytest.approx(0.20)
    assert cost.lambda_duration == pytest.approx(1_000_000 * 0.003 * 0.25 * 0.0000133334)
    assert cost.logs == pytest.approx(0.25)
    assert cost.total == pytest.approx(3.50 + 0.20 + cost.lambda_duration + 0.25)


def test_the_unsigned_request_is_the_sample_without_its_signature() -> None:
    event = flood.unsigned_event()
    assert event["pathParameters"] == {"source": "shopify"}
    assert not any(name.lower() == "x-shopify-hmac-sha256" for name in event["headers"])
    assert event["multiValueHeaders"] == {name: [value] for name, value in event["headers"].items()}


def test_a_p99_row_compares_the_p99s_by_nearest_rank() -> None:
    measured = Samples.of([float(n) for n in range(1, 101)])  # 1..100
    floor = Samples.of([float(n) / 2 for n in range(1, 101)])
    assert measured.quantile(0.99) == 99.0
    assert measured.quantile(0.5) == measured.median == 50.5
    assert Samples.of([3.0]).quantile(0.99) == 3.0
    row = ratio_row("p99", measured, floor, 1.1, fraction=0.99)
    assert row.ratio == pytest.approx(2.0)
    assert row.met is False
    assert "| p99 | p99 99.0 ms (1.0-100.0, n=100) | p99 49.5 ms (0.5-50.0, n=100) | 2.00x |" in table([row])
