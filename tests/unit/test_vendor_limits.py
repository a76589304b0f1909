"""A vendor's limits held for all its containers: each "container" here is its own engine, guard, health and
rate limiter, as in Lambda, sharing only the vendor's rows (in memory, with the state table's semantics) and a
fake clock. The vendor's requests go through the real HTTP transport (its hooks are where the limits apply)
onto an httpx mock that answers as the test says."""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custsync.config import VendorSettings
from custsync.connector import Connector, SendResult, SyncContext, VendorCall, VendorRequest
from custsync.deadline import invocation
from custsync.engine import EngineSettings, Outcome, SyncEngine
from custsync.errors import RetryableError, SyncError
from custsync.model import Customer, CustomerChange
from custsync.observability import metrics
from custsync.rate_limit import RateLimiter
from custsync.secret_schema import VendorSecret
from custsync.state_memory import InMemoryStateStore
from custsync.transport.rest import RestClient
from custsync.vendor_guard import VendorGuard
from custsync.vendor_health import HealthRow, VendorHealth
from custsync.vendor_rows_memory import InMemoryVendorRows

START = datetime(2026, 11, 20, 9, tzinfo=UTC)
SETTINGS = VendorSettings(vendor="acme", state_table="t", vendor_secret_name="s", dlq_url="q")


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


Answer = Callable[[httpx.Request], httpx.Response]


class Vendor:
    """What the vendor answers (every container reaches the same one) and every request it got."""

    def __init__(self) -> None:
        self.answers: list[httpx.Response] = []
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answers.pop(0) if self.answers else httpx.Response(200, json={"ok": True})


class AcmeSecret(VendorSecret):
    """Only the base URL; the calls go to the in-memory vendor."""


class AcmeConnector(Connector[AcmeSecret]):
    """One PUT a customer, through the shared REST client (bounded transport, hooks and all)."""

    name = "acme"
    secret_model = AcmeSecret
    vendor: Vendor
    retry_on: frozenset[int] = frozenset()

    def configure(self, secret: AcmeSecret) -> None:
        transport = httpx.MockTransport(self.vendor)
        self.client = RestClient("acme", "http://acme.test", transport=transport, retry_on=self.retry_on)

    def to_request(self, customer: Customer, context: SyncContext) -> VendorRequest:
        return VendorRequest((VendorCall("put", {"key": customer.key, "company": customer.company}),))

    def send(self, request: VendorRequest, context: SyncContext) -> SendResult:
        for call in request.calls:
            self.client.request("PUT", f"customers/{call.payload['key']}", json=dict(call.payload))
        return SendResult()


class Container:
    """One container of the vendor function: its own engine, state client, health and limiter."""

    def __init__(
        self, vendor: Vendor, rows: InMemoryVendorRows, store: InMemoryStateStore, clock: Clock, **limits: Any
    ) -> None:
        health = VendorHealth(
            rows,
            "acme",
            threshold=limits.get("threshold", 3),
            cooldown_seconds=limits.get("cooldown", 30),
            cache_seconds=limits.get("cache", 1),
            clock=clock,
        )
        per_second = limits.get("per_second", 0)
        limiter = RateLimiter(rows, per_second, clock=clock) if per_second else None
        wait = limits.get("rate_wait", 0.0)
        self.guard = VendorGuard(
            "acme", health, limiter, rate_wait_seconds=wait, call_timeout_seconds=10, sleep=clock.sleep
        )
        AcmeConnector.vendor = vendor
        connector = AcmeConnector(SETTINGS, lambda force: {"base_url": "https://acme.test"})
        self.engine = SyncEngine(connector, store, EngineSettings(), self.guard, clock)

    def apply(self, change: CustomerChange) -> Outcome | SyncError:
        try:
            return self.engine.apply(change)
        except SyncError as exc:
            return exc


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def vendor() -> Vendor:
    return Vendor()


@pytest.fixture
def rows() -> InMemoryVendorRows:
    return InMemoryVendorRows()


@pytest.fixture
def store(clock: Clock) -> InMemoryStateStore:
    return InMemoryStateStore(clock)


