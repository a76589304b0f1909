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
        self.slot: int | None = None  # the last request slot handed out
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

    def take_slots(self, floor: int, wanted: int, last: int, *, behind: bool = False) -> tuple[int, int]:
        """As ``DynamoVendorRows.take_slots``: one write when ``behind`` guesses right, a second when it does not or
        fewer slots are left than asked for."""
        with self._lock:
            self.calls["UpdateItem"] += 1
            ask = min(wanted, last - floor)
            if ask < 1:
                return last + 1, 0
            is_behind = self.slot is None or self.slot < floor
            if behind != is_behind:
                self.calls["UpdateItem"] += 1
            if is_behind:
                self.slot = floor + ask
                return floor + 1, ask
            assert self.slot is not None
            if self.slot >= last:
                return self.slot + 1, 0
            if self.slot + ask > last:
                self.calls["UpdateItem"] += 1
                ask = last - self.slot
            self.slot += ask
            return self.slot - ask + 1, ask
