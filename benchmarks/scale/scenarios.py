"""The scenarios of SCALE.md, how each is sized, and what each costs at list prices.

Sizing (what ``make template`` derives from a vendor.yaml, README "Scaling"): ``max_in_flight`` is the vendor's
rate times 0.5 s, twice the model's mean call, so the calls the rate allows always have lanes to run on; the
standard mode's MaximumConcurrency is what keeps them busy, ten lanes a container; provisioned mode keeps the
fewest pollers (two) and scales to the containers the same in-flight figure needs.
"""

from __future__ import annotations

import math

from benchmarks.cost import (
    DYNAMODB_PER_WRITE_UNIT,
    LAMBDA_ARM_GB_SECOND,
    LAMBDA_PER_REQUEST,
    MEMORY_GB,
    SQS_FIFO_PER_REQUEST,
    Cost,
    state_row_kib,
)
from benchmarks.micro import CUSTOMER
from benchmarks.scale.model import Result, Scaling, Scenario, Vendor
from devkit.vendors import max_concurrency

UPDATES = 1_000_000
# A thousand containers turn a backlog over in seconds whenever the vendor is paused or its circuit is open: every
# record bounces, up to MAX_RECEIVES times. A tenth of the table's updates keeps that within minutes to simulate.
THOUSAND_UPDATES = 100_000
RATES = (10, 100, 1000)
SECONDS_IN_FLIGHT = 0.5
OUTAGE_SECONDS = 120.0
# us-east-1 list prices beside benchmarks/cost.py's (same date): an eventually consistent read is half a unit.
DYNAMODB_PER_READ_UNIT = 0.125 / 1_000_000
EPU_HOUR = 0.00925  # an SQS event poller (one EPU) an hour: the Lambda pricing page, "Pricing Example 2"


def max_in_flight(rate: int) -> int:
    return max(2, math.ceil(rate * SECONDS_IN_FLIGHT))


def scenario(
    rate: int, *, limiter: bool, mode: str = "standard", concurrency: int | None = None, updates: int = UPDATES
) -> Scenario:
    in_flight = max_in_flight(rate)
    containers = concurrency or max_concurrency(in_flight)
    scaling = (
        Scaling("standard", containers)
        if mode == "standard"
        else Scaling("provisioned", max(2, math.ceil(containers / 10)))
    )
    # One outage, a quarter of the way through the ideal drain.
    vendor = Vendor(rate, outage_start=updates / rate / 4, outage_seconds=OUTAGE_SECONDS)
    name = f"{rate}/s, {scaling.describe()}, {'shared limiter' if limiter else 'no limiter'}"
    return Scenario(name, updates, vendor, scaling, limiter, in_flight)


def table_scenarios(updates: int = UPDATES) -> list[Scenario]:
    """SCALE.md's table: each rate without and with the shared limiter (sized alike), and provisioned mode."""
    scenarios = []
    for rate in RATES:
        scenarios.append(scenario(rate, limiter=False, updates=updates))
        scenarios.append(scenario(rate, limiter=True, updates=updates))
        scenarios.append(scenario(rate, limiter=True, mode="provisioned", updates=updates))
    return scenarios


def thousand_containers(updates: int = THOUSAND_UPDATES) -> list[Scenario]:
    """A thousand containers from the first second (provisioned mode, 100 pollers of ten), far more than a vendor
    at 1,000 requests a second needs, without and with the shared limiter."""
    in_flight = max_in_flight(1000)
    vendor = Vendor(1000, outage_start=updates / 1000 / 4, outage_seconds=OUTAGE_SECONDS)
    scaling = Scaling("provisioned", 100, minimum_pollers=100)
    return [
        Scenario(
            f"1000/s, {scaling.describe()}, {'shared limiter' if limiter else 'no limiter'}",
            updates,
            vendor,
            scaling,
            limiter,
            in_flight,
        )
        for limiter in (False, True)
    ]


STATE_WRITE_UNITS = max(1, math.ceil(state_row_kib(CUSTOMER)))


def cost_of(result: Result) -> Cost:
    """List prices (benchmarks/cost.py) of what the run used. SQS: the webhook's send of each update, a receive
    and a delete a batch, a visibility change a retried record, a send to the DLQ a parked one."""
    sqs_requests = result.scenario.updates + 2 * result.invocations + result.visibility_changes + result.parked
    dynamodb = (
        result.state_writes * STATE_WRITE_UNITS * DYNAMODB_PER_WRITE_UNIT
        + result.shared_calls["UpdateItem"] * DYNAMODB_PER_WRITE_UNIT
        + result.shared_calls["GetItem"] * 0.5 * DYNAMODB_PER_READ_UNIT
    )
    return Cost(
        lambda_requests=result.invocations * LAMBDA_PER_REQUEST,
        lambda_duration=result.invocation_seconds * MEMORY_GB * LAMBDA_ARM_GB_SECOND,
        sqs=sqs_requests * SQS_FIFO_PER_REQUEST,
        dynamodb=dynamodb,
        logs=0.0,  # the same in every scenario: left out
        pollers=result.poller_seconds / 3600 * EPU_HOUR,
    )