@pytest.fixture(autouse=True)
def no_metrics_left() -> Iterator[None]:
    metrics.clear_metrics()
    yield
    metrics.clear_metrics()


_ids = itertools.count()


def change(key: str, company: str = "Acme") -> CustomerChange:
    n = next(_ids)
    return CustomerChange.model_validate(
        {
            "change_id": f"c-{n}",
            "source": "test",
            "occurred_at": START + timedelta(seconds=n),
            "customer": {"key": key, "company": company},
        }
    )


def counted(name: str) -> float:
    return float(sum(metrics.metric_set.get(name, {}).get("Value", [])))


def applied(result: Outcome | SyncError) -> bool:
    return isinstance(result, Outcome) and result.status == "applied"


def turned_back(result: Outcome | SyncError) -> RetryableError:
    """A record that went back without a call and without an attempt."""
    assert isinstance(result, RetryableError), result
    assert result.attempts is None, "no attempt was spent"
    return result


# -- the circuit ------------------------------------------------------------------------------------------
def test_an_outage_seen_by_one_container_stops_the_others_once_their_view_is_renewed(
    vendor: Vendor, rows: InMemoryVendorRows, store: InMemoryStateStore, clock: Clock
) -> None:
    first, second = (Container(vendor, rows, store, clock, threshold=3, cache=1) for _ in range(2))
    assert applied(second.apply(change("B0")))
    vendor.answers = [httpx.Response(500, json={"message": "down"}) for _ in range(3)]
    for n in range(3):
        failed = first.apply(change(f"A{n}"))
        assert isinstance(failed, RetryableError) and failed.attempts == 1
    assert rows.health.open_until == clock.now + 30
    calls = len(vendor.requests)

    assert applied(second.apply(change("B1"))), "its view is a second old at most"
    clock.now += 1
    results = [second.apply(change(f"B{n}")) for n in range(2, 12)]
    assert all("circuit open" in turned_back(r).reason for r in results)
    assert len(vendor.requests) == calls + 1, "the second container did not spend its own failures"
    assert counted("CircuitOpen") == 10


def cooled_down(
    vendor: Vendor, rows: InMemoryVendorRows, store: InMemoryStateStore, clock: Clock
) -> tuple[Container, Container]:
    """Two containers, after the first opened the circuit (one failure) and its cool-down (30 s) is over."""
    first, second = (Container(vendor, rows, store, clock, threshold=1, cooldown=30, cache=0) for _ in range(2))
    vendor.answers = [httpx.Response(503)]
    first.apply(change("A0"))
    clock.now += 31
    return first, second


def test_after_the_cool_down_one_container_probes_and_its_success_reopens_the_vendor_to_all(
    vendor: Vendor, rows: InMemoryVendorRows, store: InMemoryStateStore, clock: Clock
) -> None:
    first, second = cooled_down(vendor, rows, store, clock)
    assert applied(first.apply(change("A1"))), "the probe"
    assert rows.health == HealthRow(), "closed for every container"
    assert applied(second.apply(change("B0")))


def test_while_one_container_probes_the_others_wait_and_a_failed_probe_opens_the_circuit_again(
    vendor: Vendor, rows: InMemoryVendorRows, store: InMemoryStateStore, clock: Clock
) -> None:
    first, second = cooled_down(vendor, rows, store, clock)
    assert first.guard.refusal() is None, "elected to probe"
    refused = second.guard.refusal()
    assert refused is not None and refused.metric == "CircuitOpen" and "probed" in refused.reason
    vendor.answers = [httpx.Response(503)]
    first.apply(change("A1"))
    assert rows.health.open_until == clock.now + 30 and rows.health.probe_owner == ""


def test_a_batch_call_counts_once_and_refused_input_says_nothing_of_the_vendors_health(
    vendor: Vendor, rows: InMemoryVendorRows, store: InMemoryStateStore, clock: Clock
) -> None:
    container = Container(vendor, rows, store, clock, threshold=2)
    vendor.answers = [httpx.Response(400, json={"message": "bad"}) for _ in range(5)]
    for n in range(5):
        container.apply(change(f"K{n}"))
    assert rows.health.open_until == 0


