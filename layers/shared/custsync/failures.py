"""The one place that turns any exception into the runtime's vocabulary: retryable or permanent, with a reason.

The transports classify their own failures (``custsync.transport.errors`` for what every call can raise, each
client for its protocol's statuses and faults) and raise a ``SyncError``. The engine and the runtime call
``classify`` for anything that escapes a connector or the state store: a ``SyncError`` as it is, a call's
failure raised outside a transport (a connector reading a reply that is not JSON) as a transport would, and AWS,
secrets and settings here. An exception it does not know is a retryable failure named by its type, logged and
counted, never an escape.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable

from botocore.exceptions import BotoCoreError, ClientError

from custsync.errors import ConfigurationError, NotConfigured, RetryableError, SyncError
from custsync.observability import logger, metrics
from custsync.secrets import SecretUnavailable
from custsync.transport.errors import CALL_FAILURES, call_error, message


def classify(exc: BaseException, vendor: str) -> SyncError:
    """``exc`` as a ``SyncError`` whose reason names the cause."""
    if isinstance(exc, SyncError):
        return exc
    if isinstance(exc, CALL_FAILURES):
        return call_error(exc, vendor)
    for kind, mapper in _MAPPERS:
        if isinstance(exc, kind):
            return mapper(exc, vendor)
    return unexpected(exc, vendor)


def _aws(exc: BaseException, vendor: str) -> SyncError:
    code = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else type(exc).__name__
    return RetryableError(f"AWS call failed ({code}): {message(exc)}", vendor=vendor)


def _not_configured(exc: BaseException, vendor: str) -> SyncError:
    """A setting the connector refuses (a field map naming a field the vendor lacks, say): no retry fixes it."""
    return NotConfigured(str(exc), vendor=vendor)


def _secret_unavailable(exc: BaseException, vendor: str) -> SyncError:
    return RetryableError(f"{vendor} not called: {exc}", vendor=vendor)


def unexpected(exc: BaseException, vendor: str) -> SyncError:
    """An exception nothing expected: retryable, named by its type, logged (frames only, no message) and counted."""
    kind = type(exc).__name__
    reason = f"unexpected {kind} at {vendor}: {message(exc)}"
    metrics.add_metric(name="UnexpectedErrors", unit="Count", value=1)
    frames = "".join(traceback.format_tb(exc.__traceback__)[-5:])
    logger.error("unexpected failure", extra={"error_type": kind, "reason": reason, "frames": frames})
    return RetryableError(reason, vendor=vendor)


_MAPPERS: tuple[
    tuple[type[BaseException] | tuple[type[BaseException], ...], Callable[[BaseException, str], SyncError]], ...
] = (
    ((ClientError, BotoCoreError), _aws),
    (ConfigurationError, _not_configured),
    (SecretUnavailable, _secret_unavailable),
)
