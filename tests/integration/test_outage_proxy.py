"""The chaos run's DynamoDB outage refuses at least one request, however loaded the machine (no clock in it)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from devkit.stack.outage import OutageProxy


class _Ok(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def proxy() -> Iterator[OutageProxy]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    outage = OutageProxy(f"http://127.0.0.1:{server.server_address[1]}").start()
    yield outage
    outage.stop()
    server.shutdown()


def test_an_outage_whose_time_passed_with_no_request_still_refuses_the_next_one(proxy: OutageProxy) -> None:
    proxy.refuse_for(0.0)  # over at once: no request came in its time

    assert httpx.post(proxy.url, content=b"{}").status_code == 503
    assert httpx.post(proxy.url, content=b"{}").status_code == 200
    assert proxy.refused == 1 and not proxy.refusing
