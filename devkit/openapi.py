"""``openapi.yaml``: the OpenAPI document of the webhook and the sync API, made by Powertools' event handler.

The routes' documentation is declared once, in ``custsync.api_docs``; this registers it on a resolver made for the
document alone (see there why) and checks it against the API routes ``template.yaml`` declares: the vendors of
the sync API's ``{vendor}`` are the template's. ``make openapi`` writes the file; tests/unit/test_openapi.py
fails when it is not current.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import yaml
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.models import Tag

from custsync.api_docs import SYNC_API, WEBHOOK
from devkit.inputs import InputError
from devkit.stack.template import Template

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = "openapi.yaml"
_SYNC_PATH = re.compile(r"^/vendors/([a-z0-9-]+)/customers/\{key\}$")
TAGS: list[Tag | str] = [
    Tag(name="webhooks", description="Customer changes pushed by source platforms, verified and queued."),
    Tag(name="sync API", description="Applying one customer at one vendor synchronously (IAM)."),
]


def api_routes(template: Template) -> dict[tuple[str, str], str]:
    """Every API Gateway route the template declares, ``(METHOD, path)``, and the function serving it."""
    routes = {}
    for logical_id, function in template.of_type("AWS::Serverless::Function").items():
        for event in (function["Properties"].get("Events") or {}).values():
            if event["Type"] == "Api":
                routes[(event["Properties"]["Method"].upper(), event["Properties"]["Path"])] = logical_id
    return routes


def sync_api_functions(template: Template) -> dict[str, str]:
    """vendor -> the function serving ``PUT /vendors/<vendor>/customers/{key}``."""
    routes = api_routes(template)
    return {
        match.group(1): logical_id
        for (method, path), logical_id in routes.items()
        if method == "PUT" and (match := _SYNC_PATH.match(path))
    }


def openapi_document(root: Path = ROOT) -> dict[str, Any]:
    template = Template(root / "template.yaml")
    vendors = sorted(sync_api_functions(template))
    documented = {("POST", "/webhooks/{source}")} | {
        ("PUT", f"/vendors/{vendor}/customers/{{key}}") for vendor in vendors
    }
    undocumented = set(api_routes(template)) - documented
    if undocumented:
        raise InputError(
            f"template.yaml declares routes custsync/api_docs.py does not document: {sorted(undocumented)}"
        )

    app = APIGatewayRestResolver()
    for route in (WEBHOOK, SYNC_API):
        app.route(route.path, route.method, **route.options)(route.parameters(vendors))
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    document: dict[str, Any] = json.loads(
        app.get_openapi_json_schema(
            title="customer-sync", version=project["version"], description=project["description"], tags=TAGS
        )
    )
    return _unused_schemas_dropped(document)


def _unused_schemas_dropped(document: dict[str, Any]) -> dict[str, Any]:
    """Without the validation-error schemas Powertools adds to every document, which nothing here refers to."""
    schemas = document["components"]["schemas"]
    while unused := [name for name in schemas if f'"#/components/schemas/{name}"' not in json.dumps(document)]:
        for name in unused:
            del schemas[name]
    return document


def render(document: dict[str, Any]) -> str:
    """YAML with every mapping's keys sorted, so that a change to the document is a small diff."""
    return yaml.safe_dump(document, sort_keys=True, allow_unicode=True, width=120)


def main() -> None:
    (ROOT / DOCUMENT).write_text(render(openapi_document()))
    print(f"wrote {DOCUMENT}")


if __name__ == "__main__":
    main()
