"""Applies one change at one vendor: the ordering, merge and no-op rules around a connector.

``plan`` decides what would be sent (no writes, no vendor writes); ``execute``
claims the customer's row, sends, and commits. The runtime's SQS and API paths
both go through here, so the rules hold the same way for both.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

from custsync.connector import Connector, SendResult, SyncContext, VendorRequest
from custsync.errors import AuthError, RetryableError, SyncError
from custsync.model import Customer, CustomerChange
from custsync.observability import logger, metrics
from custsync.state import Busy, StateStore, Superseded, SyncState

OutcomeStatus = Literal["applied", "skipped"]


@dataclass
class Outcome:
    status: OutcomeStatus
    change_id: str
    customer_key: str
    reason: str | None = None
    operations: list[str] = field(default_factory=list)
    response: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.status,
            "changeId": self.change_id,
            "customerKey": self.customer_key,
            "reason": self.reason,
            "operations": self.operations,
            "response": self.response,
        }


@dataclass
class Plan:
    change: CustomerChange
    customer: Customer
    context: SyncContext
    request: VendorRequest
    pending: VendorRequest
    state: SyncState | None


def ids_for_vendor(vendor: str, vendor_ids: dict[str, str]) -> dict[str, str]:
    """``{"exigo": "7", "exigo.extended_group_id": "2"}`` -> ``{"id": "7", "extended_group_id": "2"}``."""
    ids: dict[str, str] = {}
    for name, value in vendor_ids.items():
        if name == vendor:
            ids["id"] = value
        elif name.startswith(f"{vendor}."):
            ids[name[len(vendor) + 1 :]] = value
    return ids


class SyncEngine:
    def __init__(self, connector: Connector, store: StateStore) -> None:
        self.connector = connector
        self.store = store
        self.vendor = connector.name

    def plan(self, change: CustomerChange) -> Plan | Outcome:
        """What applying ``change`` would send, or the ``Outcome`` of skipping it."""
        state = self.store.load(change.customer.key)
        if state is not None:
            reason = state.skip_reason(change)
            if reason:
                return self._skipped(change, reason)
        previous = state.customer if state else None
        ids = {**(state.ids if state else {}), **ids_for_vendor(self.vendor, change.vendor_ids)}
        customer = change.customer.merged_onto(previous)
        context = self.connector.prepare(customer, SyncContext(ids=ids, previous=previous))
        request = self.connector.to_request(customer, context)
        pending = request.unsent(state.call_hashes if state else {})
        return Plan(change, customer, context, request, pending, state)

    def apply(self, change: CustomerChange) -> Outcome:
        """Apply ``change``: skip it, or send it and record it. Raises ``SyncError`` on failure.

        Refused credentials (on the look-up or the call) are refreshed once and the change
        is tried again; a second refusal is permanent.
        """
        try:
            return self._apply_once(change)
        except AuthError:
            logger.warning("vendor refused the credentials; refreshing them once")
            self.connector.refresh_credentials()
            return self._apply_once(change)

    def _apply_once(self, change: CustomerChange) -> Outcome:
        plan = self.plan(change)
        if isinstance(plan, Outcome):
            return plan
        return self.execute(plan)

    def execute(self, plan: Plan, sent: SendResult | SyncError | None = None) -> Outcome:
        """Claim, send (unless ``sent`` is the result of a batch call already made), commit."""
        change = plan.change
        if not plan.pending.calls:
            try:
                self.store.record_unchanged(change, plan.customer, plan.context.ids)
            except Superseded as exc:
                return self._skipped(change, str(exc))
            except Busy as exc:
                raise RetryableError(str(exc), vendor=self.vendor) from exc
            return self._skipped(change, "no-op: the vendor already has exactly this")
        token = self._claim(change)
        if isinstance(token, Outcome):
            return token
        try:
            result = sent if sent is not None else self._send(plan)
            if isinstance(result, SyncError):
                raise result
        except Exception:
            self.store.release(token, change.customer.key)
            raise
        ids = {**plan.context.ids, **result.ids}
        # Fingerprint the request as it maps now that the vendor's ids are known, so the
        # same change next time (which will carry those ids) is recognised as a no-op.
        sent_as = plan.request if ids == plan.context.ids else self._remap(plan, ids)
        hashes = {**(plan.state.call_hashes if plan.state else {}), **sent_as.fingerprints()}
        try:
            self.store.commit(token, change, plan.customer, hashes, ids)
        except Busy as exc:
            raise RetryableError(str(exc), vendor=self.vendor) from exc
        operations = [call.operation for call in plan.pending.calls]
        metrics.add_metric(name="ChangesApplied", unit="Count", value=1)
        logger.info("change applied", extra={"outcome": "applied", "operations": operations})
        return Outcome(
            "applied", change.change_id, change.customer.key, operations=operations, response=result.response
        )

    def _remap(self, plan: Plan, ids: dict[str, str]) -> VendorRequest:
        context = SyncContext(ids=ids, previous=plan.context.previous, vendor_record=plan.context.vendor_record)
        return self.connector.to_request(plan.customer, context)

    def _claim(self, change: CustomerChange) -> str | Outcome:
        try:
            return self.store.claim(change)
        except Superseded as exc:
            return self._skipped(change, str(exc))
        except Busy as exc:
            raise RetryableError(str(exc), vendor=self.vendor) from exc

    def _send(self, plan: Plan) -> SendResult:
        started = time.perf_counter()
        try:
            return self.connector.send(plan.pending, plan.context)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            metrics.add_metric(name="VendorLatency", unit="Milliseconds", value=elapsed_ms)

    def _skipped(self, change: CustomerChange, reason: str) -> Outcome:
        metrics.add_metric(name="ChangesSkipped", unit="Count", value=1)
        logger.info("change skipped", extra={"outcome": "skipped", "reason": reason})
        return Outcome("skipped", change.change_id, change.customer.key, reason=reason)
