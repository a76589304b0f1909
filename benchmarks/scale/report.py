"""``make scale``: the simulation at scale, into SCALE.md.

    python -m benchmarks.scale.report [--write SCALE.md] [--updates N] [--thousand-updates N] [--workers N]

Every scenario runs in its own process (as many at once as ``--workers``, the machine's cores by default).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "layers" / "shared"))

from benchmarks.cost import PRICES_AS_OF  # noqa: E402
from benchmarks.scale.model import (  # noqa: E402
    BATCH,
    ESM_CYCLE_SECONDS,
    FUNCTION_TIMEOUT,
    NETWORK_SECONDS,
    STATE_WRITE_SECONDS,
    Result,
    Scenario,
    Simulation,
    Vendor,
)
from benchmarks.scale.scenarios import (  # noqa: E402
    EPU_HOUR,
    OUTAGE_SECONDS,
    SECONDS_IN_FLIGHT,
    STATE_WRITE_UNITS,
    THOUSAND_UPDATES,
    UPDATES,
    cost_of,
    table_scenarios,
    thousand_containers,
)
from custsync.config import VendorSettings  # noqa: E402

COMMAND = "make scale (python -m benchmarks.scale.report --write SCALE.md)"


def simulate(scenario: Scenario) -> Result:
    from custsync.observability import logger

    logger.setLevel("ERROR")  # the shared breaker's warnings, once for every container of the model
    return Simulation(scenario).run()


def run_all(scenarios: list[Scenario], workers: int) -> list[Result]:
    if workers <= 1:
        return [simulate(scenario) for scenario in scenarios]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(simulate, scenarios))


def duration(seconds: float) -> str:
    hours, rest = divmod(round(seconds), 3600)
    return f"{hours} h {rest // 60:02d} min" if hours else f"{rest // 60} min {rest % 60:02d} s"


def row(result: Result) -> str:
    scenario = result.scenario
    turned = result.turned_back
    calls = sum(result.shared_calls.values()) / max(result.vendor_requests, 1)
    cells = [
        f"{scenario.vendor.rate:,}/s",
        scenario.scaling.describe(),
        "**yes**" if scenario.limiter else "no",
        duration(result.drained_at),
        f"{result.throttled:,}",
        f"{result.wasted:,}",
        f"{result.busiest_second:,}",
        f"{result.peak_concurrency:,} / {result.peak_in_flight:,}",
        f"{turned['CircuitOpen']:,} / {turned['VendorPaused']:,} / {turned['RateLimited']:,}",
        f"{calls:.2f}",
        f"${cost_of(result).total:,.2f}",
        f"**{result.parked:,}**",
    ]
    return "| " + " | ".join(cells) + " |"


HEADER = (
    "| vendor allows | event source | shared limiter | time to drain | 429s | wasted calls (429 + 503) "
    "| busiest second at the vendor | peak containers / calls in flight | turned back: circuit / paused / rate "
    "| vendor-row calls a vendor call | cost | parked |\n|" + "---|" * 12
)


def costs(results: list[Result]) -> str:
    lines = [
        "| scenario | Lambda requests | Lambda duration | SQS | DynamoDB | event pollers | total |",
        "|" + "---|" * 7,
    ]
    for result in results:
        cost = cost_of(result)
        parts = [cost.lambda_requests, cost.lambda_duration, cost.sqs, cost.dynamodb, cost.pollers, cost.total]
        lines.append(f"| {result.scenario.name} | " + " | ".join(f"${part:,.2f}" for part in parts) + " |")
    return "\n".join(lines)


def findings(table: list[Result], thousand: list[Result]) -> str:
    """What the tables say, in numbers taken from them."""
    limited = [r for r in [*table, *thousand] if r.scenario.limiter]
    unlimited = [r for r in [*table, *thousand] if not r.scenario.limiter]
    over = max(r.busiest_second / r.scenario.vendor.rate for r in unlimited)
    above = max(r.busiest_second - r.scenario.vendor.rate for r in limited)
    busiest = "never above its rate" if above <= 0 else f"at most {above} above its rate"
    lines = [
        f"- **With the shared limiter** the vendor's busiest second is {busiest} in every scenario, "
        f"{sum(r.throttled for r in limited):,} 429s in all, and {sum(r.parked for r in limited):,} updates parked.",
        f"- **Without it** the same containers send up to {over:.1f}x the vendor's rate in a second: "
        f"{sum(r.throttled for r in unlimited):,} 429s in all, {sum(r.parked for r in unlimited):,} updates parked. "
        "Each 429's Retry-After pauses every container, so the records meeting the pause go back, again and again.",
    ]
    by_rate = {(r.scenario.vendor.rate, r.scenario.limiter, r.scenario.scaling.mode): r for r in table}
    for rate in sorted({r.scenario.vendor.rate for r in table}):
        without, with_ = by_rate.get((rate, False, "standard")), by_rate.get((rate, True, "standard"))
        provisioned = by_rate.get((rate, True, "provisioned"))
        if without and with_ and provisioned:
            lines.append(
                f"- At {rate:,}/s the limiter drains {without.drained_at / with_.drained_at:.1f}x faster than the "
                f"same containers without it ({duration(with_.drained_at)} against {duration(without.drained_at)}); "
                f"provisioned mode takes {duration(provisioned.drained_at)} for "
                f"${cost_of(provisioned).total:,.2f} (standard: ${cost_of(with_).total:,.2f})."
            )
    return "\n".join(lines)


def document(table: list[Result], thousand: list[Result], updates: int, thousand_updates: int, seconds: float) -> str:
    defaults = VendorSettings(vendor="v", state_table="t", vendor_secret_name="s", dlq_url="q")
    vendor = Vendor(rate=1)
    header = f"{HEADER}\n" + "\n".join(row(result) for result in table)
    stress = f"{HEADER}\n" + "\n".join(row(result) for result in thousand)
    return f"""# One vendor at scale

