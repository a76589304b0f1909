"""Applies changes at one vendor: the ordering, merge, no-op, lease and uncertainty rules around a connector.

For one customer: claim the row (the lease, and the row as it was), keep the changes that carry a
field newer than what is held (``custsync.fields``), map the merged customer, send, and commit; a
change with nothing newer is skipped as a duplicate or stale. A call whose outcome is unknown (a
timeout) marks the customer uncertain: nothing goes out for it before ``settle_seconds`` have
passed, and the next send carries the whole record (never a no-op), so a late-landing old call is
overwritten. Attempts are counted per change in the row; a busy lease, a wait, and a record turned
back by the vendor's shared limits (``custsync.vendor_guard``: an open circuit, a pause, its rate used
up) are not attempts. The SQS path, the sync API and batch vendors (one ``send_many``) share it all.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from custsync.connector import Connector, SendResult, SyncContext, VendorRequest
from custsync.errors import AuthError, Deferred, PermanentError, RetryableError, SyncError
from custsync.failures import classify
from custsync.fields import Fields, leaves, version_of
from custsync.model import Customer, CustomerChange
from custsync.observability import logger, metrics
from custsync.state import Busy, Claim, LeaseLost, StateStore, SyncState
from custsync.transport.http import RequestHooks, hooked
from custsync.vendor_guard import VendorGuard

if TYPE_CHECKING:
    import httpx

OutcomeStatus = Literal["applied", "skipped"]
# Why the routing holds a change's customer back from this vendor, or None.
Route = Callable[[CustomerChange, Customer], str | None]
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


@dataclass(frozen=True)
class EngineSettings:
    lease_seconds: float = 90.0
    settle_seconds: float = 120.0
    busy_retry_seconds: float = 5.0


@dataclass
class Plan:
    """What would go out for a customer: the whole mapped request and the calls not already made.

    ``state`` is the row as claimed, ``after`` the row once sent (the merged customer, its field
    versions, the ids known); ``full`` when everything is sent because the customer is uncertain.
    """

    state: SyncState
    after: SyncState
    changes: list[CustomerChange]
    context: SyncContext
    request: VendorRequest
    pending: VendorRequest
    full: bool


class _Replies:
    """``RequestHooks`` counting the replies a call site got (each reply: a request that reached the vendor),
    passing every request on to the vendor's shared limits when there are some."""

    def __init__(self, limits: RequestHooks | None) -> None:
        self.limits = limits
        self.count = 0

    def before(self) -> None:
        if self.limits is not None:
            self.limits.before()

    def after(self, response: httpx.Response) -> None:
        self.count += 1
        if self.limits is not None:
            self.limits.after(response)


