"""A vendor's request rate, shared by every container: request slots handed out in turn, ``per_second`` a second.

Slot ``n`` may start at ``n / per_second`` seconds after the Unix epoch. One row of the state table holds the
last slot handed out; a container takes the next ones with one conditional ``UpdateItem`` that adds to it, for
as many requests as it has waiting (``custsync.vendor_rows``), and each request waits for its slot's time. A
slot is handed out once, so no two requests share one, and the slots of any second number ``per_second``.

- Turns are first come, first served across containers: a container never polls for room, it waits for the slot
  it got, and one that finds no slot free within its wait budget is refused at once, with how long the queue
  is (the record goes back with that wait, no attempt spent): more containers than the rate keeps busy cost the
  row one write a refusal.
- After a quiet spell the count restarts at now: what went unused is not made up for with a burst. In any second
  of the containers' clocks (Lambda keeps them with the Amazon Time Sync Service) at most ``per_second`` requests
  start. The slack is outside the limiter: a request reaches the vendor a little after its slot (the network, a
  busy container), so a vendor counting whole seconds may see one or two of a second's last slots in the next.
- A slot taken and not used (its request's container died, say) is not given again: the rate is never exceeded,
  a little of it may go unused.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class SlotStore(Protocol):
    def take_slots(self, floor: int, wanted: int, last: int, *, behind: bool = False) -> tuple[int, int]:
        """Hand out up to ``wanted`` slots after the last handed out, none of them after ``last``; restart the count
        at ``floor`` if it is behind it (``behind``: the caller expects so, which saves a write when right).
        ``(first slot, how many)``; how many is 0 when ``last`` is too near, and the first slot is then the one
        that would have come next."""
        ...


@dataclass(frozen=True)
class Turn:
    """A request's turn: ``granted`` and it may start in ``wait`` seconds; or refused, the queue being ``wait``
    seconds long beyond what it could wait."""

    granted: bool
    wait: float


class RateLimiter:
    """One container's share of the vendor's rate: the shared count, and the slots it took for its requests."""

    def __init__(self, store: SlotStore, per_second: int, *, clock: Clock = time.time) -> None:
        if per_second < 1:
            raise ValueError("a rate limit allows at least one request a second")
        self.store = store
        self.per_second = per_second
        self.clock = clock
        self._lock = threading.Lock()
        self._held: deque[int] = deque()
        self._seen = -1  # the last slot this container was handed, or would have been
        self._waiting = 0

    def turn(self, budget_seconds: float, wanted: int = 1) -> Turn:
        """A slot for one request that may start within ``budget_seconds``; ``wanted``: how many requests of this
        container are waiting, so one write serves them all."""
        now = self.clock()
        at = now * self.per_second
        with self._lock:
            while self._held and self._held[0] < at - 1:
                self._held.popleft()  # a turn missed by more than a slot: used now, it would crowd the next one
            last = math.floor((now + budget_seconds) * self.per_second)
            if self._held:  # slots this container took for requests waiting with this one: the next is its turn
                slot = self._held[0]
                if slot > last:
                    return Turn(False, slot / self.per_second - now)
                return Turn(True, max(self._held.popleft() / self.per_second - now, 0.0))
            floor = math.ceil(at) - 1
            first, count = self.store.take_slots(floor, max(wanted, 1), last, behind=self._seen < floor)
            self._seen = first + count - 1
            if count == 0:
                return Turn(False, max(first / self.per_second - now, 1 / self.per_second))
            self._held.extend(range(first + 1, first + count))
            return Turn(True, max(first / self.per_second - now, 0.0))

    def acquire(self, budget_seconds: float, sleep: Sleep = time.sleep) -> float | None:
        """Wait for a slot within ``budget_seconds``: None once it has come, else how long the queue is."""
        with self._lock:
            self._waiting += 1
            wanted = self._waiting
        try:
            turn = self.turn(budget_seconds, wanted)
        finally:
            with self._lock:
                self._waiting -= 1
        if not turn.granted:
            return turn.wait
        if turn.wait > 0:
            sleep(turn.wait)
        return None
