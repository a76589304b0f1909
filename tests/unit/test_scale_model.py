"""The simulation at scale, small: the same model and the same real limits as ``make scale`` (SCALE.md), on a few
thousand updates, in seconds of this machine and hours of the model's clock."""

from __future__ import annotations

import functools

import pytest

from benchmarks.scale.model import Result, Scaling, Simulation
from benchmarks.scale.report import document, row
from benchmarks.scale.scenarios import cost_of, scenario, table_scenarios, thousand_containers
from custsync.observability import logger

UPDATES = 2000


@pytest.fixture(autouse=True)
def quiet() -> None:
    logger.setLevel("ERROR")


@functools.cache
def run(rate: int, *, limiter: bool, mode: str = "standard") -> Result:
    return Simulation(scenario(rate, limiter=limiter, mode=mode, updates=UPDATES)).run()


@pytest.mark.parametrize("rate", [10, 100])
def test_with_the_shared_limiter_the_vendor_sees_its_rate_and_nothing_is_parked(rate: int) -> None:
    result = run(rate, limiter=True)
    assert result.applied == UPDATES and result.parked == 0
    assert result.busiest_second <= rate + 1
    assert result.throttled <= 1
    assert result.failed > 0, "the outage happened, and was waited out"
    assert result.drained_at >= UPDATES / rate, "no faster than the vendor allows"


def test_without_it_the_same_containers_go_over_the_vendors_rate() -> None:
    rate = 100
    result = run(rate, limiter=False)
    assert result.applied + result.parked == UPDATES
    assert result.busiest_second > rate
    assert result.throttled > UPDATES // 20
    assert result.turned_back["VendorPaused"] > 0, "each 429's Retry-After paused every container"
    assert result.drained_at > run(rate, limiter=True).drained_at


def test_an_outage_opens_the_circuit_for_every_container_and_records_wait_without_spending_attempts() -> None:
    result = run(100, limiter=True)
    assert result.turned_back["CircuitOpen"] > 0
    containers = result.containers
    assert result.failed < containers * 5 + 100, "far fewer 503s than each container spending its own five"


def test_provisioned_pollers_start_at_their_minimum_concurrency_and_are_paid_for_by_the_hour() -> None:
    result = run(100, limiter=True, mode="provisioned")
    assert result.peak_concurrency == 20, "two pollers, ten invocations each"
    assert result.poller_seconds >= 2 * result.drained_at
    assert cost_of(result).pollers == pytest.approx(result.poller_seconds / 3600 * 0.00925)


def test_the_event_source_ramps_up_as_lambda_documents() -> None:
    scaling = Scaling("standard", 1000)
    assert (scaling.start, scaling.most_containers) == (5, 1000)
    assert scaling.ramp_per_second * 60 == pytest.approx(300)
    provisioned = Scaling("provisioned", 2000, minimum_pollers=2)
    assert (provisioned.start, provisioned.most_containers) == (20, 20_000)
    assert provisioned.ramp_per_second * 60 == pytest.approx(1000)


def test_the_report_has_a_row_for_each_scenario_and_says_what_it_assumed() -> None:
    table = [Simulation(s).run() for s in table_scenarios(600)[3:5]]
    thousand = [Simulation(s).run() for s in thousand_containers(600)[1:]]
    text = document(table, thousand, 600, 600, 1.0)
    assert row(table[1]) in text and row(thousand[0]) in text
    for heading in ("## The model's assumptions", "## The AWS limits and prices used, and where they come from"):
        assert heading in text
    assert "$0.00925 per EPU-hour" in text and "services-sqs-scaling" in text