@dataclass
class _Ready:
    claim: Claim
    plan: Plan


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
    def __init__(
        self,
        connector: Connector,
        store: StateStore,
        settings: EngineSettings | None = None,
        guard: VendorGuard | None = None,
        clock: Callable[[], float] = time.time,
        route: Route | None = None,
    ) -> None:
        self.connector = connector
        self.store = store
        self.settings = settings or EngineSettings()
        self.guard = guard
        self.clock = clock
        self.route = route
        self.vendor = connector.name

    # -- the two ways in -------------------------------------------------------------------------
    def apply(self, change: CustomerChange) -> Outcome:
        """Apply one change; raises ``SyncError`` when it failed (``RetryableError.attempts`` says how often)."""
        results = self.apply_batch([change])
        result = results[change.change_id]
        if isinstance(result, SyncError):
            raise result
        return result

    def apply_batch(self, changes: Sequence[CustomerChange]) -> dict[str, Outcome | SyncError]:
        """Each change's outcome or error, keyed by change id. The changes of one customer go out as one
        merged send; a batch vendor sends every customer of the batch in one ``send_many``."""
        results: dict[str, Outcome | SyncError] = {}
        ready: list[_Ready] = []
        for group in _by_customer(changes).values():
            try:
                prepared = self._prepare(group, results)
            except Exception as exc:
                error = classify(exc, self.vendor)
                results.update({c.change_id: error for c in group if c.change_id not in results})
                continue
            if prepared is not None:
                ready.append(prepared)
        if ready:
            for prepared, sent in zip(ready, self._send(ready), strict=True):
                results.update(self._finish(prepared, sent))
        return results

    def plan(self, change: CustomerChange) -> Plan | Outcome:
        """What applying ``change`` would send now (no lease, no writes), or why it would be skipped."""
        state = self.store.load(change.customer.key) or SyncState(change.customer.key)
        newer, skipped = self._newer(state, [change])
        if skipped:
            return skipped[0]
        return self._plan(state, newer)

    # -- one customer's group --------------------------------------------------------------------
    def _prepare(self, group: list[CustomerChange], results: dict[str, Outcome | SyncError]) -> _Ready | None:
        """Claim the customer and plan its send; None when every change already has its result."""
        refusal = self.guard.refusal() if self.guard else None
        if refusal is not None:
            metrics.add_metric(name=refusal.metric, unit="Count", value=len(group))
            results.update({c.change_id: self._wait(refusal.reason, refusal.seconds) for c in group})
            return None
        key = group[0].customer.key
        try:
            claim = self.store.claim(key, self.settings.lease_seconds)
        except Busy as busy:
            self._while_busy(group, busy, results)
            return None
        state = claim.state or SyncState(key)
        if claim.expired_lease_until is not None:  # its last holder died, perhaps mid-call
            settle = claim.expired_lease_until + self.settings.settle_seconds
            state = replace(state, uncertain=True, settle_until=max(state.settle_until, settle))
        newer, skipped = self._newer(state, group)
        results.update({outcome.change_id: outcome for outcome in skipped})
        if not newer:
            self.store.release(claim, state if claim.expired_lease_until is not None else None)
            return None
        if self._held_back(claim, state, newer, results):
            return None
        waiting = state.settle_until - self.clock() if state.uncertain else 0.0
        if waiting > 0:
            self.store.release(claim, state)
            reason = f"a call of unknown outcome may still land at {self.vendor}; waiting for it to settle"
            results.update({c.change_id: self._wait(reason, waiting) for c in newer})
            return None
        try:
            plan = self._plan_holding_back(state, newer, results)
        except Exception as exc:
            error = classify(exc, self.vendor)
            self._release_failed(claim, state, newer, error, results)
            return None
        if plan is None:
            self.store.release(claim, state)
            return None
        if not plan.pending.calls:  # nothing to send, partial or full: never a call of no request
            self._commit(claim, plan, plan.after, results, reason="no-op: the vendor already has exactly this")
            return None
        return _Ready(claim, plan)

    def _held_back(
        self, claim: Claim, state: SyncState, newer: list[CustomerChange], results: dict[str, Outcome | SyncError]
    ) -> bool:
        """The routing's conditions, on the customer as merged: one that does not match keeps its fields here,
        unsent, and the customer's next send goes out whole (as after an unknown outcome), when it matches."""
        if self.route is None:
            return False
        fields, ids = self._merged(state, newer)
        customer = fields.customer()
        reason = self.route(newer[-1], customer)
        if reason is None:
            return False
        held = replace(state, customer=customer, versions=fields.versions, ids=ids, uncertain=True)
        change_ids = [c.change_id for c in newer]
        self.store.commit(claim, held.with_applied(change_ids).without_attempts(change_ids))
        results.update({c.change_id: self._skipped(c, f"not routed: {reason}") for c in newer})
        return True

    def _merged(self, state: SyncState, changes: list[CustomerChange]) -> tuple[Fields, dict[str, str]]:
        """The held fields with ``changes`` applied, and the vendor ids known."""
        fields = state.fields()
        ids = dict(state.ids)
        for change in changes:
            fields.apply(change)
            ids.update(ids_for_vendor(self.vendor, change.vendor_ids))
        return fields, ids

    def _newer(self, state: SyncState, group: list[CustomerChange]) -> tuple[list[CustomerChange], list[Outcome]]:
        """The changes carrying a field newer than what is held, and the skipped rest."""
        fields = state.fields()
        newer, skipped = [], []
        for change in sorted(group, key=version_of):
            if change.change_id in state.applied:
                skipped.append(self._skipped(change, f"duplicate: change {change.change_id} was already applied"))
            elif state.erased is not None and version_of(change) <= state.erased:
                skipped.append(self._skipped(change, "erased: the change is older than the customer's erasure"))
            elif not leaves(change.customer):
                skipped.append(self._skipped(change, "empty: the change carries no field but the key"))
            elif not fields.apply(change):
                skipped.append(self._skipped(change, "stale: every field it carries is older than what is held"))
            else:
                newer.append(change)
        return newer, skipped

    def _plan_holding_back(
        self, state: SyncState, newer: list[CustomerChange], results: dict[str, Outcome | SyncError]
    ) -> Plan | None:
        """Plan the merged send. A change that cannot be mapped is found by holding back the newest until
        the rest map: those held back are retried alone, the one that fails alone is refused."""
        changes = list(newer)
        while True:
            try:
                return self._plan_refreshing(state, changes)
            except PermanentError as exc:
                if len(changes) == 1:
                    results[changes[0].change_id] = exc
                    return None
                held = changes.pop()
                reason = "held back: sent with changes of its customer that cannot be mapped; retried alone"
                results[held.change_id] = self._wait(reason, 0.0)

    def _plan_refreshing(self, state: SyncState, changes: list[CustomerChange]) -> Plan:
        generation = self.connector.generation
        try:
            return self._plan(state, changes)
        except AuthError:
            self._refresh(generation)
            return self._plan(state, changes)

    def _plan(self, state: SyncState, changes: list[CustomerChange]) -> Plan:
        fields, ids = self._merged(state, changes)
        customer = fields.customer()
        # While uncertain the vendor may hold anything we sent: send everything, as if it held nothing.
        full = state.uncertain
        previous = None if full else state.customer
        try:
            with self._guarded() as replies:
                context = self.connector.prepare(customer, SyncContext(ids=ids, previous=previous))
        except PermanentError as exc:
            if replies.count:  # the vendor answered a look-up with the refusal: that call was an attempt
                newest = changes[-1].change_id
                exc.attempts = state.with_attempt([newest]).attempts.get(newest)
            raise
        request = self.connector.to_request(customer, context)
        pending = request if full else request.unsent(state.call_hashes)
        after = replace(state, customer=customer, versions=fields.versions, ids=dict(context.ids))
        return Plan(state, after, changes, context, request, pending, full)

    def _while_busy(self, group: list[CustomerChange], busy: Busy, results: dict[str, Outcome | SyncError]) -> None:
        """Another worker holds the customer: what is already superseded is skipped, the rest waits."""
        newer, skipped = self._newer(busy.state or SyncState(group[0].customer.key), group)
        results.update({outcome.change_id: outcome for outcome in skipped})
        wait = min(max(busy.lease_until - self.clock(), 1.0), self.settings.busy_retry_seconds)
        results.update({c.change_id: self._wait(f"busy: {busy}", wait) for c in newer})

    # -- sending ---------------------------------------------------------------------------------
    def _send(self, ready: list[_Ready]) -> list[SendResult | SyncError]:
        """One ``send_many`` for a batch vendor (one ``send`` otherwise); refused credentials are refreshed once."""
        generation = self.connector.generation
        results = self._send_once(ready)
        refused = [i for i, result in enumerate(results) if isinstance(result, AuthError)]
        if refused:
            self._refresh(generation)
            for index, result in zip(refused, self._send_once([ready[i] for i in refused]), strict=True):
                results[index] = result
        if self.guard:  # one call, one verdict: a batch call counts once, however many customers it carried
            self.guard.record(results)
        return results

    def _send_once(self, ready: list[_Ready]) -> list[SendResult | SyncError]:
        plans = [r.plan for r in ready]
        try:
            with self._guarded():
                if len(plans) == 1:
                    return [self._timed(lambda: self.connector.send(plans[0].pending, plans[0].context))]
                return self._timed(lambda: self.connector.send_many([(p.pending, p.context) for p in plans]))
        except Exception as exc:
            return [classify(exc, self.vendor)] * len(plans)

    @contextmanager
    def _guarded(self) -> Iterator[_Replies]:
        """The vendor's shared limits see every request of one call site (``custsync.vendor_guard``); its replies
        are counted."""
        replies = _Replies(self.guard.requests() if self.guard else None)
        with hooked(replies):
            yield replies

    def _refresh(self, generation: int) -> None:
        logger.warning("vendor refused the credentials; refreshing them once")
        self.connector.refresh_credentials(generation)

    def _finish(self, ready: _Ready, sent: SendResult | SyncError) -> dict[str, Outcome | SyncError]:
        claim, plan = ready.claim, ready.plan
        results: dict[str, Outcome | SyncError] = {}
        if isinstance(sent, SyncError):
            self._release_failed(claim, replace(plan.state, ids=dict(plan.context.ids)), plan.changes, sent, results)
            return results
        ids = {**plan.context.ids, **sent.ids}
        # Fingerprint the request as it maps now that the vendor's ids are known, so the same change
        # next time (which will carry those ids) is recognised as a no-op.
        sent_as = plan.request if ids == plan.context.ids else self._remap(plan, ids)
        after = replace(
            plan.after,
            ids=ids,
            call_hashes={**plan.state.call_hashes, **sent_as.fingerprints()},
            uncertain=False,
            settle_until=0.0,
        )
        self._commit(claim, plan, after, results, response=sent.response)
        return results

    def _commit(
        self,
        claim: Claim,
        plan: Plan,
        after: SyncState,
        results: dict[str, Outcome | SyncError],
        *,
        reason: str | None = None,
        response: Any = None,
    ) -> None:
        change_ids = [c.change_id for c in plan.changes]
        try:
            self.store.commit(claim, after.with_applied(change_ids).without_attempts(change_ids))
        except LeaseLost as exc:
            # Sent but not recorded: a later send is full (the lease's taker treats the customer as uncertain).
            results.update({c: self._wait(f"{exc}; will be sent again", 0.0) for c in change_ids})
            return
        if reason is not None:
            results.update({c.change_id: self._skipped(c, reason) for c in plan.changes})
            return
        operations = [call.operation for call in plan.pending.calls]
        newest = plan.changes[-1].change_id
        for change in plan.changes:
            together = None if change.change_id == newest else f"sent together with change {newest}"
            results[change.change_id] = self._applied(change, operations, response, together)

    def _release_failed(
        self,
        claim: Claim,
        state: SyncState,
        changes: list[CustomerChange],
        error: SyncError,
        results: dict[str, Outcome | SyncError],
    ) -> None:
        """Give the lease back after a failed attempt, counting it; an unknown outcome makes the customer uncertain.
        A record the vendor's shared limits turned back was not sent: no attempt is counted."""
        change_ids = [c.change_id for c in changes]
        if isinstance(error, Deferred):  # nothing was sent: no attempt
            metrics.add_metric(name=error.metric, unit="Count", value=len(change_ids))
            self.store.release(claim, state)
            results.update({c: self._wait(error.reason, error.retry_after or 0.0) for c in change_ids})
            return
        if isinstance(error, PermanentError):
            self.store.release(claim, state.without_attempts(change_ids))
            counted = state.with_attempt(change_ids).attempts
            for change_id in change_ids:  # the refused call was an attempt too
                refused = copy.copy(error)
                refused.attempts = counted.get(change_id)
                results[change_id] = refused
            return
        assert isinstance(error, RetryableError)
        state = state.with_attempt(change_ids)
        retry_after = error.retry_after
        if error.outcome_unknown:
            settle_until = max(state.settle_until, self.clock() + self.settings.settle_seconds)
            state = replace(state, uncertain=True, settle_until=settle_until)
            retry_after = max(retry_after or 0.0, self.settings.settle_seconds)
        self.store.release(claim, state)
        for change_id in change_ids:
            each = copy.copy(error)  # the same kind of failure, with this change's own count
            each.retry_after, each.attempts = retry_after, state.attempts.get(change_id)
            results[change_id] = each

    def _remap(self, plan: Plan, ids: dict[str, str]) -> VendorRequest:
        context = SyncContext(ids=ids, previous=plan.context.previous, vendor_record=plan.context.vendor_record)
        assert plan.after.customer is not None
        return self.connector.to_request(plan.after.customer, context)

    def _timed(self, call: Callable[[], ResultT]) -> ResultT:
        started = time.perf_counter()
        try:
            return call()
        finally:
            metrics.add_metric(name="VendorLatency", unit="Milliseconds", value=(time.perf_counter() - started) * 1000)

    # -- outcomes --------------------------------------------------------------------------------
    def _wait(self, reason: str, seconds: float) -> RetryableError:
        """A retry that is no attempt: nothing was sent."""
        return RetryableError(reason, vendor=self.vendor, retry_after=seconds)

    def _skipped(self, change: CustomerChange, reason: str) -> Outcome:
        return skipped(change, reason)

    def _applied(self, change: CustomerChange, operations: list[str], response: Any, reason: str | None) -> Outcome:
        metrics.add_metric(name="ChangesApplied", unit="Count", value=1)
        extra = {"outcome": "applied", "operations": operations, **_keys(change)}
        logger.info("change applied", extra=extra if reason is None else {**extra, "reason": reason})
        return Outcome("applied", change.change_id, change.customer.key, reason, operations, response)


def skipped(change: CustomerChange, reason: str) -> Outcome:
    """A change with nothing to do at this vendor: counted, logged with why, and reported as skipped."""
    metrics.add_metric(name="ChangesSkipped", unit="Count", value=1)
    logger.info("change skipped", extra={"outcome": "skipped", "reason": reason, **_keys(change)})
    return Outcome("skipped", change.change_id, change.customer.key, reason=reason)


def _keys(change: CustomerChange) -> dict[str, str]:
    """What ties a log line to its change, whichever record or thread is being handled."""
    return {"change_id": change.change_id, "correlation_id": change.change_id, "customer_key": change.customer.key}


def _by_customer(changes: Sequence[CustomerChange]) -> dict[str, list[CustomerChange]]:
    groups: dict[str, list[CustomerChange]] = {}
    for change in changes:
        groups.setdefault(change.customer.key, []).append(change)
    return groups