Produced by `{COMMAND}`: {updates:,} updates to one vendor ({thousand_updates:,} at a thousand containers),
each scenario a discrete-event simulation on a
simulated clock ({seconds:.0f} s of this machine for all of them). No machine here runs a thousand containers;
the model does, and what decides in it is this repository's own code: the shared circuit breaker and pause
(`custsync/vendor_health.py`), the shared rate limit (`custsync/rate_limit.py`), the guard's verdicts
(`custsync/vendor_guard.py`) on the in-memory vendor rows that stand for the state table
(`custsync/vendor_rows_memory.py`, the same contract as DynamoDB's, `tests/integration/test_vendor_rows.py`),
and the runtime's retry-or-park verdict (`custsync.runtime.next_try`). The rest is modelled: the event source,
the containers, the engine's state-table calls, the vendor. The model is `benchmarks/scale/model.py`; a small
version runs in the tests (`tests/unit/test_scale_model.py`).

## What it shows

{findings(table, thousand)}

## The table

Each vendor rate with the same sizing, without and with the shared limiter, then provisioned mode. The sizing is
what `make template` derives from a vendor.yaml whose `requests_per_second` is the vendor's rate:
`max_in_flight` = the rate x {SECONDS_IN_FLIGHT} s (twice the model's mean call), MaximumConcurrency = what keeps
that many calls going ({defaults.group_concurrency} a container), provisioned pollers from 2 to a tenth of that.
Every scenario has one vendor outage of {OUTAGE_SECONDS:.0f} s (503s) a quarter of the way through.

{header}

- **time to drain**: until every update is applied or parked. The vendor's rate bounds it: {updates:,} updates
  take {duration(updates / 10)}, {duration(updates / 100)} and {duration(updates / 1000)} at 10, 100 and 1,000 a
  second, however many containers run.
- **429s / wasted calls**: vendor requests refused over its limit, and those plus the outage's 503s: calls that
  applied nothing. **busiest second**: the most requests the vendor got in one calendar second.
- **turned back**: records sent back to the queue at once, no attempt spent, by an open circuit, a shared pause
  (a Retry-After) and the rate limiter (no slot within `RATE_WAIT_SECONDS`); each costs a delivery
  (`MAX_RECEIVES`, {defaults.max_receives}) and the runtime's back-off.
- **vendor-row calls a vendor call**: GetItem and UpdateItem on the vendor's `#health` and `#rate` rows, per
  vendor request: what the shared limits add to the state table's two writes a change.
- **cost**: list prices ({PRICES_AS_OF}; benchmarks/cost.py, and below), broken down after the next table.

## A thousand containers

The vendor at 1,000 requests a second and a thousand containers from the first second (provisioned mode, 100
pollers of ten invocations; standard mode would take three minutes to ramp up to as many), {thousand_updates:,}
updates: far more containers than the rate needs. `max_in_flight` ({SECONDS_IN_FLIGHT} s of the rate) is below
the containers, so each makes one call at a time (the function logs a warning at cold start). Without the
limiter the vendor's load is bounded only by the containers' number; with it the vendor sees its rate. Whenever
the vendor is paused or its circuit is open, a thousand containers turn the whole backlog over in seconds:
each record goes back (no attempt spent, a delivery counted), which is what the turned-back column counts.

{stress}

## What it costs

{costs([*table, *thousand])}

## The model's assumptions

- **Event source** (standard): five concurrent batches when messages appear, up to 300 more a minute while
  messages are visible, at most MaximumConcurrency (and at most 1,000); fewer again, as fast, when none are.
  Each slot takes a batch of {BATCH} as soon as its last returns, {ESM_CYCLE_SECONDS * 1000:.0f} ms later (the
  receive and the invoke); idle slots poll once a second. Provisioned: the minimum pollers' concurrency (ten
  invocations a poller) from the start, up to 1,000 more a minute, at most ten a maximum poller. The queues are
  FIFO: Lambda's documentation says a FIFO mapping scales to the number of active message groups; the model
  assumes at least as many customers (groups) as batches, one record a customer in a batch.
- **Containers**: one batch at a time, `calls_per_container` customers at once (the function's share of
  `max_in_flight`); a new container costs a {0.5:.1f} s cold start (billed: Lambda bills the init phase). Function
  timeout {FUNCTION_TIMEOUT:.0f} s, 256 MB. Each has its own breaker and limiter state, like a Lambda container;
  they share only the vendor rows. A container's lanes share one identity as the circuit's prober, where Lambda's
  threads each have theirs: at most one batch's customers probe together.
- **A record**: the health check (cached {defaults.health_cache_seconds:.0f} s a container), the claim
  ({STATE_WRITE_SECONDS * 1000:.0f} ms), its turn at the rate (waiting up to {defaults.rate_wait_seconds:.0f} s),
  the call ({NETWORK_SECONDS * 1000:.0f} ms each way), the commit or the release ({STATE_WRITE_SECONDS * 1000:.0f}
  ms). Retries follow the function's defaults: {defaults.max_attempts} attempts, back-off from
  {defaults.backoff_base_seconds:.0f} s doubling to {defaults.max_backoff_seconds:.0f} s, a wait growing with each
  delivery, parked after {defaults.max_receives} deliveries without an attempt that passed; the breaker opens
  after {defaults.breaker_threshold} failures in a row in one container, for {defaults.breaker_cooldown_seconds:.0f} s.
- **The vendor**: a call takes {vendor.latency_seconds * 1000:.0f} ms plus an exponential
  {vendor.latency_spread_seconds * 1000:.0f} ms on average; it counts requests per calendar second (on the
  containers' clock: no skew) and answers what is over its rate with 429 and `Retry-After` (the seconds to the
  next second, rounded up) in {vendor.refusal_seconds * 1000:.0f} ms; in the outage it answers 503 without one.
  Requests never time out in the model.
- **Not modelled**: DynamoDB throttling (the busiest vendor row's writes a second are within one partition's
  1,000 write units in every scenario above: see "vendor-row calls"), SQS's own limits, Lambda's account
  concurrency, retries of the state-table calls, cold starts after idle.
- **Cost**: Lambda requests and duration (arm64, 256 MB), SQS FIFO requests (the webhook's send of each update,
  a receive and a delete a batch, a visibility change a retried record, a send to the DLQ a parked one),
  DynamoDB on-demand writes ({STATE_WRITE_UNITS} write units a state-table write, one a vendor-row write, half a
  read unit a vendor-row read), event pollers at ${EPU_HOUR} an EPU-hour. Logs and the webhook's own Lambda
  time are left out (the same in every scenario).

## The AWS limits and prices used, and where they come from

- Standard scaling: "Lambda starts processing five batches at a time with five concurrent invocations ... adds
  up to 300 more instances per minute ... The maximum number of batches that an event source mapping can process
  simultaneously is 1,000" (AWS Lambda Developer Guide, "Configuring scaling behavior for SQS event source
  mappings", https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html; a newer revision of the
  same page says 1,250 concurrent invokes). FIFO: "functions can scale in concurrency to the number of active
  message groups" (AWS Knowledge Center, https://repost.aws/knowledge-center/lambda-sqs-scaling).
