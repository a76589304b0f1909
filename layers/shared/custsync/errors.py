"""The error vocabulary shared by the runtime, the transports and the connectors.

The runtime decides what happens to a record by the type alone:
``RetryableError`` goes back to the queue with backoff, ``PermanentError`` is
parked in the DLQ at once with its reason, ``AuthError`` gets one credential
refresh and is then permanent, ``NotConfigured`` (a secret not set yet) is parked
at once, to be redriven once an operator sets it.
"""

from __future__ import annotations


class SyncError(Exception):
    """Base of every failure the runtime knows how to route."""

    def __init__(self, reason: str, *, vendor: str | None = None, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.vendor = vendor
        self.status = status

    def __str__(self) -> str:
        return self.reason


class RetryableError(SyncError):
    """A failure that may pass on a later try: timeouts, resets, 429, 5xx, SOAP server faults.

    ``outcome_unknown``: the request may have reached the vendor and may still be applied (a timeout
    or a connection lost after sending, an unreadable reply), so it is not known to have failed.
    ``attempts``: the change's real attempts at the vendor so far, this one included; None when this
    was no attempt (a busy lease, a wait for an uncertain call to settle, an open circuit).
    """

    def __init__(
        self,
        reason: str,
        *,
        vendor: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
        outcome_unknown: bool = False,
        attempts: int | None = None,
    ) -> None:
        super().__init__(reason, vendor=vendor, status=status)
        self.retry_after = retry_after
        self.outcome_unknown = outcome_unknown
        self.attempts = attempts


class Deferred(RetryableError):
    """Not sent: the vendor's shared limits turned it back (its circuit is open, it asked every caller to wait, or
    its request rate is used up). Waiting is no attempt: ``attempts`` stays None. ``metric`` names what turned it
    back (``CircuitOpen``, ``VendorPaused``, ``RateLimited``)."""

    def __init__(self, reason: str, *, vendor: str | None = None, retry_after: float, metric: str) -> None:
        super().__init__(reason, vendor=vendor, retry_after=retry_after)
        self.metric = metric


class Incomplete(RetryableError):
    """The merged customer lacks a field the vendor requires: a change carrying it may still come (changes
    arrive in any order), so this is retried like any failure, and parked with this reason when given up."""

    def __init__(self, field: str, *, vendor: str | None = None) -> None:
        super().__init__(f"{field}: is required and no change has carried it yet", vendor=vendor)
        self.field = field


class PermanentError(SyncError):
    """A failure that will fail again the same way: validation, 4xx, SOAP client faults.

    ``attempts``: the change's real attempts at the vendor, this one included, when the vendor's answer was the
    refusal (a 400 parked after one call says 1); None when no call was made (it could not be mapped)."""

    attempts: int | None = None


class AuthError(PermanentError):
    """The vendor refused the credentials or token; the runtime refreshes them once."""


class ValidationFailed(PermanentError):
    """The change cannot be mapped: names the offending field."""

    def __init__(self, field: str, message: str, *, vendor: str | None = None) -> None:
        super().__init__(f"{field}: {message}", vendor=vendor)
        self.field = field


class ConfigurationError(Exception):
    """A setting is missing or wrong; raised at cold start, naming the setting."""


class NotConfigured(PermanentError, ConfigurationError):
    """The vendor cannot be called until an operator sets its secret (or fixes its configuration): every change
    is parked at once with this reason (``not configured: ...``, naming what is missing), to be redriven after."""

    def __init__(self, problem: str, *, vendor: str | None = None) -> None:
        super().__init__(f"not configured: {problem}", vendor=vendor)
