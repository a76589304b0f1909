"""Time budgets: the invocation's (Lambda's remaining time) and each vendor call's, within it.

The runtime opens ``invocation(remaining_seconds)`` around a handler run; a transport opens
``vendor_call(timeout)`` around one call. The call's deadline is the sooner of ``timeout`` from
now and the invocation's end minus a margin (the time the runtime needs to record the outcome),
and ``custsync.transport.http`` enforces it on every socket operation.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# What the runtime keeps back from a call for itself: committing state, changing visibility, parking.
DEFAULT_MARGIN_SECONDS = 3.0

_invocation_ends: ContextVar[float | None] = ContextVar("custsync_invocation_ends", default=None)
_call_ends: ContextVar[float | None] = ContextVar("custsync_call_ends", default=None)


class DeadlineExceeded(Exception):
    """No time is left for the call (it was not started)."""


@contextmanager
def invocation(remaining_seconds: float, margin_seconds: float = DEFAULT_MARGIN_SECONDS) -> Iterator[None]:
    """Calls inside end ``margin_seconds`` before the invocation does."""
    token = _invocation_ends.set(time.monotonic() + remaining_seconds - margin_seconds)
    try:
        yield
    finally:
        _invocation_ends.reset(token)


@contextmanager
def vendor_call(timeout_seconds: float) -> Iterator[float]:
    """A call's budget: yields the seconds it has, and raises ``DeadlineExceeded`` if none."""
    ends = time.monotonic() + timeout_seconds
    invocation_ends = _invocation_ends.get()
    if invocation_ends is not None:
        ends = min(ends, invocation_ends)
    budget = ends - time.monotonic()
    if budget <= 0:
        raise DeadlineExceeded("no time is left in this invocation for another vendor call")
    token = _call_ends.set(ends)
    try:
        yield budget
    finally:
        _call_ends.reset(token)


def call_remaining() -> float | None:
    """Seconds left of the current call's budget (None outside a call)."""
    ends = _call_ends.get()
    return None if ends is None else ends - time.monotonic()


def invocation_remaining() -> float | None:
    """Seconds left before the invocation's margin (None outside an invocation)."""
    ends = _invocation_ends.get()
    return None if ends is None else ends - time.monotonic()
