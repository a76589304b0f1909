"""The one place that turns any exception into the runtime's vocabulary: retryable or permanent, with a reason.

Transports call ``classify`` for what their libraries raise; the engine and the runtime call it
for anything else that escapes a connector or the state store. An exception it does not know is
a retryable failure named by its type, logged and counted, never an escape.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable
from xml.parsers.expat import ExpatError

import httpx
from botocore.exceptions import BotoCoreError, ClientError

from custsync.deadline import DeadlineExceeded
from custsync.errors import ConfigurationError, NotConfigured, PermanentError, RetryableError, SyncError
from custsync.observability import logger, metrics, redact_text
from custsync.secrets import SecretUnavailable
from custsync.transport.http import ResponseTooLarge, UnsafeReply

MESSAGE_CHARS = 300


def classify(exc: BaseException, vendor: str) -> SyncError:
    """``exc`` as a ``SyncError`` whose reason names the cause."""
    if isinstance(exc, SyncError):
        return exc
    for kind, mapper in _MAPPERS:
        if isinstance(exc, kind):
            return mapper(exc, vendor)
    if type(exc).__module__.split(".", 1)[0] == "zeep":
        return _zeep(exc, vendor)
    return unexpected(exc, vendor)


def _message(exc: BaseException) -> str:
    return redact_text(str(exc)[:MESSAGE_CHARS])


def _not_called(exc: BaseException, vendor: str) -> SyncError:
    return RetryableError(f"{vendor} not called: {exc}", vendor=vendor)


def _network(exc: BaseException, vendor: str) -> SyncError:
    kind = type(exc).__name__
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return RetryableError(f"{vendor} unreachable ({kind}): {_message(exc)}", vendor=vendor)
    if isinstance(exc, httpx.TimeoutException):
        return RetryableError(
            f"{vendor} did not answer within the call's deadline ({kind}); the outcome is unknown",
            vendor=vendor,
            outcome_unknown=True,
        )
    return RetryableError(
        f"{vendor} connection failed mid-call ({kind}: {_message(exc)}); the outcome is unknown",
        vendor=vendor,
        outcome_unknown=True,
    )


def _too_large(exc: BaseException, vendor: str) -> SyncError:
    assert isinstance(exc, ResponseTooLarge)
    return RetryableError(f"{vendor}: {exc}", vendor=vendor, status=exc.status, outcome_unknown=True)


def _malformed(exc: BaseException, vendor: str) -> SyncError:
    return RetryableError(
        f"{vendor} sent a malformed reply ({type(exc).__name__}: {_message(exc)})", vendor=vendor, outcome_unknown=True
    )


def _aws(exc: BaseException, vendor: str) -> SyncError:
    code = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else type(exc).__name__
    return RetryableError(f"AWS call failed ({code}): {_message(exc)}", vendor=vendor)


def _not_configured(exc: BaseException, vendor: str) -> SyncError:
    """A setting the connector refuses (a field map naming a field the vendor lacks, say): no retry fixes it."""
    return NotConfigured(str(exc), vendor=vendor)


def _secret_unavailable(exc: BaseException, vendor: str) -> SyncError:
    return RetryableError(f"{vendor} not called: {exc}", vendor=vendor)


def _zeep(exc: BaseException, vendor: str) -> SyncError:
    from zeep import exceptions as zeep_errors

    from custsync.transport.rest import error_for_status_code

    if isinstance(exc, zeep_errors.Fault):
        from custsync.transport.soap import fault_error

        return fault_error(vendor, exc)
    if isinstance(exc, zeep_errors.TransportError):
        status = int(exc.status_code or 0)
        if 200 <= status < 300:  # zeep's word for a 2xx it could not parse
            return _malformed(exc, vendor)
        return error_for_status_code(vendor, status, str(exc.message), None)
    if isinstance(exc, zeep_errors.ValidationError):
        return PermanentError(f"{vendor} request does not fit the WSDL: {_message(exc)}", vendor=vendor)
    forbidden = (zeep_errors.DTDForbidden, zeep_errors.EntitiesForbidden, zeep_errors.ExternalReferenceForbidden)
    if isinstance(exc, forbidden):
        return _unsafe(exc, vendor)
    return _malformed(exc, vendor)


def _unsafe(exc: BaseException, vendor: str) -> SyncError:
    return RetryableError(
        f"{vendor} sent an XML reply with a DTD or entities ({exc}); refused unread",
        vendor=vendor,
        outcome_unknown=True,
    )


def unexpected(exc: BaseException, vendor: str) -> SyncError:
    """An exception nothing expected: retryable, named by its type, logged (frames only, no message) and counted."""
    kind = type(exc).__name__
    reason = f"unexpected {kind} at {vendor}: {_message(exc)}"
    metrics.add_metric(name="UnexpectedErrors", unit="Count", value=1)
    frames = "".join(traceback.format_tb(exc.__traceback__)[-5:])
    logger.error("unexpected failure", extra={"error_type": kind, "reason": reason, "frames": frames})
    return RetryableError(reason, vendor=vendor)


_MAPPERS: tuple[
    tuple[type[BaseException] | tuple[type[BaseException], ...], Callable[[BaseException, str], SyncError]], ...
] = (
    (DeadlineExceeded, _not_called),
    (httpx.HTTPError, _network),
    (ResponseTooLarge, _too_large),
    (UnsafeReply, _unsafe),
    ((json.JSONDecodeError, UnicodeDecodeError, ExpatError), _malformed),
    ((ClientError, BotoCoreError), _aws),
    (ConfigurationError, _not_configured),
    (SecretUnavailable, _secret_unavailable),
)
