"""The sync state table: per (vendor, customer key) what was last applied.

Each row holds the last applied change (``occurred_at`` in microseconds and its
id), a fingerprint per vendor call that was sent, the last known full customer
and the vendor-side ids. Writes are conditional: a change claims the row with a
short lease before it calls the vendor and commits under that lease, so two
workers can never both apply, and an older change can never land after a newer one.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from custsync.model import Customer, CustomerChange

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

LEASE_SECONDS = 120


class Superseded(Exception):
    """The change is not newer than what was applied: skip it."""


class Busy(Exception):
    """Another worker holds the lease on this customer right now."""


def occurred_us(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


@dataclass
class SyncState:
    vendor: str
    customer_key: str
    last_occurred_us: int | None = None
    last_change_id: str | None = None
    call_hashes: dict[str, str] = field(default_factory=dict)
    customer: Customer | None = None
    ids: dict[str, str] = field(default_factory=dict)
    lease_token: str | None = None
    lease_expires: int | None = None

    def skip_reason(self, change: CustomerChange) -> str | None:
        """Why this change must not be applied, or None if it is newer than what was applied."""
        if self.last_occurred_us is None:
            return None
        incoming = occurred_us(change.occurred_at)
        if change.change_id == self.last_change_id:
            return f"duplicate: change {change.change_id} was already applied"
        if incoming < self.last_occurred_us:
            return "stale: a newer change to this customer was already applied"
        return None

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> SyncState:
        customer_json = item.get("customer")
        return cls(
            vendor=str(item["vendor"]),
            customer_key=str(item["customer_key"]),
            last_occurred_us=_int_or_none(item.get("last_occurred_us")),
            last_change_id=item.get("last_change_id"),
            call_hashes=dict(item.get("call_hashes") or {}),
            customer=Customer.model_validate_json(customer_json) if customer_json else None,
            ids={str(k): str(v) for k, v in (item.get("ids") or {}).items()},
            lease_token=item.get("lease_token"),
            lease_expires=_int_or_none(item.get("lease_expires")),
        )


def _int_or_none(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, Decimal)) else None


# A change may be written when the row has never applied anything, or what it applied is
# older (or as old but another change), and no live lease is held by someone else.
_NEWER = (
    "(attribute_not_exists(last_occurred_us) OR last_occurred_us < :occurred"
    " OR (last_occurred_us = :occurred AND last_change_id <> :change_id))"
)
_UNLEASED = "(attribute_not_exists(lease_expires) OR lease_expires < :now)"


class StateStore:
    """The state table behind a small interface, for one vendor."""

    def __init__(self, table_name: str, vendor: str, table: Table | None = None) -> None:
        self.vendor = vendor
        self._table: Table = table or boto3.resource("dynamodb").Table(table_name)

    def load(self, customer_key: str) -> SyncState | None:
        response = self._table.get_item(Key=self._key(customer_key), ConsistentRead=True)
        item = response.get("Item")
        return SyncState.from_item(item) if item else None

    def claim(self, change: CustomerChange) -> str:
        """Take the lease for applying ``change``; raise ``Superseded`` or ``Busy``."""
        token = uuid.uuid4().hex
        now = int(time.time())
        try:
            self._table.update_item(
                Key=self._key(change.customer.key),
                UpdateExpression="SET lease_token = :token, lease_expires = :expires",
                ConditionExpression=f"{_NEWER} AND {_UNLEASED}",
                ExpressionAttributeValues={
                    ":token": token,
                    ":expires": now + LEASE_SECONDS,
                    ":now": now,
                    **self._change_values(change),
                },
            )
        except ClientError as exc:
            self._raise_why_refused(exc, change)
        return token

    def commit(
        self,
        token: str,
        change: CustomerChange,
        customer: Customer,
        call_hashes: dict[str, str],
        ids: dict[str, str],
    ) -> None:
        """Record ``change`` as applied; only the holder of ``token`` may.

        ``call_hashes`` holds the fingerprint of the last payload sent for every operation.
        """
        update = (
            "SET last_occurred_us = :occurred, last_change_id = :change_id, customer = :customer,"
            " call_hashes = :hashes, ids = :ids, updated_at = :updated REMOVE lease_token, lease_expires"
        )
        try:
            self._table.update_item(
                Key=self._key(change.customer.key),
                UpdateExpression=update,
                ConditionExpression="lease_token = :token",
                ExpressionAttributeValues={
                    ":token": token,
                    ":customer": customer.model_dump_json(exclude_unset=True),
                    ":hashes": call_hashes,
                    ":ids": ids,
                    ":updated": int(time.time()),
                    **self._change_values(change),
                },
            )
        except ClientError as exc:
            if _condition_failed(exc):
                raise Busy("the lease on this customer expired before the change was recorded") from exc
            raise

    def release(self, token: str, customer_key: str) -> None:
        """Give the lease back after a failed call, so a retry need not wait for it to expire."""
        try:
            self._table.update_item(
                Key=self._key(customer_key),
                UpdateExpression="REMOVE lease_token, lease_expires",
                ConditionExpression="lease_token = :token",
                ExpressionAttributeValues={":token": token},
            )
        except ClientError as exc:
            if not _condition_failed(exc):
                raise

    def record_unchanged(self, change: CustomerChange, customer: Customer, ids: dict[str, str]) -> None:
        """Advance the row to ``change`` without a vendor call (nothing to send)."""
        try:
            self._table.update_item(
                Key=self._key(change.customer.key),
                UpdateExpression=(
                    "SET last_occurred_us = :occurred, last_change_id = :change_id, customer = :customer,"
                    " ids = :ids, updated_at = :now"
                ),
                ConditionExpression=f"{_NEWER} AND {_UNLEASED}",
                ExpressionAttributeValues={
                    ":customer": customer.model_dump_json(exclude_unset=True),
                    ":ids": ids,
                    ":now": int(time.time()),
                    **self._change_values(change),
                },
            )
        except ClientError as exc:
            self._raise_why_refused(exc, change)

    def _raise_why_refused(self, exc: ClientError, change: CustomerChange) -> None:
        if not _condition_failed(exc):
            raise exc
        current = self.load(change.customer.key)
        reason = current.skip_reason(change) if current else None
        if reason:
            raise Superseded(reason) from exc
        raise Busy("another worker is applying a change to this customer") from exc

    def _key(self, customer_key: str) -> dict[str, str]:
        return {"vendor": self.vendor, "customer_key": customer_key}

    @staticmethod
    def _change_values(change: CustomerChange) -> dict[str, Any]:
        return {":occurred": occurred_us(change.occurred_at), ":change_id": change.change_id}


def _condition_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"
