"""A vendor's request rate, shared by every container: at most ``per_second`` requests start in any second.

Time is cut into windows aligned on the second (``windows_per_second`` of them, each allowing ``per_window``
requests, so that a second's windows allow exactly ``per_second``). One row of the state table counts what
each window granted: a container takes tokens with one conditional ``UpdateItem`` that adds to the count only
while it stays within the window's allowance (``custsync.vendor_rows``), for as many requests as it has
waiting, and hands them out locally until its window ends. A window found full is not asked again, and a
container that keeps finding them full asks every second window, then every fourth, up to once a second: more
containers than the rate keeps busy cost the row a write a second each, not one a window. Unused tokens
lapse with their window, so no window ever grants more.

The slack: windows follow each container's clock (Lambda's are kept by the Amazon Time Sync Service), and a
request granted at the end of a window reaches the vendor a little later. The vendor may therefore count up to
one window's allowance more in one of its seconds (``slack``); a vendor counting whole calendar seconds on a
clock that agrees sees no more than ``per_second``. Waiting is bounded: past its budget a request is not sent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

Clock = Callable[[], float]
Sleep = Callable[[float], None]
MAX_WINDOWS_PER_SECOND = 10


class TokenStore(Protocol):
    def grant(self, window: int, wanted: int, per_window: int) -> int:
        """Take up to ``wanted`` of window ``window``'s ``per_window`` tokens; how many were taken (0: none left)."""
        ...


def windows_per_second(per_second: int) -> int:
    """The most windows (up to ten) a second splits into with a whole number of requests each: a limit of 10 a
    second is a request every tenth of a second, one of 15 three every fifth, one of 7 one every seventh."""
    return max(n for n in range(1, MAX_WINDOWS_PER_SECOND + 1) if per_second % n == 0)


class RateLimiter:
    """One container's share of the vendor's rate: the shared count, and the tokens it holds for this window."""

    def __init__(self, store: TokenStore, per_second: int, *, clock: Clock = time.time) -> None:
        if per_second < 1:
            raise ValueError("a rate limit allows at least one request a second")
        self.store = store
        self.per_second = per_second
        self.windows = windows_per_second(per_second)
        self.per_window = per_second // self.windows
        self.clock = clock
        self._lock = threading.Lock()
        self._held_window = -1
        self._held = 0
        self._next_ask = -1
        self._misses = 0
        self._waiting = 0

    @property
    def slack(self) -> int:
        """How many more than ``per_second`` a vendor may count in one second: one window's allowance."""
        return self.per_window

    def try_take(self, wanted: int = 1) -> float:
        """Take a token now: 0.0, or the seconds until one may be had (the next window). ``wanted``: how many
        requests of this container are waiting, so one grant serves them all."""
        now = self.clock()
        window = int(now * self.windows)
        with self._lock:
            if self._held_window == window and self._held > 0:
                self._held -= 1
                return 0.0
            if window < self._next_ask:
                return self._until(now, self._next_ask)
            granted = self.store.grant(window, min(max(wanted, 1), self.per_window), self.per_window)
            if granted == 0:
                self._misses += 1
                self._next_ask = window + min(2 ** (self._misses - 1), self.windows)
                return self._until(now, self._next_ask)
            self._misses = 0
            self._held_window, self._held = window, granted - 1
            return 0.0

    def acquire(self, budget_seconds: float, sleep: Sleep = time.sleep) -> float | None:
        """Wait up to ``budget_seconds`` for a token: None once taken, else the wait it would still have needed."""
        waited = 0.0
        with self._lock:
            self._waiting += 1
        try:
            while True:
                with self._lock:
                    wanted = self._waiting
                wait = self.try_take(wanted)
                if wait == 0.0:
                    return None
                if waited + wait > budget_seconds:
                    return wait
                sleep(wait)
                waited += wait
        finally:
            with self._lock:
                self._waiting -= 1

    def _until(self, now: float, window: int) -> float:
        return max(window / self.windows - now, 1e-3)
