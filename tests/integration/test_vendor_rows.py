"""The vendor's shared rows (health: circuit and pause; rate: the request count), the same on the state table
(moto) and in the in-memory store the unit tests and the simulation at scale use."""

from __future__ import annotations

from typing import Any, Protocol

import pytest

from custsync.vendor_health import HealthRow
from custsync.vendor_rows import HEALTH_KEY, RATE_KEY, DynamoVendorRows
from custsync.vendor_rows_memory import InMemoryVendorRows

NOW = 1_800_000_000.0


class Rows(Protocol):
    def read_health(self) -> HealthRow: ...
    def open_circuit(self, until: float) -> None: ...
    def elect_prober(self, owner: str, now: float, lease_until: float) -> bool: ...
    def close_circuit(self, owner: str) -> None: ...
    def pause(self, until: float) -> None: ...
    def take_slots(self, floor: int, wanted: int, last: int, *, behind: bool = False) -> tuple[int, int]: ...


@pytest.fixture(params=["dynamodb", "memory"])
def rows(request: pytest.FixtureRequest) -> Rows:
    if request.param == "memory":
        return InMemoryVendorRows()
    stack = request.getfixturevalue("stack")
    return DynamoVendorRows(stack.physical["SyncStateTable"]["Ref"], "exsalerate")


def test_a_vendor_never_seen_is_healthy(rows: Rows) -> None:
    assert rows.read_health() == HealthRow()


def test_only_one_caller_is_elected_to_probe_once_the_cool_down_is_over(rows: Rows) -> None:
    rows.open_circuit(NOW + 30)
    assert not rows.elect_prober("early", NOW + 10, NOW + 40), "not during the cool-down"
    assert rows.elect_prober("first", NOW + 31, NOW + 61)
    assert not rows.elect_prober("second", NOW + 32, NOW + 62), "the first's lease is live"
    assert rows.read_health() == HealthRow(open_until=NOW + 30, probe_owner="first", probe_until=NOW + 61)
    assert rows.elect_prober("third", NOW + 62, NOW + 92), "a dead prober's lease lapses"


def test_only_the_prober_closes_the_circuit(rows: Rows) -> None:
    rows.open_circuit(NOW + 30)
    rows.elect_prober("first", NOW + 31, NOW + 61)
    rows.close_circuit("somebody else")
    assert rows.read_health().open_until == NOW + 30
    rows.close_circuit("first")
    assert rows.read_health() == HealthRow()


def test_reopening_ends_the_probe(rows: Rows) -> None:
    rows.open_circuit(NOW + 30)
    rows.elect_prober("first", NOW + 31, NOW + 61)
    rows.open_circuit(NOW + 70)
    assert rows.read_health() == HealthRow(open_until=NOW + 70)
    rows.close_circuit("first")
    assert rows.read_health().open_until == NOW + 70, "a reopened circuit is not the old probe's to close"


def test_a_pause_is_only_ever_lengthened(rows: Rows) -> None:
    rows.pause(NOW + 20)
    rows.pause(NOW + 5)
    assert rows.read_health().paused_until == NOW + 20
    rows.pause(NOW + 25)
    assert rows.read_health() == HealthRow(paused_until=NOW + 25)


def test_slots_are_handed_out_in_turn_each_once_and_never_past_the_last_asked_for(rows: Rows) -> None:
    assert rows.take_slots(floor=100, wanted=4, last=200) == (101, 4), "a count never seen starts at the floor"
    assert rows.take_slots(floor=100, wanted=4, last=200) == (105, 4)
    assert rows.take_slots(floor=100, wanted=4, last=110) == (109, 2), "only what is left before the last"
    assert rows.take_slots(floor=100, wanted=1, last=110) == (111, 0), "none: the next would have been 111"
    assert rows.take_slots(floor=500, wanted=3, last=600) == (501, 3), "after a quiet spell, it starts again"
    assert rows.take_slots(floor=900, wanted=2, last=1000, behind=True) == (901, 2), "as the caller expected"
    assert rows.take_slots(floor=900, wanted=2, last=1000, behind=True) == (903, 2), "not behind after all"


def test_the_rows_are_the_vendors_own_and_no_customers(stack: Any) -> None:
    table = stack.physical["SyncStateTable"]["Ref"]
    rows = DynamoVendorRows(table, "centra")
    rows.pause(NOW + 5)
    rows.take_slots(7, 1, 100)
    items = stack_items(stack, table)
    assert {(item["vendor"]["S"], item["customer_key"]["S"]) for item in items} == {
        ("centra", HEALTH_KEY),
        ("centra", RATE_KEY),
    }


def stack_items(stack: Any, table: str) -> list[dict[str, Any]]:
    import boto3

    client = boto3.client("dynamodb", region_name="eu-west-1", endpoint_url=stack.endpoint_url)
    items: list[dict[str, Any]] = client.scan(TableName=table)["Items"]
    return items
