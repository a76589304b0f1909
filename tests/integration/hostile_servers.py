"""Vendor servers that misbehave as real ones do: real HTTP servers on loopback, scripted byte by byte.

Each request is read (head and ``Content-Length`` body) and answered by a ``Behaviour``: a function
given the connection. They trickle, flood, lie about their content and redirect; a client that gives
up just makes the next write fail, which ends the behaviour quietly.
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Behaviour = Callable[[socket.socket], None]
CHUNK = 64 * 1024


def head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


REASONS = {200: "OK", 302: "Found", 429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway"}


def answer(status: int, body: bytes, content_type: str = "application/json", **extra: str) -> Behaviour:
    """A complete, honest answer."""
    headers = {"Content-Type": content_type, "Content-Length": str(len(body)), **extra}

    def behave(conn: socket.socket) -> None:
        conn.sendall(head(status, headers) + body)

    return behave


class Trickle:
    """The whole answer, status line included, one byte every ``interval`` seconds.

    ``sent`` counts the bytes the client took before it hung up, so a test can bound how long the client
    listened without timing anything itself: see ``most_sent_in``.
    """

    def __init__(self, status: int, body: bytes, interval: float, content_type: str) -> None:
        self.message = head(status, {"Content-Type": content_type, "Content-Length": str(len(body))}) + body
        self.interval = interval
        self.sent = 0

    @property
    def total(self) -> int:
        return len(self.message)

    def most_sent_in(self, seconds: float) -> int:
        """The most bytes a client listening ``seconds`` can have taken. Each byte is followed by a sleep of
        ``interval``, so a slow machine only sends fewer; two more are written before a hung-up client's
        reset is seen."""
        return int(seconds / self.interval) + 2

    def __call__(self, conn: socket.socket) -> None:
        for index in range(len(self.message)):
            conn.sendall(self.message[index : index + 1])
            self.sent = index + 1
            time.sleep(self.interval)


def trickle(status: int, body: bytes, interval: float, content_type: str = "application/json") -> Trickle:
    return Trickle(status, body, interval, content_type)


def flood(status: int, size: int, content_type: str = "application/json", prefix: bytes = b"") -> Behaviour:
    """A body of ``size`` bytes (``prefix`` then filler), sent as fast as the client reads."""
    headers = {"Content-Type": content_type, "Content-Length": str(size)}

    def behave(conn: socket.socket) -> None:
        conn.sendall(head(status, headers) + prefix)
        left = size - len(prefix)
        filler = b"x" * CHUNK
        while left > 0:
            conn.sendall(filler[: min(CHUNK, left)])
            left -= CHUNK

    return behave


def redirect(location: str) -> Behaviour:
    return answer(302, b"", "text/html", Location=location)


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        conn: socket.socket = self.request
        conn.settimeout(30)
        try:
            while _read_request(conn):
                self.server.requests += 1
                self.server.behaviour(conn)
        except OSError:
            return  # the client gave up: that is what these servers are for


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, behaviour: Behaviour) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.behaviour = behaviour
        self.requests = 0


def _read_request(conn: socket.socket) -> bool:
    """Consume one request (head and Content-Length body); False when the client closed."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(CHUNK)
        if not chunk:
            return False
        data += chunk
    header_block, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in header_block.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(CHUNK)
        if not chunk:
            return False
        body += chunk
    return True


class HostileServer:
    def __init__(self, behaviour: Behaviour) -> None:
        self._server = _Server(behaviour)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def requests(self) -> int:
        return self._server.requests

    def start(self) -> HostileServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def hostile(behaviour: Behaviour) -> Iterator[HostileServer]:
    server = HostileServer(behaviour).start()
    try:
        yield server
    finally:
        server.stop()
