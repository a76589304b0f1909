"""The engine's rules, each on the in-memory store with a fake vendor and a fake clock: milliseconds each."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from custsync.config import VendorSettings
from custsync.connector import Connector, SendResult, SyncContext, VendorCall, VendorRequest
from custsync.engine import EngineSettings, Outcome, SyncEngine
from custsync.errors import AuthError, PermanentError, RetryableError, SyncError, ValidationFailed
from custsync.fields import leaves
from custsync.model import Customer, CustomerChange
from custsync.secret_schema import VendorSecret
from custsync.state_memory import InMemoryStateStore
from custsync.vendor_guard import VendorGuard
from custsync.vendor_health import VendorHealth
from custsync.vendor_rows_memory import InMemoryVendorRows

START = datetime(2026, 11, 20, 9, tzinfo=UTC)
SETTINGS = VendorSettings(vendor="fake", state_table="t", vendor_secret_name="s", dlq_url="q")


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class FakeSecret(VendorSecret):
    assign_id: str | None = None


class FakeVendor(Connector[FakeSecret]):
    """PATCH-like: sends the fields that differ from the previous customer (all of them without one)."""

    name = "fake"
    secret_model = FakeSecret

    def configure(self, secret: FakeSecret) -> None:
        self.sent: list[dict[str, Any]] = getattr(self, "sent", [])
        self.failures: list[SyncError] = getattr(self, "failures", [])
        self.refreshed = getattr(self, "refreshed", -1) + 1
        self.assigned_id = secret.assign_id
        self.batch_failure: SyncError | None = getattr(self, "batch_failure", None)

    def to_request(self, customer: Customer, context: SyncContext) -> VendorRequest:
        now = leaves(customer)
        before = leaves(context.previous) if context.previous else {}
        changed = {k: v for k, v in now.items() if before.get(k, object()) != v}
        if changed.get("company") == "INVALID":
            raise ValidationFailed("company", "is invalid", vendor=self.name)
        payload = {"key": customer.key, "id": context.ids.get("id"), **changed}
        return VendorRequest((VendorCall("update", payload),) if changed else ())

    def send(self, request: VendorRequest, context: SyncContext) -> SendResult:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.extend(dict(call.payload) for call in request.calls)
        return SendResult(response={"ok": True}, ids={"id": self.assigned_id} if self.assigned_id else {})

    def send_many(self, batch: Sequence[tuple[VendorRequest, SyncContext]]) -> list[SendResult | SyncError]:
        self.batch_calls = getattr(self, "batch_calls", 0) + 1
        if self.batch_failure is not None:
            raise self.batch_failure
        return super().send_many(batch)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock) -> InMemoryStateStore:
    return InMemoryStateStore(clock)


@pytest.fixture
def vendor() -> FakeVendor:
    return FakeVendor(SETTINGS, lambda force: {"base_url": "https://fake.example"})


@pytest.fixture
def engine(vendor: FakeVendor, store: InMemoryStateStore, clock: Clock) -> SyncEngine:
    return SyncEngine(
        vendor, store, EngineSettings(lease_seconds=60, settle_seconds=30, busy_retry_seconds=5), None, clock
    )


def change(change_id: str, second: int, key: str = "K1", **customer: Any) -> CustomerChange:
    return CustomerChange.model_validate(
        {
            "change_id": change_id,
            "source": "test",
            "occurred_at": START + timedelta(seconds=second),
            "customer": {"key": key, **customer},
        }
    )


def outcome(engine: SyncEngine, item: CustomerChange) -> Outcome | SyncError:
    try:
        return engine.apply(item)
    except SyncError as exc:
        return exc


def guarded(clock: Clock, rows: InMemoryVendorRows | None = None) -> VendorGuard:
    """The vendor's shared breaker (threshold 2, cool-down 30 s) on ``rows``, read afresh at every call."""
    health = VendorHealth(
        rows or InMemoryVendorRows(), "fake", threshold=2, cooldown_seconds=30, cache_seconds=0, clock=clock
    )
    return VendorGuard("fake", health, None, rate_wait_seconds=0, call_timeout_seconds=10)


