"""The sync state per (vendor, customer key), and the store interface the engine uses.

A row holds what the vendor holds (the customer's fields, each with the version of the change
that set it), the recent applied change ids, each pending change's real attempts, a fingerprint
of the last payload sent per vendor operation, the vendor-side ids, and whether a call of
unknown outcome may still land (``uncertain``, no send before ``settle_until``). After an erasure
(``custsync.erasure``) it holds no value, fingerprint or vendor id any more: the field versions, the change
ids and ``erased``, the version of the erasure, which no older change can get past.

A change is applied under a lease: ``claim`` takes it and returns the row as it was (one round
trip), ``commit`` writes the new row and gives the lease back, ``release`` gives it back after a
skip or a failure. A lease that expired without being given back means its holder died, perhaps
mid-call: the claim says so (``expired_lease_until``) and the engine treats the customer as
uncertain. ``DynamoStateStore`` is the deployed store; ``custsync.state_memory`` the in-memory one.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol, cast

from botocore.exceptions import ClientError

from custsync import aws
from custsync.fields import Fields, Version
from custsync.model import Customer

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Enough to tell a redelivery from a stale change; an older redelivery is still skipped, as stale.
APPLIED_KEPT = 20
ATTEMPTS_KEPT = 32
Clock = Callable[[], float]


@dataclass(frozen=True)
class SyncState:
    customer_key: str
    customer: Customer | None = None
    versions: Mapping[str, Version] = field(default_factory=dict)
    applied: tuple[str, ...] = ()
    attempts: Mapping[str, int] = field(default_factory=dict)
    call_hashes: Mapping[str, str] = field(default_factory=dict)
    ids: Mapping[str, str] = field(default_factory=dict)
    uncertain: bool = False
    settle_until: float = 0.0
    erased: Version | None = None

    def fields(self) -> Fields:
        return Fields.of(self.customer, dict(self.versions), self.customer_key)

    def with_attempt(self, change_ids: list[str]) -> SyncState:
        attempts = {**self.attempts, **{c: self.attempts.get(c, 0) + 1 for c in change_ids}}
        return replace(self, attempts=dict(list(attempts.items())[-ATTEMPTS_KEPT:]))

    def without_attempts(self, change_ids: list[str]) -> SyncState:
        return replace(self, attempts={c: n for c, n in self.attempts.items() if c not in change_ids})

    def with_applied(self, change_ids: list[str]) -> SyncState:
        kept = [c for c in self.applied if c not in change_ids]
        return replace(self, applied=tuple([*kept, *change_ids][-APPLIED_KEPT:]))


@dataclass(frozen=True)
class Claim:
    """A lease on one customer's row, and the row as it was when taken."""

    customer_key: str
    token: str
    state: SyncState | None
    expired_lease_until: float | None = None


class Busy(Exception):
    """Another worker holds the customer's lease; ``state`` is the row as it is."""

    def __init__(self, state: SyncState | None, lease_until: float) -> None:
        super().__init__("another worker is applying a change to this customer")
        self.state = state
        self.lease_until = lease_until


class LeaseLost(Exception):
    """The lease expired (and may have been taken) before the outcome was recorded."""


class StateStore(Protocol):
    def load(self, customer_key: str) -> SyncState | None: ...

    def claim(self, customer_key: str, lease_seconds: float) -> Claim:
        """Take the lease; raise ``Busy`` when another worker's lease is live."""
        ...

    def commit(self, claim: Claim, state: SyncState) -> None:
        """Write ``state`` and give the lease back; ``LeaseLost`` if it is no longer ours."""
        ...

    def release(self, claim: Claim, state: SyncState | None = None) -> None:
        """Give the lease back, writing ``state`` when given; a lost lease is ignored."""
        ...


# -- the row as stored: every structured value is one JSON string ---------------------------------------
def state_to_row(state: SyncState) -> dict[str, Any]:
    return {
        "customer": state.customer.model_dump_json(exclude_unset=True) if state.customer else "",
        "versions": json.dumps(state.versions, separators=(",", ":")),
        "applied": json.dumps(state.applied),
        "attempts": json.dumps(state.attempts),
        "call_hashes": json.dumps(state.call_hashes),
        "ids": json.dumps(state.ids),
        "uncertain": state.uncertain,
        "settle_until": state.settle_until,
        **({"erased": json.dumps(state.erased)} if state.erased is not None else {}),
    }


def state_from_row(customer_key: str, row: Mapping[str, Any]) -> SyncState:
    customer = Customer.model_validate_json(row["customer"]) if row.get("customer") else None
    versions = {path: (int(v[0]), str(v[1])) for path, v in _json(row.get("versions"), {}).items()}
    if not versions and customer is not None and row.get("last_occurred_us") is not None:
        # A row written before field-level versions: every held field is as old as the last change.
        held = (int(row["last_occurred_us"]), str(row.get("last_change_id", "")))
        versions = dict.fromkeys(Fields.of(customer, {}, customer_key).values, held)
    return SyncState(
        customer_key=customer_key,
        customer=customer,
        versions=versions,
        applied=tuple(_json(row.get("applied"), [])),
        attempts={str(k): int(v) for k, v in _json(row.get("attempts"), {}).items()},
        call_hashes={str(k): str(v) for k, v in _json(row.get("call_hashes"), {}).items()},
        ids={str(k): str(v) for k, v in _json(row.get("ids"), {}).items()},
        uncertain=bool(row.get("uncertain", False)),
        settle_until=float(row.get("settle_until") or 0.0),
        erased=_version(_json(row.get("erased"), None)),
    )


