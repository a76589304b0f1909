"""The state store in memory, with the DynamoDB store's semantics (leases, conditional writes):
for unit tests of the engine's rules, and anything else that wants the rules without AWS."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass

from custsync.state import Busy, Claim, Clock, LeaseLost, SyncState


@dataclass
class _Row:
    state: SyncState | None = None
    lease_token: str | None = None
    lease_until: float | None = None


class InMemoryStateStore:
    def __init__(self, clock: Clock = time.time) -> None:
        self.clock = clock
        self.rows: dict[str, _Row] = {}
        self.calls = 0
        self._lock = threading.Lock()

    def load(self, customer_key: str) -> SyncState | None:
        with self._lock:
            self.calls += 1
            row = self.rows.get(customer_key)
            return row.state if row else None

    def claim(self, customer_key: str, lease_seconds: float) -> Claim:
        with self._lock:
            self.calls += 1
            now = self.clock()
            row = self.rows.setdefault(customer_key, _Row())
            if row.lease_until is not None and row.lease_until >= now:
                raise Busy(row.state, row.lease_until)
            expired = row.lease_until if row.lease_token is not None else None
            row.lease_token, row.lease_until = uuid.uuid4().hex, now + lease_seconds
            return Claim(customer_key, row.lease_token, row.state, expired)

    def commit(self, claim: Claim, state: SyncState) -> None:
        with self._lock:
            self.calls += 1
            row = self.rows.get(claim.customer_key)
            if row is None or row.lease_token != claim.token:
                raise LeaseLost("the lease expired before the outcome was recorded")
            row.state, row.lease_token, row.lease_until = state, None, None

    def release(self, claim: Claim, state: SyncState | None = None) -> None:
        with self._lock:
            self.calls += 1
            row = self.rows.get(claim.customer_key)
            if row is None or row.lease_token != claim.token:
                return
            if state is not None:
                row.state = state
            row.lease_token, row.lease_until = None, None

    def hold(self, customer_key: str, until: float) -> None:
        """Another worker's live lease (a test's way to be busy), or one it left behind when it died."""
        with self._lock:
            row = self.rows.setdefault(customer_key, _Row())
            row.lease_token, row.lease_until = "another-worker", until