def timeout() -> RetryableError:
    return RetryableError("fake did not answer", vendor="fake", outcome_unknown=True)


def test_an_older_change_with_nothing_newer_is_skipped_as_stale(engine: SyncEngine, vendor: FakeVendor) -> None:
    engine.apply(change("c-2", 2, company="New"))
    result = engine.apply(change("c-1", 1, company="Old"))
    assert (result.status, result.reason) == ("skipped", "stale: every field it carries is older than what is held")
    assert len(vendor.sent) == 1


def test_any_earlier_change_redelivered_is_a_duplicate_not_only_the_last(engine: SyncEngine) -> None:
    engine.apply(change("c-1", 1, company="A"))
    engine.apply(change("c-2", 2, first_name="B"))
    result = engine.apply(change("c-1", 1, company="A"))
    assert (result.status, result.reason) == ("skipped", "duplicate: change c-1 was already applied")


def test_a_late_older_partial_change_sends_only_its_fields_nothing_newer_holds(
    engine: SyncEngine, vendor: FakeVendor
) -> None:
    engine.apply(change("c-7", 7, email="seventh@example.com"))
    engine.apply(change("c-6", 6, first_name="Sixth", email="sixth@example.com"))
    assert vendor.sent[-1] == {"key": "K1", "id": None, "first_name": "Sixth"}


def test_equal_times_are_ordered_by_change_id(engine: SyncEngine, vendor: FakeVendor) -> None:
    engine.apply(change("id-z", 5, company="Z"))
    assert engine.apply(change("id-a", 5, company="A")).status == "skipped"
    assert vendor.sent[-1]["company"] == "Z"


def test_a_change_the_vendor_already_holds_is_a_no_op_without_a_call(engine: SyncEngine, vendor: FakeVendor) -> None:
    engine.apply(change("c-1", 1, company="Same"))
    result = engine.apply(change("c-2", 2, company="Same"))
    assert (result.status, result.reason) == ("skipped", "no-op: the vendor already has exactly this")
    assert len(vendor.sent) == 1


def test_a_partial_change_is_merged_onto_the_last_known_customer(engine: SyncEngine, store: InMemoryStateStore) -> None:
    engine.apply(change("c-1", 1, company="Acme", first_name="Ada"))
    engine.apply(change("c-2", 2, first_name="Grace"))
    state = store.load("K1")
    assert state is not None and state.customer is not None
    assert (state.customer.company, state.customer.first_name) == ("Acme", "Grace")


def test_vendor_ids_are_learned_and_remembered(vendor: FakeVendor, store: InMemoryStateStore, clock: Clock) -> None:
    vendor.assigned_id = "V-9"
    engine = SyncEngine(vendor, store, EngineSettings(), None, clock)
    engine.apply(change("c-1", 1, company="Acme"))
    vendor.assigned_id = None
    engine.apply(change("c-2", 2, company="Acme 2"))
    assert vendor.sent[-1]["id"] == "V-9"


def test_a_lease_held_by_another_worker_is_a_retry_not_an_attempt(
    engine: SyncEngine, store: InMemoryStateStore, clock: Clock
) -> None:
    store.hold("K1", until=clock.now + 60)
    result = outcome(engine, change("c-1", 1, company="A"))
    assert isinstance(result, RetryableError)
    assert result.attempts is None
    assert result.retry_after == 5
    assert result.reason.startswith("busy:")


def test_a_stale_change_meeting_a_busy_lease_is_skipped_without_waiting(
    engine: SyncEngine, store: InMemoryStateStore, clock: Clock
) -> None:
    engine.apply(change("c-2", 2, company="New"))
    store.hold("K1", until=clock.now + 60)
    assert outcome(engine, change("c-1", 1, company="Old")) == Outcome(
        "skipped", "c-1", "K1", reason="stale: every field it carries is older than what is held"
    )


