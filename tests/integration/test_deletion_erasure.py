"""Deletions and erasures end to end in-process, at every vendor: its handler as at cold start, its simulator, its
queue, DLQ and state row (moto).

A deletion deactivates the customer through the vendor's own update call (or, as the routing says, leaves it
alone); an erasure leaves the vendor alone and the vendor function with nothing of the customer's: no value in its
state row, none of its messages in its DLQ, one log line with the key.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from custsync import routing
from custsync.model import CustomerChange
from flow import ALL_VENDORS, VendorFlow, change

VENDORS = [pytest.param(name, marks=pytest.mark.vendor(name), id=name) for name in ALL_VENDORS]
KEY = "shopify-7001"
CUSTOMER: dict[str, Any] = {
    "key": KEY,
    "first_name": "Ada",
    "last_name": "Lovelace",
    "company": "Acme AB",
    "email": "ada@example.com",
    "phones": {"main": "+46701234567"},
    "address": {"line1": "Drottninggatan 1", "city": "Stockholm", "region": "SE-AB", "postal_code": "111 51",
                "country": "SE"},
    "notes": "Prefers email",
}  # fmt: skip
PERSONAL = ("Ada", "Lovelace", "Acme", "ada@example.com", "+46701234567", "Drottninggatan", "Stockholm", "111 51",
            "Prefers", "ALOVELACE")  # fmt: skip
# Everlytic addresses its customers by its own id only.
VENDOR_IDS = {"everlytic": "9001"}


def known(vendor: VendorFlow) -> None:
    """The simulator knows the customer's vendor-side id where the vendor needs one."""
    if vendor.name == "everlytic":
        vendor.simulator.seed_customer(9001, name="Acme AB")


def update(change_id: str, at: str, **fields: Any) -> CustomerChange:
    return change(change_id, at, {**CUSTOMER, **fields}, vendor_ids=VENDOR_IDS)


def lifecycle(kind: str, change_id: str, at: str, key: str = KEY) -> CustomerChange:
    return change(change_id, at, {"key": key}, kind=kind)


def state_item(vendor: VendorFlow, key: str = KEY) -> dict[str, Any]:
    """The vendor's state row for the customer, as DynamoDB holds it."""
    table = vendor.stack.physical["SyncStateTable"]["Ref"]
    item = boto3.client("dynamodb").get_item(
        TableName=table, Key={"vendor": {"S": vendor.name}, "customer_key": {"S": key}}, ConsistentRead=True
    )["Item"]
    return {name: next(iter(value.values())) for name, value in item.items()}


def status_held(vendor: VendorFlow) -> Any:
    """The status field of the vendor's one record, as the simulator keeps it."""
    record = vendor.only_record()
    field = vendor.handler.runtime.connector_class.status_field
    return record.get(field, record.get(field[:1].lower() + field[1:]))


# -- deletion -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", VENDORS)
def test_a_deletion_deactivates_the_customer_through_the_vendors_update_call(vendor: VendorFlow, name: str) -> None:
    known(vendor)
    vendor.queue(update("c-1", "2026-11-20T10:00:00Z"))
    vendor.pump()
    calls = len(vendor.simulator.calls)

    vendor.queue(lifecycle("delete", "d-1", "2026-11-21T10:00:00Z"))
    delivery = vendor.pump()

    assert (delivery.delivered, delivery.failed) == (1, 0)
    assert len(vendor.simulator.calls) > calls
    assert status_held(vendor) == vendor.simulator.status_values["inactive"]
    assert vendor.dlq() == []


@pytest.mark.parametrize("name", VENDORS)
def test_a_deletion_of_a_customer_the_vendor_never_got_calls_nothing(vendor: VendorFlow, name: str) -> None:
    vendor.queue(lifecycle("delete", "d-1", "2026-11-21T10:00:00Z"))
    delivery = vendor.pump()

    assert (delivery.delivered, delivery.failed) == (1, 0)
    assert (vendor.simulator.calls, vendor.dlq()) == ([], [])


