"""One vendor function at scale, as a discrete-event simulation on a simulated clock: no thread, no sleep.

What is modelled (SCALE.md lists the assumptions and the AWS limits with their sources):

- The queue: the updates, each delivered in batches of ``BATCH`` (its receive count kept), hidden after a
  retry for as long as the runtime says (``custsync.runtime.next_try``, the real function), parked when given up.
- The event source: how many batches it runs at once (``Scaling``: Lambda's standard scaling capped by
  MaximumConcurrency, or provisioned pollers), polling once a second for idle slots.
- Containers: each runs one batch at a time, ``calls_per_container`` customers at once (its lanes), with a
  cold start when new; each has its own shared-limit clients, the real ``VendorHealth`` and ``RateLimiter``,
  on one ``InMemoryVendorRows`` that stands for the state table's vendor rows, on the model's clock.
- Each record: the health check (an open circuit or a pause turns it back: no attempt), the claim, its turn
  at the rate (waiting for its slot up to ``rate_wait_seconds``, else turned back), the call, then the commit or
  the release with an attempt counted. The engine itself is modelled (two state-table writes a record), not
  run; what it decides with is real: the guard's verdicts, ``next_try``.
- The vendor: a latency per call, a limit of ``rate`` requests in each calendar second (above it: 429 with
  ``Retry-After``), and an outage during which it answers 503.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from custsync.config import VendorSettings
from custsync.connector import SendResult
from custsync.errors import RetryableError
from custsync.rate_limit import RateLimiter
from custsync.runtime import next_try
from custsync.vendor_guard import VendorGuard
from custsync.vendor_health import VendorHealth
from custsync.vendor_rows_memory import InMemoryVendorRows

BATCH = 10
EPOCH = 1_800_000_000.0  # the model's clock starts here: the limiter's windows count from the Unix epoch
FUNCTION_TIMEOUT = 30.0  # template.yaml's Globals
STATE_WRITE_SECONDS = 0.008  # one conditional UpdateItem, from Lambda to DynamoDB in the same region
NETWORK_SECONDS = 0.005  # from a container to the vendor
RESPONSE_OVERHEAD_SECONDS = 0.02  # a batch's bookkeeping: the partial batch response, the visibility changes
ESM_CYCLE_SECONDS = 0.05  # the event source's receive and invoke, before a batch reaches its container


@dataclass(frozen=True)
class Scaling:
    """How the event source scales: ``standard`` (Lambda's own, capped by MaximumConcurrency) or ``provisioned``
    (pollers between a minimum and a maximum, ten invocations each)."""

    mode: Literal["standard", "provisioned"]
    maximum: int  # MaximumConcurrency, or the most pollers
    minimum_pollers: int = 2

    @property
    def most_containers(self) -> int:
        return self.maximum if self.mode == "standard" else 10 * self.maximum

    @property
    def start(self) -> float:
        """Concurrent batches when messages first appear: five, or what the minimum pollers run."""
        return min(5.0, self.maximum) if self.mode == "standard" else 10.0 * self.minimum_pollers

    @property
    def ramp_per_second(self) -> float:
        """Up to 300 more concurrent invocations a minute, or 1,000 in provisioned mode."""
        return 300 / 60 if self.mode == "standard" else 1000 / 60

    def describe(self) -> str:
        if self.mode == "standard":
            return f"MaximumConcurrency {self.maximum}"
        return f"provisioned, {self.minimum_pollers}-{self.maximum} pollers"


@dataclass(frozen=True)
class Vendor:
    """The vendor: ``rate`` requests a second (calendar seconds), a latency, an outage."""

    rate: int
    latency_seconds: float = 0.12  # the least a call takes
    latency_spread_seconds: float = 0.08  # the mean of an exponential added to it
    refusal_seconds: float = 0.02  # how fast a 429 or a 503 comes back
    outage_start: float = 0.0
    outage_seconds: float = 0.0


@dataclass(frozen=True)
class Scenario:
    name: str
    updates: int
    vendor: Vendor
    scaling: Scaling
    limiter: bool  # the shared rate limit set to the vendor's rate (vendor.yaml's requests_per_second)
    max_in_flight: int
    cold_start_seconds: float = 0.5
    seed: int = 1
    settings: dict[str, Any] = field(default_factory=dict)  # VendorSettings over the defaults


@dataclass
class Result:
    scenario: Scenario
    drained_at: float = 0.0
    applied: int = 0
    parked: int = 0
    vendor_requests: int = 0
    throttled: int = 0  # 429s: over the vendor's limit
    failed: int = 0  # 503s of the outage
    busiest_second: int = 0  # the most requests the vendor got in one second
    peak_concurrency: int = 0  # batches (containers) at once
    peak_in_flight: int = 0  # vendor calls at once
    containers: int = 0
    invocations: int = 0
    invocation_seconds: float = 0.0
    receives: int = 0
    visibility_changes: int = 0
    state_writes: int = 0
    turned_back: Counter[str] = field(default_factory=Counter)  # CircuitOpen, VendorPaused, RateLimited
    shared_calls: Counter[str] = field(default_factory=Counter)  # GetItem, UpdateItem on the vendor's rows
    poller_seconds: float = 0.0  # provisioned pollers, integrated over the run
    events: int = 0

    @property
    def wasted(self) -> int:
        """Vendor requests that applied nothing: refused over its limit, or failed in the outage."""
        return self.throttled + self.failed


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return EPOCH + self.now


class _Queue:
    """The vendor's queue: visible messages in order, hidden ones by the whole second they come back (SQS takes a
    visibility timeout in whole seconds), each message's receive count and real attempts."""

    def __init__(self, updates: int) -> None:
        self.visible: deque[int] = deque(range(updates))
        self.hidden: dict[int, list[int]] = {}
        self.due: list[int] = []
        self.attempts = [0] * updates
        self.deliveries = [0] * updates
        self.outstanding = updates

    def release(self, now: float) -> None:
        while self.due and self.due[0] <= now:
            self.visible.extend(self.hidden.pop(heapq.heappop(self.due)))

    def receive(self, now: float) -> list[int]:
        self.release(now)
        batch = [self.visible.popleft() for _ in range(min(BATCH, len(self.visible)))]
        for record in batch:
            self.deliveries[record] += 1
        return batch

    def hide(self, record: int, until: float) -> None:
        second = math.ceil(until)
        if second not in self.hidden:
            self.hidden[second] = []
            heapq.heappush(self.due, second)
        self.hidden[second].append(record)


