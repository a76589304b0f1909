"""The state table's conditional writes, against moto's DynamoDB."""

from __future__ import annotations

from typing import Any

import pytest
from flow import change

from custsync.model import Customer
from custsync.state import Busy, StateStore, Superseded


@pytest.fixture
def store(stack: Any) -> StateStore:
    return StateStore(stack.physical["SyncStateTable"]["Ref"], "exsalerate")


def customer(key: str = "S1") -> Customer:
    return Customer.model_validate({"key": key, "company": "State AB"})


def test_two_workers_cannot_both_claim_a_customer(store: StateStore) -> None:
    first = change("w-1", "2026-11-20T10:00:00Z", {"key": "S1"})
    second = change("w-2", "2026-11-20T10:00:01Z", {"key": "S1"})
    token = store.claim(first)

    with pytest.raises(Busy):
        store.claim(second)

    store.commit(token, first, customer(), {"PUT api/Customer": "h1"}, {"id": "9"})
    assert store.claim(second)


def test_an_older_change_cannot_claim_after_a_newer_one_committed(store: StateStore) -> None:
    newer = change("n-1", "2026-11-20T10:00:00Z", {"key": "S1"})
    token = store.claim(newer)
    store.commit(token, newer, customer(), {}, {})

    with pytest.raises(Superseded, match="stale"):
        store.claim(change("o-1", "2026-11-20T09:00:00Z", {"key": "S1"}))
    with pytest.raises(Superseded, match="duplicate"):
        store.claim(newer)


def test_a_commit_without_the_lease_is_refused(store: StateStore) -> None:
    first = change("l-1", "2026-11-20T10:00:00Z", {"key": "S1"})
    store.claim(first)
    with pytest.raises(Busy):
        store.commit("not-the-token", first, customer(), {}, {})


def test_a_released_lease_lets_the_retry_claim_at_once(store: StateStore) -> None:
    first = change("r-1", "2026-11-20T10:00:00Z", {"key": "S1"})
    token = store.claim(first)
    store.release(token, "S1")
    assert store.claim(first)


def test_the_committed_row_holds_customer_hashes_and_ids(store: StateStore) -> None:
    first = change("c-1", "2026-11-20T10:00:00Z", {"key": "S1"})
    store.commit(store.claim(first), first, customer(), {"PUT api/Customer": "abc"}, {"id": "42"})
    state = store.load("S1")
    assert state is not None
    assert (state.last_change_id, state.call_hashes, state.ids) == ("c-1", {"PUT api/Customer": "abc"}, {"id": "42"})
    assert state.customer is not None and state.customer.company == "State AB"
    assert state.lease_token is None
