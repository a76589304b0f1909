"""The REST client every vendor uses: bounded httpx (``transport/http.py``) with one set of error rules.

2xx returns the response; everything else raises the error type the runtime
routes by: 401/403 ``AuthError``, 408/425/429/5xx ``RetryableError`` (with
``Retry-After`` when sent), other 4xx and 3xx (redirects are never followed)
``PermanentError``; network failures, deadlines and oversized replies as
``custsync.transport.errors`` says. A connector declares where its vendor
differs (``StatusRules``): ``RestClient(..., retry_on={409})`` makes a 409 a
retry (its ``Retry-After`` honoured), ``permanent_on={501}`` a 5xx permanent.
401 and 403 stay ``AuthError``: no declaration changes them.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from custsync.errors import AuthError, ConfigurationError, PermanentError, RetryableError, SyncError
from custsync.observability import redact_text
from custsync.transport.dryrun import READ_ONLY
from custsync.transport.errors import CALL_FAILURES, call_error
from custsync.transport.http import DEFAULT_LIMITS, BoundedHttp, CallLimits

RETRYABLE_STATUS = frozenset({408, 425, 429})
AUTH_STATUS = frozenset({401, 403})
# Vendor error text is cut to this before it is redacted and kept as a reason.
ERROR_TEXT_CHARS = 1000
# SQS cannot hide a message longer than this, so no wait can be longer.
MAX_RETRY_AFTER_SECONDS = 12 * 60 * 60
ErrorText = Callable[[httpx.Response], str]


def default_error_text(response: httpx.Response) -> str:
    """The vendor's message from a JSON error body, else the start of the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:ERROR_TEXT_CHARS]
    if isinstance(body, dict):
        for key in ("message", "Message", "MESSAGE", "error", "errorMessage"):
            value = body.get(key)
            if isinstance(value, dict):
                value = value.get("message")
            if value:
                return str(value)
    return response.text[:ERROR_TEXT_CHARS]


@dataclass(frozen=True)
class StatusRules:
    """What a vendor's error statuses mean where it differs from the defaults (4xx permanent, 408/425/429 and 5xx
    retryable, 401/403 ``AuthError``): statuses it declares retryable, and statuses it declares permanent."""

    retry_on: frozenset[int] = frozenset()
    permanent_on: frozenset[int] = frozenset()

    @classmethod
    def declared(cls, vendor: str, retry_on: Iterable[int] = (), permanent_on: Iterable[int] = ()) -> StatusRules:
        """The rules a connector declared; ``ConfigurationError`` naming a status no declaration can move."""
        rules = cls(frozenset(retry_on), frozenset(permanent_on))
        both = sorted(rules.retry_on & rules.permanent_on)
        if both:
            raise ConfigurationError(f"{vendor}: status {both[0]} is declared both retryable and permanent")
        for status in sorted(rules.retry_on | rules.permanent_on):
            if status in AUTH_STATUS:
                raise ConfigurationError(
                    f"{vendor}: status {status} is always an AuthError (the credentials are re-read once)"
                )
            if not 400 <= status <= 599:
                raise ConfigurationError(f"{vendor}: status {status} is no error status (400-599)")
        return rules

    def error(self, vendor: str, status: int, text: str, retry_after: float | None) -> SyncError:
        """The error ``status`` means, its vendor text cut and redacted into the reason."""
        reason = f"{vendor} answered HTTP {status}: {redact_text(text[:ERROR_TEXT_CHARS])}"
        if status in AUTH_STATUS:
            return AuthError(reason, vendor=vendor, status=status)
        retryable = status in RETRYABLE_STATUS or status >= 500
        if status in self.retry_on or (retryable and status not in self.permanent_on):
            return RetryableError(reason, vendor=vendor, status=status, retry_after=retry_after)
        return PermanentError(reason, vendor=vendor, status=status)


DEFAULT_RULES = StatusRules()


def error_for_status_code(vendor: str, status: int, text: str, retry_after: float | None) -> SyncError:
    """The error an HTTP status means by the default rules."""
    return DEFAULT_RULES.error(vendor, status, text, retry_after)


def error_for_status(
    vendor: str,
    response: httpx.Response,
    error_text: ErrorText = default_error_text,
    rules: StatusRules = DEFAULT_RULES,
) -> SyncError | None:
    """The error a non-2xx response means, or None for success."""
    if response.is_success:
        return None
    if response.is_redirect:
        location = response.headers.get("Location", "")[:200]
        text = f"a redirect to {location or 'nowhere'}, not followed: a vendor endpoint must not move"
    else:
        text = error_text(response)
    return rules.error(vendor, response.status_code, text, parse_retry_after(response))


def parse_retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or an HTTP date), capped; None when absent or unreadable."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if moment.tzinfo is None:
            return None
        seconds = max(0.0, moment.timestamp() - time.time())
    return min(seconds, MAX_RETRY_AFTER_SECONDS)


class RestClient:
    """One pooled, bounded httpx client per vendor and container. ``retry_on`` / ``permanent_on``: the statuses
    this vendor means otherwise than the defaults (``StatusRules``); ``error_text``: its error body as a reason."""

    def __init__(
        self,
        vendor: str,
        base_url: str,
        *,
        limits: CallLimits = DEFAULT_LIMITS,
        auth: httpx.Auth | tuple[str, str] | None = None,
        headers: dict[str, str] | None = None,
        error_text: ErrorText = default_error_text,
        retry_on: Iterable[int] = (),
        permanent_on: Iterable[int] = (),
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.vendor = vendor
        self._error_text = error_text
        self.status_rules = StatusRules.declared(vendor, retry_on, permanent_on)
        self.http = BoundedHttp(
            limits, base_url=base_url.rstrip("/") + "/", auth=auth, headers=headers, transport=transport
        )

    def request(self, method: str, path: str, *, read_only: bool = False, **kwargs: Any) -> httpx.Response:
        """Send one request; return the 2xx response or raise the classified error. ``read_only``: it changes
        nothing at the vendor (a POST that fetches a token), so a dry run makes it (``transport/dryrun.py``)."""
        if read_only:
            kwargs["extensions"] = {**kwargs.get("extensions", {}), **READ_ONLY}
        try:
            response = self.http.send(method, path.lstrip("/"), **kwargs)
        except CALL_FAILURES as exc:
            raise call_error(exc, self.vendor) from exc
        error = error_for_status(self.vendor, response, self._error_text, self.status_rules)
        if error is not None:
            raise error
        return response

    def close(self) -> None:
        self.http.close()
