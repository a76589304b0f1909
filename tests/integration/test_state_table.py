"""The state store's contract, the same for the DynamoDB table (on moto) and the in-memory store the unit
tests use: leases, conditional writes, the row returned with the claim, a dead holder's lease."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from custsync.model import Customer
from custsync.state import Busy, DynamoStateStore, LeaseLost, StateStore, SyncState
from custsync.state_memory import InMemoryStateStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["dynamodb", "memory"])
def store(request: pytest.FixtureRequest, clock: Clock) -> StateStore:
    if request.param == "memory":
        return InMemoryStateStore(clock)
    stack = request.getfixturevalue("stack")
    return DynamoStateStore(stack.physical["SyncStateTable"]["Ref"], "exsalerate", clock=clock)


def state(**fields: Any) -> SyncState:
    customer = Customer.model_validate({"key": "S1", "company": "State AB"})
    return SyncState("S1", customer=customer, versions={"company": (1, "c-1")}, **fields)


def test_two_workers_cannot_both_claim_a_customer(store: StateStore) -> None:
    first = store.claim("S1", lease_seconds=60)
    with pytest.raises(Busy) as busy:
        store.claim("S1", lease_seconds=60)
    assert busy.value.state is None
    store.commit(first, state())
    assert store.claim("S1", lease_seconds=60).state == state()


def test_busy_carries_the_row_as_it_is_and_when_the_lease_ends(store: StateStore, clock: Clock) -> None:
    store.commit(store.claim("S1", lease_seconds=60), state(applied=("c-1",)))
    store.claim("S1", lease_seconds=60)
    with pytest.raises(Busy) as busy:
        store.claim("S1", lease_seconds=60)
    assert busy.value.state == state(applied=("c-1",))
    assert busy.value.lease_until == clock.now + 60


def test_the_claim_returns_the_row_and_the_commit_writes_all_of_it(store: StateStore) -> None:
    written = state(
        applied=("c-1",),
        attempts={"c-2": 1},
        call_hashes={"PUT api/Customer": "abc"},
        ids={"id": "42"},
        uncertain=True,
        settle_until=1_800_000_100.5,
    )
    store.commit(store.claim("S1", lease_seconds=60), written)
    claim = store.claim("S1", lease_seconds=60)
    assert claim.state == written
    assert claim.expired_lease_until is None
    assert store.load("S1") == written


def test_a_commit_after_the_lease_was_lost_is_refused(store: StateStore, clock: Clock) -> None:
    mine = store.claim("S1", lease_seconds=10)
    clock.now += 11
    store.claim("S1", lease_seconds=10)  # another worker takes the expired lease
    with pytest.raises(LeaseLost):
        store.commit(mine, state())


def test_a_released_lease_lets_the_next_claim_at_once_and_may_write(store: StateStore) -> None:
    store.release(store.claim("S1", lease_seconds=60))
    claim = store.claim("S1", lease_seconds=60)
    store.release(claim, state(attempts={"c-9": 2}))
    assert store.claim("S1", lease_seconds=60).state == state(attempts={"c-9": 2})


def test_a_lease_its_holder_never_gave_back_is_taken_and_said_so(store: StateStore, clock: Clock) -> None:
    store.commit(store.claim("S1", lease_seconds=60), state())
    store.claim("S1", lease_seconds=10)  # its holder dies here, mid-call perhaps
    clock.now += 11
    claim = store.claim("S1", lease_seconds=10)
    assert claim.expired_lease_until == clock.now - 1
    assert claim.state == state()


def test_a_row_written_before_field_versions_reads_with_every_field_as_old_as_its_last_change(stack: Any) -> None:
    table = stack.physical["SyncStateTable"]["Ref"]
    customer = json.dumps({"key": "S1", "company": "Old AB", "address": {"city": "Lund"}})
    boto3.client("dynamodb").put_item(
        TableName=table,
        Item={
            "vendor": {"S": "exsalerate"},
            "customer_key": {"S": "S1"},
            "last_occurred_us": {"N": "1000"},
            "last_change_id": {"S": "old-1"},
            "customer": {"S": customer},
            "call_hashes": {"M": {"PUT api/Customer": {"S": "h"}}},
            "ids": {"M": {"id": {"S": "7"}}},
        },
    )
    loaded = DynamoStateStore(table, "exsalerate").load("S1")
    assert loaded is not None
    assert loaded.versions == {"company": (1000, "old-1"), "address.city": (1000, "old-1")}
    assert (loaded.call_hashes, loaded.ids) == ({"PUT api/Customer": "h"}, {"id": "7"})
