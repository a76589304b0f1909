"""HTTP with bounds: every vendor call ends by its deadline and reads at most a capped reply.

httpx bounds each socket operation, not the call: a server that sends one byte a second keeps a
call alive for ever. Here the connection pool's network backend shrinks every connect, read and
write to what is left of the current call's budget (``custsync.deadline.vendor_call``), so the
whole call (connect, send, headers, body) ends by its deadline; the body is streamed and refused
past ``max_response_bytes``. Redirects are never followed. Every REST, SOAP and XML-RPC call goes
through ``BoundedHttp``, so every request a vendor counts passes ``RequestHooks`` here when the caller opened
``hooked`` around it: the vendor's shared limits (``custsync.vendor_guard``) see each one.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

import httpcore
import httpx

from custsync.deadline import call_remaining, vendor_call
from custsync.transport.dryrun import withhold

DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024
# An error reply is read only this far: its status says what happened, its text is only for the reason.
ERROR_BODY_BYTES = 16 * 1024
# Decoded, a body is counted after decompression; asking for none keeps a compressed bomb out too.
DEFAULT_HEADERS = {"Accept-Encoding": "identity"}
POOL_LIMITS = httpx.Limits(max_connections=10, max_keepalive_connections=5)
_FRAMING = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class RequestHooks(Protocol):
    def before(self) -> None:
        """Before a request goes out; raising keeps it from going out."""
        ...

    def after(self, response: httpx.Response) -> None:
        """After its reply (status and headers) came back."""
        ...


_hooks: ContextVar[RequestHooks | None] = ContextVar("custsync_request_hooks", default=None)


@contextmanager
def hooked(hooks: RequestHooks) -> Iterator[None]:
    """Every request made inside, in this context, passes ``hooks``."""
    token = _hooks.set(hooks)
    try:
        yield
    finally:
        _hooks.reset(token)


class ResponseTooLarge(Exception):
    """The reply was bigger than the cap; it was not read further."""

    def __init__(self, status: int, cap: int) -> None:
        super().__init__(f"the HTTP {status} reply is over the {cap}-byte cap; not read further")
        self.status = status
        self.cap = cap


class UnsafeReply(Exception):
    """An XML reply carrying a DTD (entities, external references): refused unread."""


# The XML declaration, comments and processing instructions that may come before a DOCTYPE.
_DOCTYPE = re.compile(rb"\s*(?:<\?.*?\?>\s*|<!--.*?-->\s*)*<!DOCTYPE", re.DOTALL)
PROLOG_BYTES = 4096


def refuse_dtd(content: bytes) -> None:
    """``UnsafeReply`` when an XML reply carries a DOCTYPE, before any parser sees it: a SOAP message must not
    (SOAP 1.1, section 3), no XML-RPC reply needs one, and a parser would expand its entities."""
    if _DOCTYPE.match(content[:PROLOG_BYTES]):
        raise UnsafeReply("a DOCTYPE in the reply's prolog")


def _bounded(timeout: float | None, expired: type[Exception]) -> float | None:
    """``timeout`` cut to what is left of the current call; ``expired`` when nothing is."""
    remaining = call_remaining()
    if remaining is None:
        return timeout
    if remaining <= 0:
        raise expired("the call's deadline passed")
    return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._backend.connect_tcp(host, port, bounded, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._backend.connect_unix_socket(path, bounded, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class BoundedTransport(httpx.HTTPTransport):
    """httpx's own transport, its connection pool on the deadline backend."""

    def __init__(self, limits: httpx.Limits = POOL_LIMITS) -> None:
        # Not super().__init__(): the pool is what it would build but for the network backend, and
        # building it twice would load the CA bundle twice at cold start.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_DeadlineBackend(),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        withhold(request)  # a dry run (custsync/transport/dryrun.py) records what would change something, unsent
        return super().handle_request(request)


@dataclass(frozen=True)
class CallLimits:
    """A vendor's bounds: the whole call's seconds (never past the invocation's) and the reply's bytes."""

    timeout_seconds: float = 10.0
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES


DEFAULT_LIMITS = CallLimits()


class BoundedHttp:
    """One pooled client per vendor and container; ``send`` returns a fully read, bounded response."""

    def __init__(
        self,
        limits: CallLimits,
        *,
        base_url: str = "",
        auth: httpx.Auth | tuple[str, str] | None = None,
        headers: dict[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.limits = limits
        timeout = limits.timeout_seconds
        self.client = httpx.Client(
            base_url=base_url,
            auth=auth,
            headers={**DEFAULT_HEADERS, **(headers or {})},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            transport=transport or BoundedTransport(),
            follow_redirects=False,
        )

    def send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Raises ``DeadlineExceeded`` (not sent), httpx's errors, or ``ResponseTooLarge``; and what the hooks
        raise to keep a request from going out."""
        hooks = _hooks.get()
        if hooks is not None:
            hooks.before()
        with vendor_call(self.limits.timeout_seconds):
            request = self.client.build_request(method, url, **kwargs)
            streamed = self.client.send(request, stream=True)
            try:
                body = self._read(streamed)
            finally:
                streamed.close()
        headers = [(name, value) for name, value in streamed.headers.multi_items() if name.lower() not in _FRAMING]
        response = httpx.Response(streamed.status_code, headers=headers, content=body, request=request)
        if hooks is not None:
            hooks.after(response)
        return response

    def _read(self, response: httpx.Response) -> bytes:
        """The body up to the cap; an error reply only as far as its reason needs."""
        success = response.is_success
        cap = self.limits.max_response_bytes if success else ERROR_BODY_BYTES
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > cap:
                if success:
                    raise ResponseTooLarge(response.status_code, cap)
                chunks.append(chunk[: cap - (size - len(chunk))])
                break
            chunks.append(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        self.client.close()