@dataclass(eq=False)
class _Container:
    guard: VendorGuard
    limiter: RateLimiter | None
    asking: dict[float, int] = field(default_factory=dict)  # lanes that ask for their turn at the same moment


@dataclass(eq=False)
class _Invocation:
    container: _Container
    records: list[int]
    invoked: float
    started: float
    next: int = 0
    lanes: int = 0


class Simulation:
    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.settings = VendorSettings.model_validate(
            {
                "vendor": "vendor",
                "state_table": "t",
                "vendor_secret_name": "s",
                "dlq_url": "q",
                "max_in_flight": scenario.max_in_flight,
                "requests_per_second": scenario.vendor.rate if scenario.limiter else 0,
                **(
                    {"event_source_max_concurrency": scenario.scaling.maximum}
                    if scenario.scaling.mode == "standard"
                    else {"event_source_max_pollers": scenario.scaling.maximum}
                ),
                **scenario.settings,
            }
        )
        self.rng = random.Random(scenario.seed)
        self.clock = _Clock()
        self.rows = InMemoryVendorRows()
        self.queue = _Queue(scenario.updates)
        self.result = Result(scenario)
        self._events: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
        self._seq = 0
        self.idle: list[_Container] = []
        self.active = 0
        self.in_flight = 0
        self.target = 0.0
        self.vendor_seconds: Counter[int] = Counter()

    # -- the clock -----------------------------------------------------------------------------------
    @property
    def now(self) -> float:
        return self.clock.now

    def at(self, when: float, action: Callable[..., None], *args: Any) -> None:
        self._seq += 1
        heapq.heappush(self._events, (when, self._seq, action, args))

    def run(self) -> Result:
        self.target = self.scenario.scaling.start
        self.at(0.0, self._poll)
        while self._events and self.queue.outstanding:
            when, _, action, args = heapq.heappop(self._events)
            self.clock.now = when
            action(*args)
            self.result.events += 1
        self.result.drained_at = self.now
        self.result.busiest_second = max(self.vendor_seconds.values(), default=0)
        self.result.shared_calls = Counter(self.rows.calls)
        return self.result

    # -- the event source --------------------------------------------------------------------------------
    def _poll(self) -> None:
        """Once a second: scale, then fill every idle slot with a batch while messages are visible."""
        scaling = self.scenario.scaling
        self.queue.release(self.now)
        if self.queue.visible:
            self.target = min(self.target + scaling.ramp_per_second, scaling.most_containers)
        else:
            self.target = max(self.target - scaling.ramp_per_second, scaling.start)
        self._fill()
        if scaling.mode == "provisioned":
            pollers = max(scaling.minimum_pollers, math.ceil(max(self.target, self.active) / 10))
            self.result.poller_seconds += pollers
        self.at(self.now + 1.0, self._poll)

    def _fill(self) -> None:
        while self.active < int(self.target) and self.queue.visible:
            batch = self.queue.receive(self.now)
            self.result.receives += 1
            self._invoke(batch)

    def _invoke(self, batch: list[int]) -> None:
        self.active += 1
        self.result.peak_concurrency = max(self.result.peak_concurrency, self.active)
        self.result.invocations += 1
        invoked = started = self.now + ESM_CYCLE_SECONDS
        if self.idle:
            container = self.idle.pop()
        else:
            container = self._container()
            started += self.scenario.cold_start_seconds
        invocation = _Invocation(container, batch, invoked, started)
        lanes = min(self.settings.calls_per_container, len(batch))
        invocation.lanes = lanes
        for _ in range(lanes):
            self.at(started, self._next_record, invocation)

    def _container(self) -> _Container:
        self.result.containers += 1
        settings = self.settings
        health = VendorHealth(
            self.rows,
            "vendor",
            threshold=settings.breaker_threshold,
            cooldown_seconds=settings.breaker_cooldown_seconds,
            cache_seconds=settings.health_cache_seconds,
            clock=self.clock,
        )
        limiter = (
            RateLimiter(self.rows, settings.requests_per_second, clock=self.clock) if self.scenario.limiter else None
        )
        guard = VendorGuard(
            "vendor",
            health,
            limiter,
            rate_wait_seconds=settings.rate_wait_seconds,
            call_timeout_seconds=settings.call_timeout_seconds,
        )
        return _Container(guard, limiter)

    def _lane_done(self, invocation: _Invocation) -> None:
        invocation.lanes -= 1
        if invocation.lanes:
            return
        ended = self.now + RESPONSE_OVERHEAD_SECONDS
        self.result.invocation_seconds += ended - invocation.invoked  # a cold start's init is billed too
        self.at(ended, self._invocation_ended, invocation)

    def _invocation_ended(self, invocation: _Invocation) -> None:
        self.active -= 1
        self.idle.append(invocation.container)
        self._fill()

    # -- one record ---------------------------------------------------------------------------------------
    def _next_record(self, invocation: _Invocation) -> None:
        """The lane's next record. When the vendor's health turns one back, it turns back every record of the
        batch not yet started (the other lanes would meet the same answer): at once, with no state-table call."""
        if invocation.next >= len(invocation.records):
            self._lane_done(invocation)
            return
        refusal = invocation.container.guard.refusal()
        if refusal is not None:
            rest, invocation.next = invocation.records[invocation.next :], len(invocation.records)
            self.result.turned_back[refusal.metric] += len(rest)
            for record in rest:
                self._give_back(record, None, refusal.seconds)
            self._lane_done(invocation)
            return
        record = invocation.records[invocation.next]
        invocation.next += 1
        self.result.state_writes += 1  # the claim
        claimed = self.now + STATE_WRITE_SECONDS
        invocation.container.asking[claimed] = invocation.container.asking.get(claimed, 0) + 1
        self.at(claimed, self._take_token, invocation, record)

    def _take_token(self, invocation: _Invocation, record: int) -> None:
        """The request's turn at the vendor's rate: it waits for its slot, or goes back when none is free in time.
        Lanes of a container that ask at the same moment are served by one write, as its threads are."""
        container = invocation.container
        if container.limiter is None:
            self._call(invocation, record)
            return
        asking = container.asking.pop(self.now, 1)
        if asking > 1:
            container.asking[self.now] = asking - 1
        remaining = invocation.started + FUNCTION_TIMEOUT - self.settings.deadline_margin_seconds - self.now
        budget = max(min(self.settings.rate_wait_seconds, remaining - self.settings.call_timeout_seconds), 0.0)
        turn = container.limiter.turn(budget, wanted=asking)
        if not turn.granted:
            self.result.turned_back["RateLimited"] += 1
            self._retry(invocation, record, None, turn.wait)
            return
        self.at(self.now + turn.wait, self._call, invocation, record)

    def _call(self, invocation: _Invocation, record: int) -> None:
        vendor = self.scenario.vendor
        self.result.vendor_requests += 1
        self.in_flight += 1
        self.result.peak_in_flight = max(self.result.peak_in_flight, self.in_flight)
        arrival = self.now + NETWORK_SECONDS
        second = math.floor(arrival)
        self.vendor_seconds[second] += 1
        if vendor.outage_start <= arrival < vendor.outage_start + vendor.outage_seconds:
            status, retry_after, took = 503, None, vendor.refusal_seconds
        elif self.vendor_seconds[second] > vendor.rate:
            status, retry_after, took = 429, float(math.ceil(second + 1 - arrival)), vendor.refusal_seconds
        else:
            status, retry_after = 200, None
            took = vendor.latency_seconds + self.rng.expovariate(1 / vendor.latency_spread_seconds)
        self.at(self.now + NETWORK_SECONDS + took, self._answered, invocation, record, status, retry_after)

    def _answered(self, invocation: _Invocation, record: int, status: int, retry_after: float | None) -> None:
        self.in_flight -= 1
        guard = invocation.container.guard
        if status == 200:
            guard.record([SendResult()])
        else:  # the guard's own verdict, and its reading of the reply's Retry-After
            guard.record([RetryableError("refused", status=status, retry_after=retry_after)])
            headers = {"Retry-After": str(int(retry_after))} if retry_after else {}
            guard.requests().after(httpx.Response(status, headers=headers))
        self.result.state_writes += 1  # the commit, or the release
        if status == 200:
            self.result.applied += 1
            self.queue.outstanding -= 1
            self.at(self.now + STATE_WRITE_SECONDS, self._next_record, invocation)
            return
        self.result.throttled += status == 429
        self.result.failed += status == 503
        self.queue.attempts[record] += 1
        self.result.state_writes -= 1  # counted above: the release is that write
        self._retry(invocation, record, self.queue.attempts[record], retry_after)

    def _retry(self, invocation: _Invocation, record: int, attempts: int | None, retry_after: float | None) -> None:
        """After the claim: the lease given back (a state-table write), then the runtime's verdict."""
        self.result.state_writes += 1
        self._give_back(record, attempts, retry_after)
        self.at(self.now + STATE_WRITE_SECONDS, self._next_record, invocation)

    def _give_back(self, record: int, attempts: int | None, retry_after: float | None) -> None:
        """The runtime's verdict (``next_try``): parked, or hidden until its next try."""
        given_up, delay = next_try(self.settings, attempts, retry_after, self.queue.deliveries[record])
        if given_up is not None:
            self.result.parked += 1
            self.queue.outstanding -= 1
        else:
            self.result.visibility_changes += 1
            self.queue.hide(record, self.now + delay)
