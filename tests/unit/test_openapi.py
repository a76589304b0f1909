"""openapi.yaml: current, valid OpenAPI 3.1, and describing the routes the handlers really serve."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml
from openapi_spec_validator import validate

from custsync.config import WebhookSettings
from custsync.engine import SyncEngine
from custsync.fanout import FanOut
from custsync.sync_api import build_api
from custsync.webhook import build_webhook_app
from devkit.openapi import DOCUMENT, ROOT, openapi_document, render, sync_api_functions
from devkit.stack.template import Template
from devkit.vendors import vendor_names


def test_openapi_yaml_is_current() -> None:
    committed = (ROOT / DOCUMENT).read_text()
    assert committed == render(openapi_document()), f"{DOCUMENT} is not current: run `make openapi` and commit it"


def test_it_is_valid_openapi_3_1() -> None:
    document = yaml.safe_load((ROOT / DOCUMENT).read_text())
    assert document["openapi"].startswith("3.1.")
    validate(document)


def test_the_sync_api_documents_every_vendor_the_template_declares() -> None:
    (vendor,) = [
        p
        for p in openapi_document()["paths"]["/vendors/{vendor}/customers/{key}"]["put"]["parameters"]
        if p["name"] == "vendor"
    ]
    assert vendor["schema"]["enum"] == sorted(sync_api_functions(Template(ROOT / "template.yaml")))
    assert vendor["schema"]["enum"] == sorted(vendor_names(ROOT)), "every vendor of vendors.yaml, and only those"


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """Each operation by (method, path with its parameters unnamed), without its parameters and body."""
    return {
        (method, re.sub(r"\{[^}]*\}", "{}", path)): {
            key: value for key, value in operation.items() if key not in ("parameters", "requestBody")
        }
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


def unconnected() -> SyncEngine:
    raise AssertionError("only the routes' docs are read: no engine is needed")


def test_the_handlers_routes_are_the_documented_ones_with_the_same_docs() -> None:
    """The document's routes reach the real routes (the same method and path but for the names of its
    parameters), whose decorators carry the same summary, description, tags, operation id and responses."""
    webhook = build_webhook_app(WebhookSettings(webhook_secret_name="unused", vendor_queues={"v": "q"}), FanOut({}))
    sync_api = build_api("exsalerate", unconnected)
    served = {}
    for app in (webhook, sync_api):
        served.update(operations(json.loads(app.get_openapi_json_schema())))
    assert served == operations(openapi_document())