# -- the pause --------------------------------------------------------------------------------------------
def test_a_retry_after_seen_by_one_container_pauses_every_container_without_spending_attempts(
    vendor: Vendor, rows: InMemoryVendorRows, store: InMemoryStateStore, clock: Clock
) -> None:
    first, second = (Container(vendor, rows, store, clock, cache=0) for _ in range(2))
    vendor.answers = [httpx.Response(429, headers={"Retry-After": "20"})]
    throttled = first.apply(change("A0"))
    assert isinstance(throttled, RetryableError) and throttled.attempts == 1, "the call that got the 429 was made"
    assert rows.health.paused_until == clock.now + 20

    clock.now += 5
    paused = turned_back(second.apply(change("B0")))
    assert paused.retry_after == pytest.approx(15) and "paused" in paused.reason
    assert len(vendor.requests) == 1
    assert counted("VendorPaused") == 1
    clock.now += 15
    assert applied(second.apply(change("B0")))


def test_a_503_with_retry_after_pauses_too_and_a_503_without_one_does_not(
    vendor: Vendor, rows: InMemoryVendorRows, store: InMemoryStateStore, clock: Clock
) -> None:
    container = Container(vendor, rows, store, clock, cache=0)
    vendor.answers = [httpx.Response(503)]
    container.apply(change("A0"))
    assert rows.health.paused_until == 0
    vendor.answers = [httpx.Response(503, headers={"Retry-After": "7"})]
    container.apply(change("A1"))
    assert rows.health.paused_until == clock.now + 7


# -- the rate ---------------------------------------------------------------------------------------------
def test_a_request_over_the_rate_waits_for_its_turn_when_it_may(
    vendor: Vendor, rows: InMemoryVendorRows, store: InMemoryStateStore, clock: Clock
) -> None:
    first, second = (Container(vendor, rows, store, clock, per_second=2, rate_wait=1.0) for _ in range(2))
    assert applied(first.apply(change("A0")))
    assert applied(second.apply(change("B0")))
    assert clock.now == pytest.approx(1_800_000_000.5), "two a second: the second's turn came half a second later"


def test_a_call_longer_than_the_invocation_still_waits_one_turn_of_the_rate(
    vendor: Vendor, rows: InMemoryVendorRows, store: InMemoryStateStore, clock: Clock
) -> None:
    """A call timeout over the time left (the call is cut to the invocation's end anyway) is no reason to turn a
    request back that waits a single turn: with the rate's turns spaced out, it would never be called."""
    first, second = (Container(vendor, rows, store, clock, per_second=2, rate_wait=1.0) for _ in range(2))
    assert applied(first.apply(change("A0")))
    with invocation(5.0, 0.0):  # 5 s left, under the 10 s call timeout
        assert applied(second.apply(change("B0")))
    assert clock.now == pytest.approx(1_800_000_000.5)


def test_a_request_that_cannot_wait_for_its_turn_goes_back_without_an_attempt(
    vendor: Vendor, rows: InMemoryVendorRows, store: InMemoryStateStore, clock: Clock
) -> None:
    first, second = (Container(vendor, rows, store, clock, per_second=2, rate_wait=0.0) for _ in range(2))
    first.apply(change("A0"))
    deferred = turned_back(second.apply(change("B0")))
    assert "used up" in deferred.reason and deferred.retry_after == pytest.approx(0.5), "how long the queue is"
    assert len(vendor.requests) == 1 and counted("RateLimited") == 1
    assert store.rows["B0"].lease_token is None, "the customer's lease was given back"
    assert store.rows["B0"].state is None or not store.rows["B0"].state.attempts
    clock.now += 0.5
    assert applied(second.apply(change("B0")))


def test_one_write_serves_a_containers_waiting_requests_each_in_its_turn(
    rows: InMemoryVendorRows, clock: Clock
) -> None:
    limiter = RateLimiter(rows, 100, clock=clock)
    turns = [limiter.turn(1.0, wanted=10)]
    writes = rows.calls["UpdateItem"]
    turns += [limiter.turn(1.0) for _ in range(9)]
    assert rows.calls["UpdateItem"] == writes, "the other nine turns were taken with the first"
    assert all(turn.granted for turn in turns)
    assert [turn.wait for turn in turns] == pytest.approx([n / 100 for n in range(10)]), "one every hundredth of a s"


