"""A dry run of a vendor's calls: a request that would change something at the vendor is built to the last byte,
recorded and not sent.

Inside ``capturing()``, the bounded transport every REST, SOAP and XML-RPC call goes through
(``transport/http.py``) hands each request here first. One that only reads (GET, HEAD, or marked
``extensions=READ_ONLY``, as fetching an auth token) is sent as usual; any other is recorded as it would go
on the wire (auth applied, every header, the body) and ``NotSent`` is raised in place of an answer: the call
ends there, with nothing sent. ``NotSent`` is a ``BaseException``, so no connector's ``except Exception``
mistakes it for the vendor failing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import httpx

#: For a request that changes nothing at the vendor (a token, a look-up): a dry run makes it.
READ_ONLY = {"custsync.read_only": True}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class NotSent(BaseException):
    """The request was recorded for a dry run and not sent."""


@dataclass
class Capture:
    requests: list[httpx.Request] = field(default_factory=list)


_capture: ContextVar[Capture | None] = ContextVar("custsync_dry_run", default=None)


@contextmanager
def capturing() -> Iterator[Capture]:
    """Withhold and record every request that would change something, in this thread, until the block ends."""
    capture = Capture()
    token = _capture.set(capture)
    try:
        yield capture
    finally:
        _capture.reset(token)


def withhold(request: httpx.Request) -> None:
    """In a dry run, record ``request`` and raise ``NotSent``, unless it only reads; else nothing."""
    capture = _capture.get()
    if capture is None or request.method in SAFE_METHODS or request.extensions.get("custsync.read_only"):
        return
    request.read()
    capture.requests.append(request)
    raise NotSent(f"{request.method} {request.url}")