@pytest.mark.vendor("exigo")
def test_on_delete_ignore_leaves_the_vendor_as_it_is(
    vendor: VendorFlow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = routing.SHIPPED.read_text()
    (tmp_path / "routing.yaml").write_text(shipped.replace("  exigo:\n", "  exigo:\n    on_delete: ignore\n"))
    monkeypatch.setattr(routing, "SHIPPED", tmp_path / "routing.yaml")
    routing.forget()
    vendor.cold_start()
    vendor.queue(update("c-1", "2026-11-20T10:00:00Z"), lifecycle("delete", "d-1", "2026-11-21T10:00:00Z"))

    vendor.pump()

    assert len(vendor.simulator.calls) == 1, "the update, and nothing for the deletion"
    assert vendor.only_record()["CustomerKey"] == KEY
    assert "CustomerStatus" not in vendor.only_record()


# -- erasure --------------------------------------------------------------------------------------------------
def parked(vendor: VendorFlow) -> list[str]:
    """The customer keys of the messages parked in the vendor's DLQ, looked at and left visible."""
    messages = vendor.stack.sqs.receive_message(
        QueueUrl=vendor.stack.dlq_of(vendor.function), MaxNumberOfMessages=10, VisibilityTimeout=0
    ).get("Messages", [])
    return sorted(json.loads(message["Body"])["customer"]["key"] for message in messages)


def park_one_of(vendor: VendorFlow, key: str, change_id: str) -> None:
    """A message of the customer's parked in the vendor's DLQ: one that can never be applied (not a valid change),
    holding the customer's personal values."""
    vendor.send_raw(
        {
            "change_id": change_id,
            "source": "test",
            "occurred_at": "2026-11-20T11:00:00Z",
            "customer": {**CUSTOMER, "key": key, "email": "not an email, Ada Lovelace"},
        }
    )
    vendor.pump()


@pytest.mark.parametrize("name", VENDORS)
def test_an_erasure_leaves_no_personal_value_in_the_state_row_nor_in_the_dlq(
    vendor: VendorFlow, name: str, captured_logs: io.StringIO
) -> None:
    known(vendor)
    vendor.queue(update("c-1", "2026-11-20T10:00:00Z"))
    vendor.pump()
    park_one_of(vendor, KEY, "bad-1")
    park_one_of(vendor, "another-customer", "bad-2")
    assert parked(vendor) == ["another-customer", KEY]
    calls = len(vendor.simulator.calls)

    vendor.queue(lifecycle("erase", "e-1", "2026-11-22T10:00:00Z"))
    delivery = vendor.pump()

    assert (delivery.delivered, delivery.failed) == (1, 0)
    assert len(vendor.simulator.calls) == calls, "an erasure is never a vendor call"
    row = state_item(vendor)
    assert (row["customer"], row["ids"], row["call_hashes"]) == ("", "{}", "{}")
    assert set(json.loads(row["versions"])) >= {"first_name", "email", "address.line1"}, "ordering keeps its versions"
    assert "e-1" in json.loads(row["applied"])
    assert json.loads(row["erased"])[1] == "e-1"
    assert not [value for value in PERSONAL if value in json.dumps(row)]
    assert parked(vendor) == ["another-customer"]
    erased = [json.loads(line) for line in captured_logs.getvalue().splitlines() if '"customer erased"' in line]
    assert [(e["customer_key"], e["parked_messages_deleted"]) for e in erased] == [(KEY, 1)]
    assert not [value for value in PERSONAL if value in json.dumps(erased)]


@pytest.mark.parametrize("name", VENDORS)
def test_after_an_erasure_an_older_change_is_skipped_and_a_newer_one_applies(vendor: VendorFlow, name: str) -> None:
    known(vendor)
    vendor.queue(update("c-1", "2026-11-20T10:00:00Z"), lifecycle("erase", "e-1", "2026-11-22T10:00:00Z"))
    vendor.pump()
    calls = len(vendor.simulator.calls)

    vendor.queue(update("late-1", "2026-11-21T10:00:00Z", email="late@example.com"))  # redelivered late: older
    vendor.pump()
    assert len(vendor.simulator.calls) == calls, "an older change never brings erased values back"
    assert "late@example.com" not in json.dumps(state_item(vendor))

    vendor.queue(update("new-1", "2026-11-23T10:00:00Z", email="new@example.com"))
    vendor.pump()
    assert len(vendor.simulator.calls) > calls
    assert "new@example.com" in json.dumps(vendor.simulator.records)
    assert json.loads(state_item(vendor)["customer"])["email"] == "new@example.com"


@pytest.mark.vendor("exsalerate")
def test_an_erasure_of_a_customer_never_seen_here_still_bars_its_older_changes(vendor: VendorFlow) -> None:
    """A change still in the queue (or retried) when the erasure came must not bring the customer's data here."""
    vendor.queue(lifecycle("erase", "e-1", "2026-11-22T10:00:00Z"), update("old-1", "2026-11-21T10:00:00Z"))

    delivery = vendor.pump()

    assert (delivery.delivered, delivery.failed) == (2, 0)
    assert vendor.simulator.calls == []
    assert state_item(vendor)["customer"] == ""