def _version(value: Any) -> Version | None:
    return (int(value[0]), str(value[1])) if value else None


def _json(value: Any, empty: Any) -> Any:
    if value is None or value == "":
        return empty
    return json.loads(value) if isinstance(value, str) else value


# -- DynamoDB --------------------------------------------------------------------------------------------
_LEASE_FREE = "attribute_not_exists(lease_until) OR lease_until < :now"
_OURS = "lease_token = :token"


class DynamoStateStore:
    """The state table (partition key ``vendor``, sort key ``customer_key``), for one vendor.

    Two round trips per applied change: the claim (a conditional ``UpdateItem`` returning the old
    item, on success or on refusal) and the commit.
    """

    def __init__(
        self, table_name: str, vendor: str, client: DynamoDBClient | None = None, clock: Clock = time.time
    ) -> None:
        self.table_name = table_name
        self.vendor = vendor
        self.client: DynamoDBClient = client or aws.dynamodb()
        self.clock = clock

    def load(self, customer_key: str) -> SyncState | None:
        item = self.client.get_item(TableName=self.table_name, Key=self._key(customer_key), ConsistentRead=True)
        return self._state(customer_key, item.get("Item"))

    def claim(self, customer_key: str, lease_seconds: float) -> Claim:
        token = uuid.uuid4().hex
        now = self.clock()
        try:
            answer = self.client.update_item(
                TableName=self.table_name,
                Key=self._key(customer_key),
                UpdateExpression="SET lease_token = :token, lease_until = :until",
                ConditionExpression=_LEASE_FREE,
                ExpressionAttributeValues={
                    ":token": {"S": token},
                    ":until": _number(now + lease_seconds),
                    ":now": _number(now),
                },
                ReturnValues="ALL_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not _condition_failed(exc):
                raise
            # ReturnValuesOnConditionCheckFailure puts the item as it is beside the error.
            item: Mapping[str, Any] = cast(Mapping[str, Any], exc.response).get("Item") or {}
            raise Busy(self._state(customer_key, item), float(_plain(item).get("lease_until", now))) from exc
        old = answer.get("Attributes")
        expired = _plain(old).get("lease_until") if old and "lease_token" in old else None
        return Claim(customer_key, token, self._state(customer_key, old), float(expired) if expired else None)

    def commit(self, claim: Claim, state: SyncState) -> None:
        try:
            self._write(claim, state)
        except ClientError as exc:
            if _condition_failed(exc):
                raise LeaseLost("the lease expired before the outcome was recorded") from exc
            raise

    def release(self, claim: Claim, state: SyncState | None = None) -> None:
        try:
            self._write(claim, state)
        except ClientError as exc:
            if not _condition_failed(exc):
                raise

    def _write(self, claim: Claim, state: SyncState | None) -> None:
        row = {**state_to_row(state), "updated_at": self.clock()} if state else {}
        sets = ", ".join(f"#{n} = :{n}" for n in row)
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": self._key(claim.customer_key),
            "UpdateExpression": (f"SET {sets} " if sets else "") + "REMOVE lease_token, lease_until",
            "ConditionExpression": _OURS,
            "ExpressionAttributeValues": {":token": {"S": claim.token}, **{f":{n}": _value(v) for n, v in row.items()}},
        }
        if row:
            request["ExpressionAttributeNames"] = {f"#{n}": n for n in row}
        self.client.update_item(**request)

    def _key(self, customer_key: str) -> dict[str, Any]:
        return {"vendor": {"S": self.vendor}, "customer_key": {"S": customer_key}}

    def _state(self, customer_key: str, item: Mapping[str, Any] | None) -> SyncState | None:
        row = _plain(item)
        return state_from_row(customer_key, row) if "customer" in row or "versions" in row else None


def _number(value: float) -> dict[str, str]:
    return {"N": repr(round(value, 6))}


def _value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, float)):
        return _number(value)
    return {"S": str(value)}


def _plain(item: Mapping[str, Any] | None) -> dict[str, Any]:
    """A DynamoDB item as plain values: S, N, BOOL, and the maps of strings older rows hold."""
    plain: dict[str, Any] = {}
    for name, typed in (item or {}).items():
        ((kind, value),) = typed.items()
        if kind == "N":
            plain[name] = float(value)
        elif kind == "M":
            plain[name] = {k: next(iter(v.values())) for k, v in value.items()}
        else:
            plain[name] = value
    return plain


def _condition_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"
