"""The vendor's shared rows in memory, with the DynamoDB store's semantics (each conditional write all or
nothing): for tests of the shared breaker, pause and rate limit, and the simulation at scale
(``devkit/scale``), where every container of the model shares one of these as they share the table."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import replace

from custsync.vendor_health import HealthRow


class InMemoryVendorRows:
    def __init__(self) -> None:
        self.health = HealthRow()
        self.window = -1
        self.used = 0
        self.calls: Counter[str] = Counter()  # DynamoDB requests it stands for, by kind: GetItem, UpdateItem
        self._lock = threading.Lock()

    def read_health(self) -> HealthRow:
        with self._lock:
            self.calls["GetItem"] += 1
            return self.health

    def open_circuit(self, until: float) -> None:
        with self._lock:
            self.calls["UpdateItem"] += 1
            self.health = replace(self.health, open_until=until, probe_owner="", probe_until=0.0)

    def elect_prober(self, owner: str, now: float, lease_until: float) -> bool:
        with self._lock:
            self.calls["UpdateItem"] += 1
            row = self.health
            if not (0 < row.open_until <= now and row.probe_until < now):
                return False
            self.health = replace(row, probe_owner=owner, probe_until=lease_until)
            return True

    def close_circuit(self, owner: str) -> None:
        with self._lock:
            self.calls["UpdateItem"] += 1
            if self.health.probe_owner == owner:
                self.health = replace(self.health, open_until=0.0, probe_owner="", probe_until=0.0)

    def pause(self, until: float) -> None:
        with self._lock:
            self.calls["UpdateItem"] += 1
            if self.health.paused_until < until:
                self.health = replace(self.health, paused_until=until)

    def grant(self, window: int, wanted: int, per_window: int) -> int:
        """As ``DynamoVendorRows.grant``: one write, a second for a new window's first grant."""
        with self._lock:
            self.calls["UpdateItem"] += 1
            if self.window < window:
                self.calls["UpdateItem"] += 1
                self.window, self.used = window, wanted
                return wanted
            if self.window > window or self.used >= per_window:
                return 0
            granted = min(wanted, per_window - self.used)
            if granted < wanted:
                self.calls["UpdateItem"] += 1  # the first ask failed its condition; the smaller one passed
            self.used += granted
            return granted
