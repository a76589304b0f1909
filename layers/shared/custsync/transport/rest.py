"""The REST client every vendor uses: httpx with one set of timeout and error rules.

2xx returns the response; everything else raises the error type the runtime
routes by: 401/403 ``AuthError``, 408/425/429/5xx and network failures
``RetryableError`` (with ``Retry-After`` when sent), other 4xx ``PermanentError``.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from typing import Any

import httpx

from custsync.errors import AuthError, PermanentError, RetryableError, SyncError
from custsync.observability import redact_text

RETRYABLE_STATUS = frozenset({408, 425, 429})
ErrorText = Callable[[httpx.Response], str]


def default_error_text(response: httpx.Response) -> str:
    """The vendor's message from a JSON error body, else the start of the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:500]
    if isinstance(body, dict):
        for key in ("message", "Message", "MESSAGE", "error", "errorMessage"):
            value = body.get(key)
            if isinstance(value, dict):
                value = value.get("message")
            if value:
                return str(value)
    return response.text[:500]


def error_for_status(
    vendor: str, response: httpx.Response, error_text: ErrorText = default_error_text
) -> SyncError | None:
    """The error a non-2xx response means, or None for success."""
    status = response.status_code
    if 200 <= status < 300:
        return None
    reason = f"{vendor} answered HTTP {status}: {redact_text(error_text(response))}"
    if status in (401, 403):
        return AuthError(reason, vendor=vendor, status=status)
    if status in RETRYABLE_STATUS or status >= 500:
        return RetryableError(reason, vendor=vendor, status=status, retry_after=parse_retry_after(response))
    return PermanentError(reason, vendor=vendor, status=status)


def error_for_exception(vendor: str, exc: httpx.HTTPError) -> RetryableError:
    """Timeouts, refused and reset connections: worth another try."""
    kind = type(exc).__name__
    return RetryableError(f"{vendor} unreachable ({kind}): {exc}", vendor=vendor)


def parse_retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    parsed = email.utils.parsedate_to_datetime(value)
    return max(0.0, parsed.timestamp() - time.time()) if parsed else None


class RestClient:
    """One pooled httpx client per vendor and container."""

    def __init__(
        self,
        vendor: str,
        base_url: str,
        *,
        auth: httpx.Auth | tuple[str, str] | None = None,
        timeout: float = 10.0,
        headers: dict[str, str] | None = None,
        error_text: ErrorText = default_error_text,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.vendor = vendor
        self._error_text = error_text
        self._client = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            auth=auth,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            headers=headers,
            transport=transport,
        )

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send one request; return the 2xx response or raise the classified error."""
        try:
            response = self._client.request(method, path.lstrip("/"), **kwargs)
        except httpx.HTTPError as exc:
            raise error_for_exception(self.vendor, exc) from exc
        error = error_for_status(self.vendor, response, self._error_text)
        if error is not None:
            raise error
        return response

    def close(self) -> None:
        self._client.close()
