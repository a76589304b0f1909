"""A circuit breaker per vendor and container: after consecutive transient failures the vendor is left
alone for a cool-down, and records go back to the queue at once instead of burning their attempts."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class CircuitBreaker:
    def __init__(self, threshold: int, cooldown_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold = threshold
        self.cooldown_seconds = cooldown_seconds
        self.clock = clock
        self._failures = 0
        self._open_until = 0.0
        self._lock = threading.Lock()

    def open_for(self) -> float:
        """Seconds left of the cool-down; 0 when calls may go out (after it, one failure re-opens it)."""
        with self._lock:
            return max(0.0, self._open_until - self.clock())

    def record(self, *, succeeded: bool) -> None:
        with self._lock:
            if succeeded:
                self._failures, self._open_until = 0, 0.0
                return
            self._failures += 1
            if self._failures >= self.threshold:
                self._open_until = self.clock() + self.cooldown_seconds
