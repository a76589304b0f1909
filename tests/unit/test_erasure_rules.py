"""Deletions and erasures at one vendor, on the in-memory store with a fake vendor: the rules, in milliseconds.

(The same flows end to end, at every real vendor on moto: tests/integration/test_deletion_erasure.py.)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from custsync import routing
from custsync.deletion import Deletions, delete_action
from custsync.engine import EngineSettings, Outcome, SyncEngine
from custsync.erasure import Erasure, Purged
from custsync.errors import ConfigurationError, RetryableError
from custsync.model import CustomerChange
from custsync.state import SyncState
from custsync.state_memory import InMemoryStateStore
from unit.test_engine import SETTINGS, Clock, FakeVendor

START = datetime(2026, 11, 20, 9, tzinfo=UTC)
CUSTOMER = {"key": "K1", "first_name": "Ada", "email": "ada@example.com", "address": {"city": "Stockholm"}}


def at(minutes: int) -> datetime:
    return START + timedelta(minutes=minutes)


def update(change_id: str, minutes: int, **fields: Any) -> CustomerChange:
    return CustomerChange.model_validate(
        {"change_id": change_id, "source": "t", "occurred_at": at(minutes), "customer": {**CUSTOMER, **fields}}
    )


def lifecycle(kind: str, change_id: str, minutes: int) -> CustomerChange:
    return CustomerChange.model_validate(
        {"change_id": change_id, "source": "t", "occurred_at": at(minutes), "kind": kind, "customer": {"key": "K1"}}
    )


class FakeDLQ:
    def __init__(self, *results: Purged) -> None:
        self.results = list(results) or [Purged(0)]
        self.purged: list[str] = []

    def purge(self, customer_key: str) -> Purged:
        self.purged.append(customer_key)
        return self.results.pop(0) if len(self.results) > 1 else self.results[0]


class Vendor:
    def __init__(self, dlq: FakeDLQ | None = None) -> None:
        self.clock = Clock()
        self.store = InMemoryStateStore(self.clock)
        self.connector = FakeVendor(SETTINGS, lambda force: {"base_url": "https://fake.example"})
        self.engine = SyncEngine(self.connector, self.store, EngineSettings(), clock=self.clock)
        self.dlq = dlq or FakeDLQ()
        self.erasure = Erasure("fake", self.store, self.dlq, EngineSettings())  # type: ignore[arg-type]
        self.action = "deactivate"
        self.deletions = Deletions("fake", self.store, lambda: self.action)  # type: ignore[arg-type, return-value]

    def apply(self, change: CustomerChange) -> Outcome:
        if change.kind == "erase":
            return self.erasure.erase(change)
        ready = self.deletions.as_update(change)
        return ready if isinstance(ready, Outcome) else self.engine.apply(ready)

    def row(self) -> SyncState:
        state = self.store.rows["K1"].state
        assert state is not None
        return state


def test_an_erasure_keeps_only_what_ordering_needs() -> None:
    vendor = Vendor(FakeDLQ(Purged(2)))
    vendor.apply(update("c-1", 0))

    outcome = vendor.apply(lifecycle("erase", "e-1", 10))

    assert (outcome.status, outcome.reason) == ("applied", "erased")
    row = vendor.row()
    assert (row.customer, dict(row.call_hashes), dict(row.ids)) == (None, {}, {})
    assert set(row.versions) == {"first_name", "email", "address.city"}
    assert row.applied == ("c-1", "e-1")
    assert row.erased == (int(at(10).timestamp() * 1_000_000), "e-1")
    assert vendor.dlq.purged == ["K1"]
    assert len(vendor.connector.sent) == 1, "no vendor call"


def test_after_an_erasure_older_changes_are_skipped_and_newer_ones_apply_as_to_a_new_customer() -> None:
    vendor = Vendor()
    vendor.apply(update("c-1", 0))
    vendor.apply(lifecycle("erase", "e-1", 10))

    older = vendor.apply(update("c-late", 5, email="late@example.com"))
    newer = vendor.apply(update("c-2", 20, email="new@example.com"))

    assert (older.status, older.reason) == ("skipped", "erased: the change is older than the customer's erasure")
    assert newer.status == "applied"
    assert vendor.connector.sent[-1] == {"key": "K1", "id": None, **{"first_name": "Ada", "email": "new@example.com",
                                                                     "address.city": "Stockholm"}}  # fmt: skip
    assert vendor.row().customer is not None and vendor.row().customer.email == "new@example.com"  # type: ignore[union-attr]


def test_a_redelivered_erasure_is_a_duplicate_and_a_second_one_keeps_the_later_version() -> None:
    vendor = Vendor()
    vendor.apply(lifecycle("erase", "e-2", 20))
    assert vendor.apply(lifecycle("erase", "e-2", 20)).status == "skipped"
    vendor.apply(lifecycle("erase", "e-1", 10))
    assert vendor.row().erased == (int(at(20).timestamp() * 1_000_000), "e-2")


def test_an_erasure_that_could_not_go_through_the_whole_dlq_is_retried_its_row_already_without_values() -> None:
    vendor = Vendor(FakeDLQ(Purged(3, "2 parked message(s) in flight"), Purged(1)))
    vendor.apply(update("c-1", 0))

    with pytest.raises(RetryableError, match=r"deleted 3 parked message.*2 parked message.*in flight") as retry:
        vendor.apply(lifecycle("erase", "e-1", 10))

    assert retry.value.attempts is None, "a wait, not an attempt at the vendor"
    assert vendor.row().customer is None and "e-1" not in vendor.row().applied
    assert vendor.apply(lifecycle("erase", "e-1", 10)).status == "applied"
    assert "e-1" in vendor.row().applied


def test_an_erasure_waits_for_a_customer_another_worker_holds() -> None:
    vendor = Vendor()
    vendor.store.hold("K1", until=vendor.clock.now + 30)
    with pytest.raises(RetryableError, match="busy"):
        vendor.apply(lifecycle("erase", "e-1", 10))
    assert vendor.dlq.purged == []


def test_a_deletion_deactivates_through_an_update_of_the_status_alone_at_its_time() -> None:
    vendor = Vendor()
    vendor.apply(update("c-1", 0))

    outcome = vendor.apply(lifecycle("delete", "d-1", 10))

    assert outcome.status == "applied"
    assert vendor.connector.sent[-1] == {"key": "K1", "id": None, "status": "inactive"}
    assert vendor.row().versions["status"] == (int(at(10).timestamp() * 1_000_000), "d-1")


def test_a_deletion_of_a_customer_never_sent_or_erased_or_at_a_vendor_that_ignores_them_calls_nothing() -> None:
    vendor = Vendor()
    never = vendor.apply(lifecycle("delete", "d-0", 1))
    vendor.apply(update("c-1", 2))
    vendor.apply(lifecycle("erase", "e-1", 3))
    erased = vendor.apply(lifecycle("delete", "d-1", 4))
    vendor.apply(update("c-2", 5))
    vendor.action = "ignore"
    ignored = vendor.apply(lifecycle("delete", "d-2", 6))

    assert [o.status for o in (never, erased, ignored)] == ["skipped"] * 3
    assert "holds nothing" in str(never.reason) and "holds nothing" in str(erased.reason)
    assert "ignores deletions" in str(ignored.reason)
    assert [call.get("status") for call in vendor.connector.sent] == [None, None]


def test_deactivate_is_refused_for_a_vendor_without_a_status_field() -> None:
    routes = routing.parse("sources: {}\nvendors:\n  acme: {on_delete: deactivate}\n", "routing.yaml")
    with pytest.raises(ConfigurationError, match=r"vendors\.acme\.on_delete: deactivate, but acme has no status"):
        delete_action(routes, "acme", None)
    assert delete_action(routes, "other", None) == "ignore"
    assert delete_action(routes, "other", "status") == "deactivate"


def test_an_on_delete_that_is_no_action_names_its_line() -> None:
    with pytest.raises(ConfigurationError, match=r"routing.yaml:3: vendors\.acme\.on_delete: Input should be"):
        routing.parse("sources: {}\nvendors:\n  acme: {on_delete: remove}\n", "routing.yaml")
