"""``custsync preview`` against a stage: the sync API called as IAM wants it (SigV4 for execute-api), its dry run
printed per vendor. The API here is the template's routes in front of the real handlers (devkit/stack/gateway.py)."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from devkit.cli import main
from devkit.stack.gateway import Gateway, Route
from flow import change

VENDORS = ("exsalerate", "centra")


@pytest.fixture
def api(stack: Any, vendor_handler: Any, lambda_context: Any) -> Iterator[tuple[str, list[str]]]:
    """The sync API of two vendors on loopback, and the Authorization header of each call it was given."""
    routes = [Route("PUT", f"/vendors/{vendor}/customers/{{key}}", vendor_handler(vendor)) for vendor in VENDORS]
    gateway = Gateway(routes, lambda_context)
    seen: list[str] = []

    def recording(environ: dict[str, Any], start_response: Any) -> Any:
        seen.append(str(environ.get("HTTP_AUTHORIZATION", "")))
        return gateway(environ, start_response)

    server = make_server("127.0.0.1", 0, recording)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.port}/", seen
    server.shutdown()


def test_preview_signs_its_call_and_prints_each_vendors_request(
    stack: Any, api: tuple[str, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, authorizations = api
    path = tmp_path / "change.json"
    customer = {"key": "PV-1", "first_name": "Ada", "last_name": "Lovelace", "company": "Preview AB"}
    path.write_text(change("pv-1", "2026-11-20T09:00:00Z", customer).model_dump_json(exclude_unset=True))
    argv = [
        "preview",
        "--change",
        str(path),
        "--stage",
        "dev",
        "--api-url",
        url,
        *(argument for vendor in VENDORS for argument in ("--vendor", vendor)),
    ]

    assert main(argv) == 0

    out = capsys.readouterr().out
    sections = {part.split(":", 1)[0]: part for part in out.split("== ")[1:]}
    assert set(sections) == set(VENDORS)
    assert f"PUT {stack.simulator_urls['exsalerate']}/api/Customer\n" in sections["exsalerate"]
    (body,) = [line for line in sections["exsalerate"].splitlines() if line.startswith('{"AssignedToEmail"')]
    assert json.loads(body)["CustomerName"] == "Preview AB"
    assert "<ns0:customers_Update" in sections["centra"]
    assert len(authorizations) == len(VENDORS)
    for header in authorizations:
        assert header.startswith(f"AWS4-HMAC-SHA256 Credential={os.environ['AWS_ACCESS_KEY_ID']}/")
        assert "/eu-west-1/execute-api/aws4_request" in header
    assert stack.simulators["exsalerate"].records == {}, "nothing was sent"
