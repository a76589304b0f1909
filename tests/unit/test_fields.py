"""Field-level last-writer-wins: the result is the newest value of every field, whatever the arrival order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from custsync.fields import Fields, leaves
from custsync.model import CustomerChange

START = datetime(2026, 11, 20, 9, tzinfo=UTC)


def change(change_id: str, second: int, **customer: Any) -> CustomerChange:
    return CustomerChange.model_validate(
        {
            "change_id": change_id,
            "source": "test",
            "occurred_at": START + timedelta(seconds=second),
            "customer": {"key": "K1", **customer},
        }
    )


def held(*changes: CustomerChange) -> dict[str, Any]:
    fields = Fields("K1")
    for item in changes:
        fields.apply(item)
    return fields.customer().model_dump(exclude_unset=True)


def test_a_late_older_change_lands_only_the_fields_nothing_newer_set() -> None:
    newer = change("c-7", 7, email="seventh@example.com")
    older = change("c-6", 6, first_name="Sixth", email="sixth@example.com")
    assert held(newer, older) == {"key": "K1", "first_name": "Sixth", "email": "seventh@example.com"}


def test_equal_times_are_broken_by_change_id() -> None:
    a, b = change("id-a", 5, company="A"), change("id-b", 5, company="B")
    assert held(a, b)["company"] == held(b, a)["company"] == "B"


def test_a_change_with_nothing_newer_applies_nothing() -> None:
    fields = Fields("K1")
    fields.apply(change("c-2", 2, company="New"))
    assert fields.apply(change("c-1", 1, company="Old")) == []
    assert fields.apply(change("c-2", 2, company="New")) == [], "the same change again"


def test_a_cleared_object_beats_its_older_children_and_loses_to_newer_ones() -> None:
    older_city = change("c-1", 1, address={"city": "Lund", "line1": "Storgatan 1"})
    cleared = change("c-2", 2, address=None)
    newer_zip = change("c-3", 3, address={"postal_code": "111 51"})
    late_older_line = change("c-0", 0, address={"line2": "c/o Svensson"})
    cleared_but_zip = dict.fromkeys(("line1", "line2", "line3", "city", "region", "country"), None)
    for arrival in ((older_city, newer_zip, late_older_line, cleared), (cleared, late_older_line, newer_zip)):
        assert held(*arrival)["address"] == {**cleared_but_zip, "postal_code": "111 51"}
    assert held(older_city, cleared)["address"] is None


def test_attributes_are_fields_one_key_at_a_time() -> None:
    a = change("c-1", 1, attributes={"tier": "gold", "industry": "Retail"})
    b = change("c-2", 2, attributes={"tier": None})
    assert held(b, a)["attributes"] == {"tier": None, "industry": "Retail"}


def test_leaves_tell_not_sent_from_cleared() -> None:
    customer = change("c", 0, phones={"mobile": None}, attributes=None).customer
    assert leaves(customer) == {"phones.mobile": None, "attributes": None}


VALUES = st.none() | st.sampled_from(["a", "b", "c"])
CUSTOMER_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "first_name": VALUES,
        "company": VALUES,
        "address": st.none() | st.fixed_dictionaries({}, optional={"city": VALUES, "line1": VALUES, "line2": VALUES}),
        "phones": st.none() | st.fixed_dictionaries({}, optional={"main": VALUES}),
        "attributes": st.none() | st.dictionaries(st.sampled_from(["tier", "industry", "rank"]), VALUES, max_size=3),
    },
)
CHANGES = st.lists(
    st.tuples(st.integers(0, 5), st.sampled_from(["x", "y", "z"]), CUSTOMER_FIELDS), min_size=1, max_size=8
).map(lambda items: [change(f"{cid}-{n}", second, **fields) for n, (second, cid, fields) in enumerate(items)])


@given(CHANGES, st.randoms())
def test_any_arrival_order_ends_with_the_same_fields(changes: list[CustomerChange], rng: Any) -> None:
    shuffled = list(changes)
    rng.shuffle(shuffled)
    in_order = sorted(changes, key=lambda c: (c.occurred_at, c.change_id))
    assert held(*shuffled) == held(*in_order)
