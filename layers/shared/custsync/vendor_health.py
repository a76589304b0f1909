"""A vendor's health as every container of it sees it: one circuit breaker and one pause, held once per vendor.

The state is one row of the state table (``custsync.vendor_rows``): when the circuit is open and until when,
which caller probes the vendor once the cool-down is over, and until when the vendor asked every caller to wait
(a 429 or 503 with ``Retry-After``). Each container reads the row before calling, at most once per
``cache_seconds``, and writes it only when something changes: the healthy path is read-only.

- Consecutive failed calls are counted per container (one call, one verdict: a batch call counts once); the
  container that sees ``threshold`` of them opens the circuit for every container, for ``cooldown_seconds``.
- When the cool-down is over, one caller (a conditional write elects it) probes the vendor; the others keep
  waiting. Its success closes the circuit, its failure opens it again.
- A reply asking to wait pauses the vendor for every container until then.
- The row unreadable (DynamoDB down): the vendor is taken as healthy for this container, for ``cache_seconds``.
  A breaker must not become the outage; the state table's own failures hold the changes back anyway.

Modelled on Powertools' Circuit Breaker utility (read-through cache, fail-open reads, writes only on a state
change, one prober elected by a conditional write); README "Shared vendor limits" says why it is not used as is.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from custsync.observability import logger

Clock = Callable[[], float]


@dataclass(frozen=True)
class HealthRow:
    """The vendor's shared row: 0 in ``open_until`` is a closed circuit; a past one, a cool-down that is over."""

    open_until: float = 0.0
    probe_owner: str = ""
    probe_until: float = 0.0
    paused_until: float = 0.0


class HealthStore(Protocol):
    def read_health(self) -> HealthRow: ...

    def open_circuit(self, until: float) -> None:
        """Open the circuit until ``until`` (whoever probed, probes no more)."""
        ...

    def elect_prober(self, owner: str, now: float, lease_until: float) -> bool:
        """Make ``owner`` the one caller that probes the vendor: only if the cool-down is over and nobody's probe
        lease is live (a conditional write). Whether ``owner`` won."""
        ...

    def close_circuit(self, owner: str) -> None:
        """Close the circuit, if ``owner`` is still the prober."""
        ...

    def pause(self, until: float) -> None:
        """Pause the vendor until ``until``, unless it is already paused longer."""
        ...


@dataclass(frozen=True)
class Refusal:
    """Why nothing may be sent to the vendor now, and for how long: ``metric`` names the cause."""

    metric: str
    seconds: float
    reason: str


class VendorHealth:
    def __init__(
        self,
        store: HealthStore,
        vendor: str,
        *,
        threshold: int,
        cooldown_seconds: float,
        cache_seconds: float,
        clock: Clock = time.time,
    ) -> None:
        self.store = store
        self.vendor = vendor
        self.threshold = threshold
        self.cooldown_seconds = cooldown_seconds
        self.cache_seconds = cache_seconds
        self.clock = clock
        self._container = uuid.uuid4().hex
        self._thread = threading.local()
        self._lock = threading.Lock()
        self._row = HealthRow()
        self._read_at: float | None = None
        self._failures = 0

    # -- before calling ------------------------------------------------------------------------------
    def refusal(self) -> Refusal | None:
        """Why this caller must not call the vendor now, or None: it may (it may be the one probing it)."""
        now = self.clock()
        row = self._current(now)
        if row.paused_until > now:
            wait = row.paused_until - now
            reason = f"{self.vendor} asked every caller to wait; paused for {math.ceil(wait)} s (Retry-After)"
            return Refusal("VendorPaused", wait, reason)
        if row.open_until > now:
            wait = row.open_until - now
            reason = f"{self.vendor} failed repeatedly; not called for {math.ceil(wait)} s (circuit open)"
            return Refusal("CircuitOpen", wait, reason)
        if not row.open_until:
            return None
        me = self._owner()
        if row.probe_owner == me and row.probe_until > now:
            return None
        if not (row.probe_owner and row.probe_until > now) and self._elect(me, now):
            return None
        wait = max(min(self._current(now).probe_until - now, self.cooldown_seconds), 1.0)
        return Refusal("CircuitOpen", wait, f"{self.vendor} is being probed after its cool-down (circuit open)")

    # -- after calling -------------------------------------------------------------------------------
    def record_call(self, succeeded: bool) -> None:
        """One vendor call's verdict: a success closes the circuit this caller probed; ``threshold`` failures in a
        row (in this container) open it for every container."""
        now = self.clock()
        me = self._owner()
        with self._lock:
            probing = self._row.probe_owner == me and self._row.open_until > 0
            if succeeded:
                self._failures = 0
            else:
                self._failures += 1
            trips = not succeeded and (probing or self._failures >= self.threshold)
            if trips:
                self._failures = 0
        if succeeded and probing:
            self._write(lambda: self.store.close_circuit(me), HealthRow(paused_until=self._row.paused_until))
        elif trips:
            until = now + self.cooldown_seconds
            self._write(lambda: self.store.open_circuit(until), replace(self._row, open_until=until, probe_owner=""))
            logger.warning("circuit opened for every container", extra={"vendor": self.vendor, "until": until})

    def record_pause(self, seconds: float) -> None:
        """The vendor asked to wait ``seconds`` (``Retry-After`` on a 429 or 503): every container waits."""
        if seconds <= 0:
            return
        until = self.clock() + seconds
        if until > self._row.paused_until:
            self._write(lambda: self.store.pause(until), replace(self._row, paused_until=until))
            logger.warning("vendor paused for every container", extra={"vendor": self.vendor, "seconds": seconds})

    # -- the row -------------------------------------------------------------------------------------
    def _current(self, now: float) -> HealthRow:
        with self._lock:
            if self._read_at is not None and now - self._read_at < self.cache_seconds:
                return self._row
            try:
                row = self.store.read_health()
            except Exception as exc:  # fail open, as Powertools' breaker does: see the module's docstring
                extra = {"vendor": self.vendor, "error": type(exc).__name__}
                logger.warning("vendor health unreadable; taken as healthy", extra=extra)
                row = HealthRow()
            self._row, self._read_at = row, now
            return row

    def _elect(self, me: str, now: float) -> bool:
        lease_until = now + max(self.cooldown_seconds, 1.0)
        try:
            won = self.store.elect_prober(me, now, lease_until)
        except Exception:
            logger.warning("probe election failed", extra={"vendor": self.vendor})
            return False
        with self._lock:
            self._row = replace(self._row, probe_owner=me if won else "(another caller)", probe_until=lease_until)
        return won

    def _write(self, write: Callable[[], None], cached: HealthRow) -> None:
        """What this container learnt holds here at once; the row carries it to the others."""
        with self._lock:
            self._row = cached
        try:
            write()
        except Exception:
            logger.warning("vendor health not written; other containers will learn it themselves")

    def _owner(self) -> str:
        """This caller: the container and the thread (a batch vendor's one call probes for all its customers)."""
        owner: str | None = getattr(self._thread, "id", None)
        if owner is None:
            owner = self._thread.id = f"{self._container}:{uuid.uuid4().hex[:8]}"
        return owner
