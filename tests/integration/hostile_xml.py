"""Malformed and entity-bearing requests for the SOAP simulator tests, and a loopback server that
records whether anything tried to fetch an external entity."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SECRET = "TOP-SECRET-FILE-CONTENT-5f3a"


@dataclass
class Bait:
    """A local file and a loopback URL that both hold ``SECRET``; ``hits`` lists the URL's requests."""

    file: Path
    url: str
    hits: list[str] = field(default_factory=list)


@contextmanager
def bait(directory: Path) -> Iterator[Bait]:
    secret_file = directory / "secret.txt"
    secret_file.write_text(SECRET)
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            body = SECRET.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Bait(secret_file, f"http://127.0.0.1:{server.server_port}", hits)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# Each DOCTYPE goes in front of an envelope whose value holds ``&x;``; {file} and {url} come from ``Bait``.
LAUGHS = "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10))
ENTITY_ATTACKS = {
    "internal entity": '<!DOCTYPE Envelope [<!ENTITY x "Ada">]>',
    "a DOCTYPE without declarations": "<!DOCTYPE Envelope>",
    "billion laughs": f'<!DOCTYPE Envelope [<!ENTITY l0 "lol">{LAUGHS}<!ENTITY x "&l9;">]>',
    "quadratic blowup": f'<!DOCTYPE Envelope [<!ENTITY a "{"a" * 50_000}"><!ENTITY x "{"&a;" * 5_000}">]>',
    "external entity, local file": '<!DOCTYPE Envelope [<!ENTITY x SYSTEM "file://{file}">]>',
    "external entity, URL": '<!DOCTYPE Envelope [<!ENTITY x SYSTEM "{url}/entity">]>',
    "external parameter entity": '<!DOCTYPE Envelope [<!ENTITY % p SYSTEM "{url}/dtd"> %p; <!ENTITY x "y">]>',
    "external DTD": '<!DOCTYPE Envelope SYSTEM "{url}/dtd">',
}


def with_doctype(doctype: str, envelope: str, found: Bait) -> str:
    """``envelope`` (without an XML declaration) behind a declaration and ``doctype``."""
    doctype = doctype.replace("{file}", str(found.file)).replace("{url}", found.url)
    return f'<?xml version="1.0" encoding="utf-8"?>{doctype}{envelope}'


def malformed(envelope: str) -> dict[str, bytes]:
    """Requests that are not well-formed XML, made from a well-formed ``envelope`` holding ``Ada``."""
    declared = f'<?xml version="1.0" encoding="utf-8"?>{envelope}'
    return {
        "truncated": envelope[: len(envelope) // 2].encode(),
        "not XML at all": b"CustomerKey=E1&FirstName=Ada",
        "an empty body": b"",
        "two root elements": (envelope + envelope).encode(),
        "a mismatched end tag": envelope.replace("Ada<", "Ada</Oops><").encode(),
        "an undeclared entity": envelope.replace("Ada", "&nope;").encode(),
        "a control character": envelope.replace("Ada", "A\x01da").encode(),
        "Latin-1 bytes declared UTF-8": declared.replace("Ada", "Zoé").encode("latin-1"),
        "an unknown encoding": declared.replace("utf-8", "klingon").encode(),
        "a comment before the XML declaration": ("<!-- first -->" + declared).encode(),
    }