def test_several_changes_of_a_customer_in_a_batch_go_out_as_one_merged_send(
    engine: SyncEngine, vendor: FakeVendor
) -> None:
    results = engine.apply_batch(
        [
            change("c-3", 3, company="Third"),
            change("c-1", 1, company="First", first_name="Ada"),
            change("c-2", 2, email="ada@example.com"),
            change("o-1", 1, key="K2", company="Other"),
        ]
    )
    assert [r.status for r in results.values() if isinstance(r, Outcome)] == ["applied"] * 4
    assert vendor.batch_calls == 1
    assert {"key": "K1", "id": None, "company": "Third", "first_name": "Ada", "email": "ada@example.com"} in vendor.sent


def test_a_change_that_cannot_be_mapped_is_refused_alone_and_its_batch_mates_held_back(
    engine: SyncEngine, vendor: FakeVendor
) -> None:
    results = engine.apply_batch([change("a-1", 1, first_name="Ada"), change("a-2", 2, company="INVALID")])
    held = results["a-2"]
    assert isinstance(held, RetryableError) and held.attempts is None, "held back: the newest goes first"
    assert isinstance(results["a-1"], Outcome) and results["a-1"].status == "applied"
    assert isinstance(outcome(engine, change("a-2", 2, company="INVALID")), ValidationFailed), "refused alone"

    results = engine.apply_batch([change("b-1", 3, company="INVALID"), change("b-2", 4, first_name="Grace")])
    assert isinstance(results["b-1"], ValidationFailed)
    assert isinstance(results["b-2"], RetryableError) and results["b-2"].attempts is None
    assert engine.apply(change("b-2", 4, first_name="Grace")).status == "applied"


def test_attempts_are_counted_per_change_and_dropped_when_it_passes(
    engine: SyncEngine, vendor: FakeVendor, store: InMemoryStateStore
) -> None:
    vendor.failures = [RetryableError("503", vendor="fake"), RetryableError("503", vendor="fake")]
    first, second = outcome(engine, change("c-1", 1, company="A")), outcome(engine, change("c-1", 1, company="A"))
    assert isinstance(first, RetryableError) and isinstance(second, RetryableError)
    assert (first.attempts, second.attempts) == (1, 2)
    assert engine.apply(change("c-1", 1, company="A")).status == "applied"
    state = store.load("K1")
    assert state is not None and state.attempts == {}


def test_a_permanent_failure_is_refused_and_leaves_no_attempts(
    engine: SyncEngine, vendor: FakeVendor, store: InMemoryStateStore
) -> None:
    vendor.failures = [PermanentError("400", vendor="fake", status=400)]
    assert isinstance(outcome(engine, change("c-1", 1, company="A")), PermanentError)
    state = store.load("K1")
    assert state is not None and state.attempts == {} and state.customer is None


def test_refused_credentials_are_refreshed_once(engine: SyncEngine, vendor: FakeVendor) -> None:
    vendor.failures = [AuthError("401", vendor="fake", status=401)]
    assert engine.apply(change("c-1", 1, company="A")).status == "applied"
    assert vendor.refreshed == 1


def test_a_timeout_makes_the_customer_wait_to_settle_then_sends_everything(
    engine: SyncEngine, vendor: FakeVendor, clock: Clock
) -> None:
    engine.apply(change("c-1", 1, company="Acme", first_name="Ada"))
    vendor.failures = [timeout()]
    timed_out = outcome(engine, change("c-2", 2, first_name="Grace"))
    assert isinstance(timed_out, RetryableError)
    assert (timed_out.attempts, timed_out.retry_after, timed_out.outcome_unknown) == (1, 30, True)

    clock.now += 10
    waiting = outcome(engine, change("c-3", 3, email="g@example.com"))
    assert isinstance(waiting, RetryableError)
    assert waiting.attempts is None and waiting.retry_after == pytest.approx(20)

    clock.now += 21
    assert engine.apply(change("c-2", 2, first_name="Grace")).status == "applied"
    assert vendor.sent[-1] == {"key": "K1", "id": None, "company": "Acme", "first_name": "Grace"}, "the whole record"
    engine.apply(change("c-3", 3, email="g@example.com"))
    assert vendor.sent[-1] == {"key": "K1", "id": None, "email": "g@example.com"}, "certain again: only the change"


