"""Applies one change at one vendor: the ordering, merge and no-op rules around a connector.

``plan`` decides what would be sent (no writes, no vendor writes); ``execute``
claims the customer's row, sends, and commits. The runtime's SQS and API paths
both go through here, so the rules hold the same way for both.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from custsync.connector import Connector, SendResult, SyncContext, VendorRequest
from custsync.errors import AuthError, RetryableError, SyncError
from custsync.failures import classify
from custsync.model import Customer, CustomerChange
from custsync.observability import logger, metrics
from custsync.state import Busy, StateStore, Superseded, SyncState

OutcomeStatus = Literal["applied", "skipped"]
ResultT = TypeVar("ResultT")


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

    def plan(self, change: CustomerChange, state: SyncState | Literal["load"] | None = "load") -> Plan | Outcome:
        """What applying ``change`` would send, or the ``Outcome`` of skipping it."""
        if state == "load":
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
        token = self.claim(plan)
        if isinstance(token, Outcome):
            return token
        try:
            result = self._timed(lambda: self.connector.send(plan.pending, plan.context))
        except Exception:
            self.store.release(token, change.customer.key)
            raise
        return self.finish(plan, token, result)

    def apply_batch(self, changes: Sequence[CustomerChange]) -> dict[str, Outcome | SyncError]:
        """Apply a batch with one ``send_many`` (vendors that take arrays). Keyed by change id.

        Several changes of one customer are coalesced into its latest (merged in order), so
        the customer is sent once; every change of that customer shares the result.
        """
        results: dict[str, Outcome | SyncError] = {}
        claimed: list[tuple[list[CustomerChange], Plan, str]] = []
        for group in _by_customer(changes).values():
            try:
                ready = self._plan_group(group, results)
                if ready is None:
                    continue
                token = self.claim(ready)
            except Exception as exc:
                results.update(dict.fromkeys((c.change_id for c in group), classify(exc, self.vendor)))
                continue
            if isinstance(token, Outcome):
                results.update(dict.fromkeys((c.change_id for c in group), token))
            else:
                claimed.append((group, ready, token))
        sent = self._send_many([plan for _, plan, _ in claimed])
        for (group, plan, token), result in zip(claimed, sent, strict=True):
            outcome: Outcome | SyncError
            if isinstance(result, SyncError):
                self.store.release(token, plan.change.customer.key)
                outcome = result
            else:
                try:
                    outcome = self.finish(plan, token, result)
                except SyncError as exc:
                    outcome = exc
            results.update(dict.fromkeys((c.change_id for c in group), outcome))
            if isinstance(outcome, Outcome):
                for change in group:
                    if change.change_id != plan.change.change_id:
                        results[change.change_id] = self._skipped(
                            change, f"coalesced into change {plan.change.change_id}"
                        )
        return results

    def _plan_group(self, group: list[CustomerChange], results: dict[str, Outcome | SyncError]) -> Plan | None:
        """Drop the group's superseded changes (recording why), coalesce the rest, plan it."""
        state = self.store.load(group[0].customer.key)
        fresh = []
        for change in group:
            reason = state.skip_reason(change) if state else None
            if reason:
                results[change.change_id] = self._skipped(change, reason)
            else:
                fresh.append(change)
        if not fresh:
            return None
        plan = self.plan(coalesce(fresh), state)
        if isinstance(plan, Outcome):
            results.update(dict.fromkeys((c.change_id for c in fresh), plan))
            return None
        return plan

    def _send_many(self, plans: list[Plan]) -> list[SendResult | SyncError]:
        results = self._send_batch(plans)
        refused = [i for i, result in enumerate(results) if isinstance(result, AuthError)]
        if refused:
            logger.warning("vendor refused the credentials; refreshing them once")
            self.connector.refresh_credentials()
            retried = self._send_batch([plans[i] for i in refused])
            for index, result in zip(refused, retried, strict=True):
                results[index] = result
        return results

    def _send_batch(self, plans: list[Plan]) -> list[SendResult | SyncError]:
        """``send_many``; a failure of the call as a whole is every customer's result."""
        if not plans:
            return []
        try:
            return self._timed(lambda: self.connector.send_many([(p.pending, p.context) for p in plans]))
        except Exception as exc:
            return [classify(exc, self.vendor)] * len(plans)

    def claim(self, plan: Plan) -> str | Outcome:
        """Take the customer's lease before calling the vendor; an ``Outcome`` when nothing is to be sent."""
        change = plan.change
        try:
            if not plan.pending.calls:
                self.store.record_unchanged(change, plan.customer, plan.context.ids)
                return self._skipped(change, "no-op: the vendor already has exactly this")
            return self.store.claim(change)
        except Superseded as exc:
            return self._skipped(change, str(exc))
        except Busy as exc:
            raise RetryableError(str(exc), vendor=self.vendor) from exc

    def finish(self, plan: Plan, token: str, result: SendResult) -> Outcome:
        """Record a sent change under its lease."""
        change = plan.change
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

    def _timed(self, call: Callable[[], ResultT]) -> ResultT:
        started = time.perf_counter()
        try:
            return call()
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            metrics.add_metric(name="VendorLatency", unit="Milliseconds", value=elapsed_ms)

    def _skipped(self, change: CustomerChange, reason: str) -> Outcome:
        metrics.add_metric(name="ChangesSkipped", unit="Count", value=1)
        logger.info("change skipped", extra={"outcome": "skipped", "reason": reason})
        return Outcome("skipped", change.change_id, change.customer.key, reason=reason)


def _by_customer(changes: Sequence[CustomerChange]) -> dict[str, list[CustomerChange]]:
    groups: dict[str, list[CustomerChange]] = {}
    for change in changes:
        groups.setdefault(change.customer.key, []).append(change)
    return groups


def coalesce(changes: Sequence[CustomerChange]) -> CustomerChange:
    """One change equal to applying ``changes`` in the order they occurred."""
    ordered = sorted(changes, key=lambda change: change.occurred_at)
    customer = ordered[0].customer
    for change in ordered[1:]:
        customer = change.customer.merged_onto(customer)
    vendor_ids = {name: value for change in ordered for name, value in change.vendor_ids.items()}
    return ordered[-1].model_copy(update={"customer": customer, "vendor_ids": vendor_ids})