- MaximumConcurrency: 2 to 1,000 (Lambda API Reference, ScalingConfig,
  https://docs.aws.amazon.com/lambda/latest/dg/API_ScalingConfig.html); it and provisioned mode "are mutually
  exclusive options" (the scaling page above).
- Provisioned mode for SQS: "each event poller can handle up to 1 MB/s of throughput, up to 10 concurrent
  invokes, or up to 10 Amazon SQS polling API calls per second ... quickly adding up to 1,000 concurrent invokes
  per minute"; minimum pollers 2 to 200 (default 2), maximum 2 to 2,000 (default 200) (Lambda Developer Guide,
  "Using Lambda with Amazon SQS" and "Event source mappings: provisioned mode",
  https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html; CloudFormation
  ProvisionedPollerConfig); "up to 20,000 concurrency" (AWS News Blog, 2025-11-14,
  https://aws.amazon.com/blogs/aws/aws-lambda-enhances-sqs-processing-with-new-provisioned-mode-3x-faster-scaling-16x-higher-capacity).
- Provisioned mode's price: "SQS ESM: An EPU supports one event poller ... Each SQS ESM requires a minimum of 2
  event pollers"; "The EPU price is $0.00925 per EPU-hour" (AWS Lambda pricing, "Provisioned Mode for Event
  Source Mapping (ESM) Pricing", Pricing Example 2, US East (N. Virginia), https://aws.amazon.com/lambda/pricing/).
  Two pollers always on: 2 x 730 h x $0.00925 = ${2 * 730 * EPU_HOUR:.2f} a month for each vendor queue.
- Lambda arm64 duration and requests, SQS FIFO requests, DynamoDB on-demand units: benchmarks/cost.py
  ({PRICES_AS_OF}); DynamoDB eventually consistent reads $0.125 a million read units (the same price list).
- DynamoDB: a partition serves at most 3,000 read units and 1,000 write units a second (DynamoDB Developer
  Guide, "Burst and adaptive capacity").
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", type=Path, help="write SCALE.md here")
    parser.add_argument("--updates", type=int, default=UPDATES)
    parser.add_argument("--thousand-updates", type=int, default=THOUSAND_UPDATES)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    started = time.monotonic()
    table = table_scenarios(args.updates)
    thousand = thousand_containers(args.thousand_updates)
    results = run_all([*table, *thousand], args.workers)
    seconds = time.monotonic() - started
    text = document(results[: len(table)], results[len(table) :], args.updates, args.thousand_updates, seconds)
    print(text)
    if args.write:
        args.write.write_text(text)
    return 0 if all(math.isfinite(r.drained_at) for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