def test_while_uncertain_an_unchanged_record_is_still_sent(
    engine: SyncEngine, vendor: FakeVendor, clock: Clock
) -> None:
    engine.apply(change("c-1", 1, company="Acme"))
    vendor.failures = [timeout()]
    outcome(engine, change("c-2", 2, company="Acme Two"))
    clock.now += 31
    engine.apply(change("c-3", 3, company="Acme"))  # the value held before the call of unknown outcome
    assert vendor.sent[-1] == {"key": "K1", "id": None, "company": "Acme"}, "not skipped as a no-op"


def test_a_full_send_that_maps_to_no_call_is_a_no_op_too(
    engine: SyncEngine, vendor: FakeVendor, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connector whose ``to_request`` has nothing to send for the customer is never asked to send nothing."""
    vendor.failures = [timeout()]
    outcome(engine, change("c-1", 1, company="Acme"))
    clock.now += 31
    monkeypatch.setattr(vendor, "to_request", lambda customer, context: VendorRequest(()))
    monkeypatch.setattr(vendor, "send", lambda request, context: pytest.fail("asked to send no call"))
    result = engine.apply(change("c-2", 2, company="Acme Two"))
    assert (result.status, result.reason) == ("skipped", "no-op: the vendor already has exactly this")


def test_a_dead_workers_expired_lease_makes_the_customer_uncertain(
    engine: SyncEngine, vendor: FakeVendor, store: InMemoryStateStore, clock: Clock
) -> None:
    engine.apply(change("c-1", 1, company="Acme", first_name="Ada"))
    store.hold("K1", until=clock.now + 60)  # a worker took the lease and was killed mid-call
    clock.now += 61
    waiting = outcome(engine, change("c-2", 2, first_name="Grace"))
    assert isinstance(waiting, RetryableError) and waiting.retry_after == pytest.approx(29)
    clock.now += 30
    engine.apply(change("c-2", 2, first_name="Grace"))
    assert vendor.sent[-1] == {"key": "K1", "id": None, "company": "Acme", "first_name": "Grace"}


def test_after_consecutive_failures_the_circuit_opens_and_records_fail_fast(
    vendor: FakeVendor, store: InMemoryStateStore, clock: Clock
) -> None:
    engine = SyncEngine(vendor, store, EngineSettings(), guarded(clock), clock)
    vendor.failures = [RetryableError("503", vendor="fake")] * 2
    outcome(engine, change("a-1", 1, key="A", company="A"))
    outcome(engine, change("b-1", 1, key="B", company="B"))
    fast = outcome(engine, change("c-1", 1, key="C", company="C"))
    assert isinstance(fast, RetryableError)
    assert fast.attempts is None and fast.retry_after == 30
    assert "circuit open" in fast.reason
    clock.now += 31
    assert engine.apply(change("c-1", 1, key="C", company="C")).status == "applied"


def test_a_change_carrying_no_field_is_skipped(engine: SyncEngine, vendor: FakeVendor) -> None:
    result = engine.apply(change("c-1", 1))
    assert (result.status, result.reason) == ("skipped", "empty: the change carries no field but the key")
    assert vendor.sent == []


def test_the_dry_run_plan_writes_nothing(engine: SyncEngine, store: InMemoryStateStore) -> None:
    plan = engine.plan(change("c-1", 1, company="A"))
    assert not isinstance(plan, Outcome)
    assert plan.pending.as_dict() == {
        "calls": [{"operation": "update", "payload": {"key": "K1", "id": None, "company": "A"}}]
    }
    assert store.rows == {}


def test_a_failed_batch_call_counts_once_toward_the_circuit_however_many_customers_it_carried(
    vendor: FakeVendor, store: InMemoryStateStore, clock: Clock
) -> None:
    rows = InMemoryVendorRows()
    engine = SyncEngine(vendor, store, EngineSettings(), guarded(clock, rows), clock)
    vendor.batch_failure = RetryableError("SOAP fault Server", vendor="fake")
    engine.apply_batch([change(f"c-{n}", 1, key=f"K{n}", company="A") for n in range(5)])
    assert rows.health.open_until == 0, "one call failed, not five"
    engine.apply_batch([change(f"d-{n}", 2, key=f"K{n}", company="B") for n in range(5)])
    assert rows.health.open_until == clock.now + 30