def test_turns_are_first_come_first_served_across_containers_and_a_refusal_costs_one_write(
    rows: InMemoryVendorRows, clock: Clock
) -> None:
    early, late = RateLimiter(rows, 10, clock=clock), RateLimiter(rows, 10, clock=clock)
    waits = [early.turn(5.0).wait for _ in range(30)]
    assert waits == pytest.approx([n / 10 for n in range(30)]), "a slot each tenth of a second"
    assert not late.turn(2.0).granted, "first come, first served: the queue is three seconds long"
    writes = rows.calls["UpdateItem"]
    refused = late.turn(2.0)
    assert not refused.granted and refused.wait == pytest.approx(3.0)
    assert rows.calls["UpdateItem"] == writes + 1, "no polling: one write a refusal"


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.integers(0, 7), st.floats(0, 0.3), st.integers(1, 12), st.floats(0, 6)), min_size=1, max_size=300
    ),
    per_second=st.sampled_from([1, 3, 10, 15, 40, 100]),
)
def test_however_many_containers_ask_no_second_starts_more_than_the_rate(
    steps: list[tuple[int, float, int, float]], per_second: int
) -> None:
    clock, rows = Clock(), InMemoryVendorRows()
    limiters = [RateLimiter(rows, per_second, clock=clock) for _ in range(8)]
    starts: Counter[int] = Counter()
    for index, pause, wanted, budget in steps:
        clock.now += pause
        turn = limiters[index].turn(budget, wanted)
        if turn.granted:
            assert turn.wait <= budget
            starts[math.floor(clock.now + turn.wait)] += 1
    assert max(starts.values(), default=0) <= per_second


def test_many_containers_take_the_whole_rate_and_no_more(clock: Clock, rows: InMemoryVendorRows) -> None:
    """Twenty containers, each with more requests waiting than it may send, for ten seconds."""
    rng = random.Random(5)
    limiters = [RateLimiter(rows, 50, clock=clock) for _ in range(20)]
    starts: Counter[int] = Counter()
    while clock.now < 1_800_000_010.0:
        clock.now += rng.uniform(0, 0.004)
        limiter, waiting = rng.choice(limiters), rng.randint(1, 10)
        for n in range(waiting):  # the container's waiting requests, each taking its turn
            turn = limiter.turn(0.2, wanted=waiting - n)
            if not turn.granted:
                break
            starts[math.floor(clock.now + turn.wait)] += 1
    assert starts[1_800_000_000] <= 50
    assert {starts[second] for second in range(1_800_000_001, 1_800_000_010)} == {50}, starts


def test_429s_pause_the_vendor_but_never_open_its_circuit(
    vendor: Vendor, rows: InMemoryVendorRows, store: InMemoryStateStore, clock: Clock
) -> None:
    """A vendor counting requests is up: its Retry-After is the instruction, not a reason to stop for a cool-down."""
    container = Container(vendor, rows, store, clock, threshold=2, cache=0)
    for n in range(5):
        vendor.answers = [httpx.Response(429, headers={"Retry-After": "1"})]
        container.apply(change(f"K{n}"))
        clock.now += 2
    assert rows.health.open_until == 0 and rows.health.paused_until > 0


def test_a_status_the_connector_declares_retryable_keeps_the_vendor_up(
    vendor: Vendor, rows: InMemoryVendorRows, store: InMemoryStateStore, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 409 "locked" is about one record: the vendor answered, so it is up, and the others' changes go on."""
    monkeypatch.setattr(AcmeConnector, "retry_on", frozenset({409}))
    container = Container(vendor, rows, store, clock, threshold=2, cache=0)
    for n in range(5):
        vendor.answers = [httpx.Response(409, json={"error": "locked"})]
        assert isinstance(container.apply(change(f"K{n}")), RetryableError)
        clock.now += 2
    assert rows.health.open_until == 0
    assert applied(container.apply(change("K9")))
