"""What stands between a vendor's containers and the vendor: its shared health and its shared request rate.

The engine asks ``refusal`` before it claims a customer (an open circuit or a pause turns the records back at
once), and opens ``requests()`` around each connector call site; every HTTP request made inside passes the
hooks (``custsync.transport.http``): the first of a call site may be turned back (``Deferred``: nothing was
sent, no attempt is spent), those after it wait for their token, so a call site is never cut in the middle.
A reply asking to wait (429 or 503 with ``Retry-After``) pauses the vendor for every container; each vendor
call's verdict feeds the shared circuit breaker.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import httpx

from custsync.connector import SendResult
from custsync.deadline import DeadlineExceeded, invocation_remaining
from custsync.errors import Deferred, RetryableError, SyncError
from custsync.rate_limit import RateLimiter, Sleep
from custsync.transport.rest import parse_retry_after
from custsync.vendor_health import Refusal, VendorHealth

THROTTLED = 429
PAUSING_STATUS = frozenset({THROTTLED, 503})


class VendorGuard:
    def __init__(
        self,
        vendor: str,
        health: VendorHealth | None,
        limiter: RateLimiter | None,
        *,
        rate_wait_seconds: float,
        call_timeout_seconds: float,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.vendor = vendor
        self.health = health
        self.limiter = limiter
        self.rate_wait_seconds = rate_wait_seconds
        self.call_timeout_seconds = call_timeout_seconds
        self.sleep = sleep

    def refusal(self) -> Refusal | None:
        """Why no call may go to the vendor now (circuit open, paused), or None."""
        return self.health.refusal() if self.health is not None else None

    def requests(self) -> GuardedRequests:
        """The hooks for one call site's requests (a connector's ``prepare``, ``send`` or ``send_many``)."""
        return GuardedRequests(self)

    def record(self, results: Sequence[SendResult | SyncError]) -> None:
        """One vendor call's verdict, however many customers it carried: a success if any passed, a failure if
        every one failed for a reason worth a retry, none otherwise (no 4xx says anything of health: refused input,
        a locked record, a 429 come from a vendor that is up; a 429's Retry-After pauses every container)."""
        sent = [result for result in results if not _says_nothing_of_health(result)]
        if self.health is None or not sent:
            return
        if any(isinstance(result, SendResult) for result in sent):
            self.health.record_call(succeeded=True)
        elif all(isinstance(result, RetryableError) for result in sent):
            self.health.record_call(succeeded=False)

    def wait_budget(self, first: bool) -> float:
        """How long a request may wait for its token: the first of a call site up to ``rate_wait_seconds`` and
        while a whole call still fits in the invocation; a later one as long as the invocation allows."""
        remaining = invocation_remaining()
        if not first:
            return self.rate_wait_seconds if remaining is None else max(remaining, 0.0)
        if remaining is None:
            return self.rate_wait_seconds
        # One turn of the rate is always worth waiting for: a call longer than what is left is cut to the
        # invocation's end anyway, and refusing it a turn would leave it never called.
        one_turn = 1.0 / self.limiter.per_second if self.limiter is not None else 0.0
        fits = remaining - self.call_timeout_seconds
        return max(min(self.rate_wait_seconds, max(fits, min(one_turn, remaining))), 0.0)


def _says_nothing_of_health(result: SendResult | SyncError) -> bool:
    """Not sent, or answered with a 4xx: a vendor that throttles, or finds one record locked (a status its
    connector declares retryable, such as 409), is up."""
    if isinstance(result, Deferred):
        return True
    return isinstance(result, SyncError) and result.status is not None and 400 <= result.status < 500


class GuardedRequests:
    """``RequestHooks`` for one call site."""

    def __init__(self, guard: VendorGuard) -> None:
        self.guard = guard
        self.made = 0

    def before(self) -> None:
        guard = self.guard
        first, self.made = self.made == 0, self.made + 1
        if first:
            refusal = guard.refusal()
            if refusal is not None:
                raise Deferred(refusal.reason, vendor=guard.vendor, retry_after=refusal.seconds, metric=refusal.metric)
        if guard.limiter is None:
            return
        try:
            wait = guard.limiter.acquire(guard.wait_budget(first), guard.sleep)
        except Exception as exc:  # the count unreadable: hold back, as the limit cannot be known to hold
            if not first:
                raise
            reason = f"{guard.vendor}'s request count is unavailable ({type(exc).__name__}); not called"
            raise Deferred(reason, vendor=guard.vendor, retry_after=1.0, metric="RateLimited") from exc
        if wait is None:
            return
        if not first:
            raise DeadlineExceeded(f"no request of {guard.vendor}'s rate was free within this invocation")
        reason = f"{guard.vendor}'s rate of {guard.limiter.per_second} requests a second is used up; not called"
        raise Deferred(reason, vendor=guard.vendor, retry_after=wait, metric="RateLimited")

    def after(self, response: httpx.Response) -> None:
        health = self.guard.health
        if health is None or response.status_code not in PAUSING_STATUS:
            return
        seconds = parse_retry_after(response)
        if seconds:
            health.record_pause(seconds)
