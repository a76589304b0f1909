"""What a failed vendor call means, whatever its protocol: each transport hands the runtime a classified error.

``BoundedHttp.send`` (``transport/http.py``) raises what this module maps: the invocation's deadline before the
call (not called), httpx's network errors (unreachable, or the outcome unknown once the request may have gone
out), an oversized or unsafe reply, and a reply no parser can read. A transport catches ``CALL_FAILURES`` and
raises ``call_error``; what the protocol itself says (a status, a SOAP or XML-RPC fault) each transport maps
beside its client. ``custsync.failures`` classifies the rest (AWS, secrets, settings, anything unexpected).
"""

from __future__ import annotations

import json
from xml.parsers.expat import ExpatError

import httpx

from custsync.deadline import DeadlineExceeded
from custsync.errors import RetryableError, SyncError
from custsync.observability import redact_text
from custsync.transport.http import ResponseTooLarge, UnsafeReply

MESSAGE_CHARS = 300
CALL_FAILURES = (
    DeadlineExceeded,
    httpx.HTTPError,
    ResponseTooLarge,
    UnsafeReply,
    json.JSONDecodeError,
    UnicodeDecodeError,
    ExpatError,
)
CallFailure = (
    DeadlineExceeded
    | httpx.HTTPError
    | ResponseTooLarge
    | UnsafeReply
    | json.JSONDecodeError
    | UnicodeDecodeError
    | ExpatError
)


def call_error(exc: CallFailure, vendor: str) -> SyncError:
    """``exc``, one of ``CALL_FAILURES``, as the error the runtime routes by."""
    if isinstance(exc, DeadlineExceeded):
        return RetryableError(f"{vendor} not called: {exc}", vendor=vendor)
    if isinstance(exc, httpx.HTTPError):
        return network_error(exc, vendor)
    if isinstance(exc, ResponseTooLarge):
        return RetryableError(f"{vendor}: {exc}", vendor=vendor, status=exc.status, outcome_unknown=True)
    if isinstance(exc, UnsafeReply):
        return unsafe_reply(exc, vendor)
    return malformed_reply(exc, vendor)


def message(exc: BaseException) -> str:
    """An exception's text, cut and redacted, for a reason."""
    return redact_text(str(exc)[:MESSAGE_CHARS])


def network_error(exc: httpx.HTTPError, vendor: str) -> SyncError:
    kind = type(exc).__name__
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return RetryableError(f"{vendor} unreachable ({kind}): {message(exc)}", vendor=vendor)
    if isinstance(exc, httpx.TimeoutException):
        return RetryableError(
            f"{vendor} did not answer within the call's deadline ({kind}); the outcome is unknown",
            vendor=vendor,
            outcome_unknown=True,
        )
    return RetryableError(
        f"{vendor} connection failed mid-call ({kind}: {message(exc)}); the outcome is unknown",
        vendor=vendor,
        outcome_unknown=True,
    )


def malformed_reply(exc: BaseException, vendor: str) -> SyncError:
    return RetryableError(
        f"{vendor} sent a malformed reply ({type(exc).__name__}: {message(exc)})", vendor=vendor, outcome_unknown=True
    )


def unsafe_reply(exc: BaseException, vendor: str) -> SyncError:
    return RetryableError(
        f"{vendor} sent an XML reply with a DTD or entities ({exc}); refused unread",
        vendor=vendor,
        outcome_unknown=True,
    )
