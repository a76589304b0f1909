"""The vendor's rows that are not customers, in the state table: its health (``#health``: the shared circuit
breaker and pause) and its request slots (``#rate``: the last slot of the shared rate limit handed out).

They live in the vendor's own partition (``vendor`` = its name), so the function's role, limited to its own
partition by ``dynamodb:LeadingKeys``, covers them; their sort keys start with ``#``, which no customer key can
(customer keys are ``[A-Za-z0-9._:-]+``). Every write is an ``UpdateItem``, conditional where two containers
may race; reads are eventually consistent ``GetItem``s (a second's staleness is within what the cache allows
anyway). Nothing here expires: there is one row of each per vendor, updated in place for ever.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError

from custsync import aws
from custsync.vendor_health import HealthRow

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

HEALTH_KEY = "#health"
RATE_KEY = "#rate"
_RATE_NAMES = {"#n": "slot"}
_BEHIND = "attribute_not_exists(#n) OR #n < :floor"
_PROBE_IS_OVER = (
    "open_until > :zero AND open_until <= :now AND (attribute_not_exists(probe_until) OR probe_until < :now)"
)


class DynamoVendorRows:
    """``#health`` and ``#rate`` for one vendor; GetItem and UpdateItem on its own partition, nothing else."""

    def __init__(self, table_name: str, vendor: str, client: DynamoDBClient | None = None) -> None:
        self.table_name = table_name
        self.vendor = vendor
        self.client: DynamoDBClient = client or aws.dynamodb()

    # -- health ------------------------------------------------------------------------------------
    def read_health(self) -> HealthRow:
        item = self.client.get_item(TableName=self.table_name, Key=self._key(HEALTH_KEY)).get("Item") or {}
        return HealthRow(
            open_until=_float(item.get("open_until")),
            probe_owner=str(item.get("probe_owner", {}).get("S", "")),
            probe_until=_float(item.get("probe_until")),
            paused_until=_float(item.get("paused_until")),
        )

    def open_circuit(self, until: float) -> None:
        self._update(HEALTH_KEY, "SET open_until = :until REMOVE probe_owner, probe_until", {":until": _n(until)})

    def elect_prober(self, owner: str, now: float, lease_until: float) -> bool:
        values = {":owner": {"S": owner}, ":lease": _n(lease_until), ":now": _n(now), ":zero": _n(0)}
        return self._update(
            HEALTH_KEY, "SET probe_owner = :owner, probe_until = :lease", values, condition=_PROBE_IS_OVER
        )

    def close_circuit(self, owner: str) -> None:
        values = {":owner": {"S": owner}, ":zero": _n(0)}
        update = "SET open_until = :zero REMOVE probe_owner, probe_until"
        self._update(HEALTH_KEY, update, values, condition="probe_owner = :owner")

    def pause(self, until: float) -> None:
        condition = "attribute_not_exists(paused_until) OR paused_until < :until"
        self._update(HEALTH_KEY, "SET paused_until = :until", {":until": _n(until)}, condition=condition)

    # -- rate ------------------------------------------------------------------------------------
    def take_slots(self, floor: int, wanted: int, last: int, *, behind: bool = False) -> tuple[int, int]:
        """One write: an ADD that keeps the count at most ``last`` while it is current, or (``behind``: the caller
        expects a quiet spell) a SET that restarts it at ``floor``. A second when the guess was wrong, and a
        smaller ask when fewer slots are left before ``last``."""
        ask = min(wanted, last - floor)
        for _ in range(3):
            if ask < 1:
                break
            if behind:
                values = {":floor": _n(floor), ":top": _n(floor + ask)}
                held = self._restart(values)
                if held is None:
                    return floor + 1, ask
                behind = False
            else:
                taken, held = self._add_slots(floor, ask, last)
                if taken is not None:
                    return taken - ask + 1, ask
            if held is None or held < floor:
                behind = True
                continue
            if held >= last:
                return held + 1, 0
            ask = min(ask, last - held)
        return last + 1, 0

    def _restart(self, values: dict[str, Any]) -> int | None:
        """Restart the count if it is behind: None when done, else the last slot handed out (it was not behind)."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=self._key(RATE_KEY),
                UpdateExpression="SET #n = :top",
                ConditionExpression=_BEHIND,
                ExpressionAttributeNames=_RATE_NAMES,
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not _condition_failed(exc):
                raise
            item = cast(dict[str, Any], exc.response).get("Item") or {}
            return int(item["slot"]["N"])
        return None

    def _add_slots(self, floor: int, ask: int, last: int) -> tuple[int | None, int | None]:
        """(the last slot now handed out, None) when taken, else (None, the last one handed out before, if any)."""
        try:
            answer = self.client.update_item(
                TableName=self.table_name,
                Key=self._key(RATE_KEY),
                UpdateExpression="ADD #n :k",
                ConditionExpression="#n >= :floor AND #n <= :most",
                ExpressionAttributeNames=_RATE_NAMES,
                ExpressionAttributeValues={":k": _n(ask), ":floor": _n(floor), ":most": _n(last - ask)},
                ReturnValues="UPDATED_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not _condition_failed(exc):
                raise
            item = cast(dict[str, Any], exc.response).get("Item") or {}
            return None, int(item["slot"]["N"]) if "slot" in item else None
        return int(answer["Attributes"]["slot"]["N"]), None

    # -- plumbing ----------------------------------------------------------------------------------
    def _update(
        self,
        sort_key: str,
        update: str,
        values: dict[str, Any],
        *,
        condition: str | None = None,
        names: dict[str, str] | None = None,
    ) -> bool:
        """One UpdateItem; False when its condition did not hold."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": self._key(sort_key),
            "UpdateExpression": update,
            "ExpressionAttributeValues": values,
        }
        if condition:
            request["ConditionExpression"] = condition
        if names:
            request["ExpressionAttributeNames"] = names
        try:
            self.client.update_item(**request)
        except ClientError as exc:
            if _condition_failed(exc):
                return False
            raise
        return True

    def _key(self, sort_key: str) -> dict[str, Any]:
        return {"vendor": {"S": self.vendor}, "customer_key": {"S": sort_key}}


def _n(value: float) -> dict[str, str]:
    return {"N": repr(round(value, 6))}


def _float(attribute: Any) -> float:
    return float(attribute["N"]) if isinstance(attribute, dict) and "N" in attribute else 0.0


def _condition_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"
