"""The bounded HTTP client on its own, against hostile servers: the deadline covers the whole call and the cap
the decoded reply, whatever the framing."""

from __future__ import annotations

import gzip
import socket

import httpx
import pytest

from custsync.deadline import DeadlineExceeded, invocation
from custsync.failures import classify
from custsync.transport.http import BoundedHttp, CallLimits, ResponseTooLarge
from hostile_servers import Behaviour, answer, head, hostile, trickle

MiB = 1024 * 1024


def gzip_bomb(decoded_size: int) -> Behaviour:
    body = gzip.compress(b"\0" * decoded_size, compresslevel=9)
    return answer(200, body, "application/json", **{"Content-Encoding": "gzip"})


def endless_chunks(conn: socket.socket) -> None:
    conn.sendall(head(200, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}))
    chunk = b"%x\r\n%s\r\n" % (64 * 1024, b"x" * 64 * 1024)
    while True:
        conn.sendall(chunk)


def test_a_compressed_reply_is_capped_on_its_decoded_size() -> None:
    with hostile(gzip_bomb(50 * MiB)) as server, pytest.raises(ResponseTooLarge):
        BoundedHttp(CallLimits(5.0, MiB)).send("GET", server.url)


def test_an_endless_chunked_reply_is_capped() -> None:
    with hostile(endless_chunks) as server, pytest.raises(ResponseTooLarge) as caught:
        BoundedHttp(CallLimits(5.0, MiB)).send("GET", server.url)
    assert "over the 1048576-byte cap" in classify(caught.value, "v").reason


def test_a_reply_trickled_faster_than_any_read_timeout_is_cut_at_the_calls_deadline() -> None:
    """Each byte arrives well inside a read timeout; only a deadline on the whole call stops it."""
    trickled = trickle(200, b"{}" + b" " * 1000, interval=0.05)
    with hostile(trickled) as server, pytest.raises(httpx.ReadTimeout) as caught:
        BoundedHttp(CallLimits(0.5, MiB)).send("GET", server.url)
    assert trickled.sent <= trickled.most_sent_in(1.0), "the call ran on after its deadline"
    error = classify(caught.value, "v")
    assert error.reason == "v did not answer within the call's deadline (ReadTimeout); the outcome is unknown"
    assert getattr(error, "outcome_unknown", False)


def test_no_call_starts_when_the_invocation_has_no_time_left() -> None:
    with hostile(answer(200, b"{}")) as server, invocation(1.0, margin_seconds=1.0):
        with pytest.raises(DeadlineExceeded) as caught:
            BoundedHttp(CallLimits(5.0, MiB)).send("GET", server.url)
        assert server.requests == 0
    error = classify(caught.value, "v")
    assert error.reason == "v not called: no time is left in this invocation for another vendor call"
    assert not getattr(error, "outcome_unknown", True)


def test_a_refused_connection_is_known_not_to_have_reached_the_vendor() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(httpx.ConnectError) as caught:
        BoundedHttp(CallLimits(1.0, MiB)).send("GET", f"http://127.0.0.1:{port}/")
    error = classify(caught.value, "v")
    assert error.reason.startswith("v unreachable (ConnectError)")
    assert not getattr(error, "outcome_unknown", True)
