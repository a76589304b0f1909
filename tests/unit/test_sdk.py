"""``custsync.sdk`` is the connectors' one import surface, and it keeps zeep out of a REST vendor's cold start."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from custsync import connector, sdk

ROOT = Path(__file__).resolve().parents[2]
CONNECTORS = sorted((ROOT / "functions").glob("*/connector.py"))


@pytest.mark.parametrize("name", sdk.__all__)
def test_every_exported_name_resolves_to_the_custsync_original(name: str) -> None:
    value = getattr(sdk, name)
    assert value.__module__.startswith("custsync."), value
    assert getattr(sys.modules[value.__module__], name) is value


def test_importing_the_sdk_and_exigo_over_rest_does_not_load_zeep() -> None:
    # In a fresh interpreter: other tests in this process have imported zeep already.
    script = """
import sys
import custsync.sdk
from custsync.config import VendorSettings
from exigo.connector import ExigoConnector

settings = VendorSettings(vendor="exigo", state_table="t", vendor_secret_name="s", dlq_url="q")
secret = {"base_url": "http://127.0.0.1:9", "api": "rest", "login_name": "l", "password": "p", "company": "c"}
ExigoConnector(settings, lambda force: secret)
print("zeep" in sys.modules)
custsync.sdk.SoapClient
print("zeep" in sys.modules)
"""
    path = os.pathsep.join([str(ROOT / "functions"), str(ROOT / "layers" / "shared")])
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.split() == ["False", "True"], "zeep loads on first use of SoapClient, not before"


@pytest.mark.parametrize("path", CONNECTORS, ids=lambda path: path.parent.name)
def test_a_connector_imports_nothing_of_custsync_but_the_sdk(path: Path) -> None:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    assert {m for m in modules if m.split(".")[0] == "custsync"} == {"custsync.sdk"}


def test_check_xml_text_refuses_exactly_the_characters_xml_cannot_carry() -> None:
    # XML 1.0's Char production (https://www.w3.org/TR/xml/#charsets), every code point checked.
    allowed = [(0x9, 0x9), (0xA, 0xA), (0xD, 0xD), (0x20, 0xD7FF), (0xE000, 0xFFFD), (0x10000, 0x10FFFF)]
    refused = [c for c in range(0x110000) if not any(low <= c <= high for low, high in allowed)]
    text = "".join(map(chr, range(0x110000)))
    found = [ord(match) for match in connector._NOT_XML.findall(text)]
    assert found == refused
    with pytest.raises(sdk.ValidationFailed, match=r"name: holds U\+FFFE, a character XML cannot carry"):
        sdk.check_xml_text({"name": "ok \U0001f600 then \ufffe"}, "centra")
    sdk.check_xml_text({"name": "\t\n\r \ud7ff\ue000\ufffd\U00010000\U0010ffff"}, "centra")
